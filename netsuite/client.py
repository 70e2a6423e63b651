"""The NetSuite client: credentials in, typed results or typed errors out.

One client serves one subscription (account + integration + certificate). It owns one
``requests.Session``, fetches tokens through the caller's :class:`~netsuite.auth.TokenCache`,
renews a token a few minutes before it expires or once after a 401, and sends every call through
the caller's concurrency and rate limiters (see :mod:`netsuite.transport`).

Requests only ever go to the hosts derived from the validated account ID, or to the one base URL
the operator set; :meth:`NetSuiteClient.request` refuses any other URL so that neither the
assertion nor the bearer token can be pointed elsewhere.

The API modules it builds (:attr:`NetSuiteClient.records`, ``webhooks``, ``certificates``) see
it only as :class:`netsuite.api.NetSuiteAPI` and never import this module, so the imports
point one way. Whether a call may be repeated after an uncertain failure is the transport's
rule (``idempotent``), see :mod:`netsuite.transport`.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from . import certificates
from .accounts import RECORD_PATH, RESTLET_PATH, AccountUrls
from .auth import (
    ASSERTION_TYPE,
    GRANT_TYPE,
    KNOWN_SCOPES,
    AccessToken,
    Credentials,
    MemoryTokenCache,
    TokenCache,
    assertion_header_and_claims,
    build_client_assertion,
    cache_key,
    parse_token_response,
)
from .errors import (
    UNREADABLE_JSON,
    CertificateRejectedError,
    ConfigurationError,
    UnexpectedResponseError,
    error_for_status,
    error_for_token_response,
    redact,
)
from .records import RecordsAPI
from .restlet import WebhookManager
from .rotation import CertificateRotation
from .transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    CallObserver,
    ConcurrencyLimiter,
    RateLimiter,
    RetryPolicy,
    Transport,
    TransportStats,
    new_session,
)

logger = logging.getLogger("netsuite")

RESTLET_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
PROPERTY_NAME_VALIDATION = "X-NetSuite-PropertyNameValidation"
WRITE_METHODS = frozenset({"PATCH", "POST", "PUT"})
ACCEPTED_ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
_SECRET_FIELD = re.compile(r"token|secret|password|key|guid", re.IGNORECASE)


def _json_answer(response: requests.Response, who: str) -> Any:
    try:
        return response.json()
    except UNREADABLE_JSON:
        raise UnexpectedResponseError(
            f"{who} answered with something that is not JSON.",
            status=response.status_code,
        ) from None


class NetSuiteClient:
    """Talks to one NetSuite account with one integration's credentials."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | None = None,
        token_cache: TokenCache | None = None,
        limiter: ConcurrencyLimiter | None = None,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        user_agent: str = "ipaas-admin",
        session: requests.Session | None = None,
        token_renew_margin: float = 300.0,
        assertion_lifetime: int = 300,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        observer: CallObserver | None = None,
    ) -> None:
        """``deadline`` bounds each call in total, retries included (default: connect timeout
        plus twice the read timeout); ``max_response_bytes`` refuses larger answers;
        ``observer`` hears of every call, token requests included (``netsuite.transport``)."""
        if not isinstance(credentials, Credentials):
            raise ConfigurationError("credentials must be a netsuite.auth.Credentials.")
        # Validated before anything else: the account ID chooses where secrets are sent.
        self.urls = AccountUrls(credentials.account_id, base_url)
        for label, value in (
            ("Consumer ID", credentials.consumer_id),
            ("Certificate ID", credentials.certificate_id),
        ):
            if not value or not isinstance(value, str) or any(c.isspace() for c in value):
                raise ConfigurationError(
                    f"The {label} is missing or contains spaces; copy it again from NetSuite."
                )
        unknown = set(credentials.scopes) - KNOWN_SCOPES
        if unknown or not credentials.scopes:
            raise ConfigurationError(
                "Scopes must be chosen from restlets, rest_webservices and suite_analytics."
            )
        if not credentials.private_key_pem:
            raise ConfigurationError("The Certificate Private Key is missing.")
        self.credentials = credentials
        self.token_cache: TokenCache = token_cache if token_cache is not None else (
            MemoryTokenCache()
        )
        self.token_renew_margin = token_renew_margin
        self.assertion_lifetime = assertion_lifetime
        self.stats = TransportStats()
        self.transport = Transport(
            session=session or new_session(user_agent),
            limiter=limiter,
            rate_limiter=rate_limiter,
            retry=retry,
            timeout=timeout,
            user_agent=user_agent,
            stats=self.stats,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            observer=observer,
        )
        self._token_lock = threading.Lock()
        self._key = None
        self._key_info: certificates.KeyInfo | None = None
        self._cache_key: str | None = None
        self._records: RecordsAPI | None = None
        self._webhooks: WebhookManager | None = None
        self._certificates: CertificateRotation | None = None

    def __repr__(self) -> str:
        return (
            f"NetSuiteClient(account_id={self.urls.account_id!r}, "
            f"base_url={self.urls.base_url!r})"
        )

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- credentials -------------------------------------------------------------------

    @property
    def private_key(self):
        if self._key is None:
            if self.credentials.key_validated:
                # Checked in full when it was stored: skip the ~150 ms RSA consistency check,
                # and load it once per process.
                self._key = certificates.load_stored_private_key(
                    self.credentials.private_key_pem
                )
            else:
                self._key = certificates.load_private_key(self.credentials.private_key_pem)
            self._key_info = certificates.describe_key(self._key)
        return self._key

    @property
    def key_info(self) -> certificates.KeyInfo:
        _ = self.private_key
        assert self._key_info is not None
        return self._key_info

    @property
    def token_cache_key(self) -> str:
        if self._cache_key is None:
            self._cache_key = cache_key(
                self.credentials,
                key_fingerprint=self.key_info.fingerprint,
                base_url=self.urls.base_url,
            )
        return self._cache_key

    def check_certificate(self, now=None) -> None:
        """Refuse locally what NetSuite would refuse tersely, when the certificate is known."""
        if not self.credentials.certificate_pem:
            return
        cert = certificates.load_certificate(self.credentials.certificate_pem)
        try:
            certificates.check_certificate_current(cert, now)
            certificates.check_key_matches_certificate(self.private_key, cert)
        except certificates.CertificateExpiredError as exc:
            raise CertificateRejectedError(
                exc.message, code="CERTIFICATE_EXPIRED"
            ) from None
        except certificates.KeyCertificateMismatchError as exc:
            raise CertificateRejectedError(
                exc.message, code="KEY_CERTIFICATE_MISMATCH"
            ) from None

    def build_assertion(self, *, now: float | None = None) -> str:
        return build_client_assertion(
            self.credentials,
            self.urls.audience,
            now=now,
            lifetime=self.assertion_lifetime,
            private_key=self.private_key,
        )

    # -- tokens ------------------------------------------------------------------------

    def _fresh_cached_token(self) -> AccessToken | None:
        item = self.token_cache.get(self.token_cache_key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at - time.time() <= self.token_renew_margin:
            return None
        return AccessToken(value=value, expires_at=expires_at, scopes=self.credentials.scopes)

    def fetch_token(self, force: bool = False, *, assertion: str | None = None) -> AccessToken:
        """A valid token: the cached one unless it is close to expiry or ``force`` is set.

        ``force`` mints a fresh token on purpose (the dashboard's "test connection") and
        stores it. Only one thread of this client asks NetSuite at a time. ``assertion`` is
        one :meth:`build_assertion` made and never sent (the test's own signing step), traded
        instead of signing another.
        """
        if not force:
            token = self._fresh_cached_token()
            if token is not None:
                return token
        with self._token_lock:
            if not force:
                token = self._fresh_cached_token()
                if token is not None:
                    return token
            self.check_certificate()
            token = self.exchange_assertion(assertion or self.build_assertion())
            self.token_cache.set(self.token_cache_key, token.value, token.expires_at)
            return token

    def _renew_after_401(self, refused: AccessToken) -> AccessToken:
        with self._token_lock:
            token = self._fresh_cached_token()
            if token is not None and token.value != refused.value:
                # Another thread already replaced the refused token.
                return token
            self.token_cache.delete(self.token_cache_key)
            self.stats.add("token_renewals_after_401")
            token = self.exchange_assertion(self.build_assertion())
            self.token_cache.set(self.token_cache_key, token.value, token.expires_at)
            return token

    def exchange_assertion(self, assertion: str) -> AccessToken:
        """Trade a client assertion for an access token; refusals become typed errors."""
        self.stats.add("token_requests")
        response = self.transport.send(
            "POST",
            self.urls.token_url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            data={
                "grant_type": GRANT_TYPE,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            governed=False,
            # Repeating it only mints another token; NetSuite stores nothing twice.
            idempotent=True,
        )
        if response.status_code != 200:
            error = error_for_token_response(
                response.status_code,
                redact(response.text, [assertion, self.credentials.private_key_pem]) or "",
                likely_first=self.diagnose_assertion(assertion),
                location=response.headers.get("Location"),
            )
            logger.warning(
                "netsuite token request for account %s refused: HTTP %s %s",
                self.urls.account_id, response.status_code, error.code,
            )
            raise error
        data = _json_answer(response, "NetSuite's token endpoint")
        token = parse_token_response(data)
        if not isinstance(data.get("scope"), str | list):
            token.scopes = self.credentials.scopes
        logger.info(
            "netsuite token issued for account %s, valid %.0fs",
            self.urls.account_id, token.seconds_left(),
        )
        return token

    def diagnose_assertion(self, assertion: str, now: float | None = None) -> list[str]:
        """Causes of a refusal that can be seen locally, most certain first."""
        header, claims = assertion_header_and_claims(assertion)
        if not header:
            return ["the client assertion is not a well-formed JWT"]
        found = []
        now = time.time() if now is None else now
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            found.append(
                f"the assertion is signed with {alg}, which NetSuite refuses (RS256 has been "
                "refused since 1 March 2025; RSA keys must sign with PS256)"
            )
        if header.get("kid") != self.credentials.certificate_id:
            found.append("the assertion's kid is not this subscription's Certificate ID")
        if claims.get("iss") != self.credentials.consumer_id:
            found.append("the assertion's iss is not this subscription's Consumer ID")
        if claims.get("aud") != self.urls.audience:
            found.append(
                f"the assertion's aud must be NetSuite's token URL {self.urls.audience}, not "
                f"{claims.get('aud')}"
            )
        iat, exp = claims.get("iat"), claims.get("exp")
        if isinstance(iat, int | float) and isinstance(exp, int | float):
            if exp - iat > 3600:
                found.append("the assertion lives longer than an hour (exp - iat over 3600)")
            if exp <= now:
                found.append("the assertion had already expired when it was sent")
        if self.credentials.certificate_pem:
            try:
                self.check_certificate()
            except CertificateRejectedError as exc:
                found.append(exc.message.rstrip("."))
            except certificates.CertificateError:
                pass
        return found

    # -- calls -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
        renew_on_401: bool = True,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """One authenticated call with retries; raises a typed error for any non-2xx answer.

        ``renew_on_401=False`` takes a 401 as the answer (governanceLimits uses a 401 to say
        "not for this role", where minting a new token would only repeat the refusal).
        ``idempotent`` is the transport's (default: every method but POST): a request that is
        not is never repeated once NetSuite may have done it.
        """
        if not self.urls.owns(url):
            raise ConfigurationError(
                "Refusing to send NetSuite credentials to a host that is not this account's."
            )
        token = self.fetch_token()
        current = {"token": token}
        extra = {**self._protocol_headers(method, url), **(headers or {})}

        def call_headers() -> dict[str, str]:
            return {**extra, "Authorization": f"Bearer {current['token'].value}"}

        kwargs: dict[str, Any] = {"params": params, "idempotent": idempotent}
        if json is not None:
            kwargs["data"] = jsonlib.dumps(json)
            extra.setdefault("Content-Type", "application/json")
        response = self.transport.send(method, url, headers=call_headers, **kwargs)
        if response.status_code == 401 and renew_on_401:
            current["token"] = self._renew_after_401(token)
            response = self.transport.send(method, url, headers=call_headers, **kwargs)
        if not 200 <= response.status_code < 300:
            # A 3xx is no success either: a redirected write did not happen.
            secrets = [current["token"].value, token.value, *self._secret_values(json)]
            error = error_for_status(
                response.status_code,
                response.text,
                secrets=secrets,
                location=response.headers.get("Location"),
            )
            logger.warning(
                "netsuite %s %s failed: HTTP %s %s",
                method, urlsplit(url).path, response.status_code, error.code,
            )
            raise error
        return response

    def _protocol_headers(self, method: str, url: str) -> dict[str, str]:
        """Headers NetSuite needs to behave strictly, decided by where the call goes."""
        path = urlsplit(url).path
        if path == RESTLET_PATH:
            # Without a request content type a RESTlet answers plain text, and a script that
            # returns an object then fails with INVALID_RETURN_DATA_FORMAT: GET and DELETE too.
            return dict(RESTLET_HEADERS)
        if method.upper() in WRITE_METHODS and path.startswith(RECORD_PATH + "/"):
            # By default NetSuite drops an unknown (misspelled) field with only a warning.
            return {PROPERTY_NAME_VALIDATION: "Error"}
        return {}

    @staticmethod
    def _secret_values(body: Any) -> list[str]:
        if not isinstance(body, dict):
            return []
        return [v for k, v in body.items() if isinstance(v, str) and _SECRET_FIELD.search(k)]

    def request_json(self, method: str, url: str, **kwargs) -> Any:
        response = self.request(method, url, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return _json_answer(response, "NetSuite")

    # -- APIs --------------------------------------------------------------------------

    @property
    def records(self) -> RecordsAPI:
        if self._records is None:
            self._records = RecordsAPI(self)
        return self._records

    @property
    def webhooks(self) -> WebhookManager:
        if self._webhooks is None:
            self._webhooks = WebhookManager(self)
        return self._webhooks

    @property
    def certificates(self) -> CertificateRotation:
        """The certificate rotation endpoint (list, upload, revoke)."""
        if self._certificates is None:
            self._certificates = CertificateRotation(self)
        return self._certificates
