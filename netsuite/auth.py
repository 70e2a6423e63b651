"""The OAuth 2.0 client credentials flow: client assertion, token request, token cache.

The assertion is a JWT that NetSuite checks field by field:

- header ``typ`` = ``JWT``, ``alg`` = ``PS256`` for RSA keys (never RS256: refused since
  1 March 2025) or ``ES256``/``ES384``/``ES512`` matching the EC curve, ``kid`` = the
  Certificate ID NetSuite showed when the certificate was uploaded;
- claims ``iss`` = the Consumer ID, ``scope`` = a JSON array such as
  ``["restlets", "rest_webservices"]``, ``aud`` = the account's real token URL
  (``https://<label>.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token``, even when
  the request goes to a simulator or a proxy), ``iat`` and ``exp`` with ``exp - iat`` under an
  hour (3599 at most here: Oracle's text wants less than 60 minutes, its sample uses 3600).

NetSuite issues no refresh token: a new assertion buys a new one-hour token. Minting one per
call is slow and wasteful, so tokens go through a :class:`TokenCache` the caller supplies (the
dashboard backs it with its cache framework) under a key that changes whenever any credential
or the base URL changes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import jwt

from . import certificates
from .errors import UnexpectedResponseError

DEFAULT_SCOPES = ("restlets", "rest_webservices")
KNOWN_SCOPES = frozenset({"restlets", "rest_webservices", "suite_analytics"})
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 3599


@dataclass(frozen=True)
class Credentials:
    """What a subscription stores to sign in; the private key never shows in ``repr``.

    ``certificate_pem`` is optional: when given, the client checks locally that it is current
    and matches the key, and reports a precise error instead of NetSuite's terse refusal.

    ``key_validated`` says the key passed :func:`netsuite.certificates.load_private_key` when
    it was stored: the client then loads it without cryptography's costly RSA consistency
    check and reuses it across clients of the same process
    (:func:`netsuite.certificates.load_stored_private_key`).
    """

    account_id: str
    consumer_id: str
    certificate_id: str
    private_key_pem: str = field(repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    certificate_pem: str | None = field(default=None, repr=False)
    key_validated: bool = False

    def __post_init__(self) -> None:
        # Pasted values often carry a trailing newline or space that NetSuite would refuse.
        for name in ("account_id", "consumer_id", "certificate_id"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, value.strip())
        object.__setattr__(self, "scopes", tuple(self.scopes))

    def __str__(self) -> str:
        return repr(self)


@dataclass
class AccessToken:
    value: str = field(repr=False)
    expires_at: float
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    token_type: str = "bearer"

    def __str__(self) -> str:
        return repr(self)

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)


@runtime_checkable
class TokenCache(Protocol):
    """Where tokens live between calls; shared by every process when the caller wants that."""

    def get(self, key: str) -> tuple[str, float] | None:
        """``(token, expires_at)`` with ``expires_at`` in epoch seconds, or ``None``."""

    def set(self, key: str, token: str, expires_at: float) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryTokenCache:
    """A process-local :class:`TokenCache`; forgets expired tokens on read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float]] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenCache(entries={len(self._items)})"

    def get(self, key: str) -> tuple[str, float] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[1] <= time.time():
                del self._items[key]
                return None
            return item

    def set(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._items[key] = (token, expires_at)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


def cache_key(credentials: Credentials, *, key_fingerprint: str, base_url: str | None) -> str:
    """A cache key that changes with any credential, the key itself or the base URL.

    Hashed so it fits any cache backend (no spaces, bounded length) and reveals nothing.
    """
    parts = [
        credentials.account_id.upper(),
        credentials.consumer_id,
        credentials.certificate_id,
        key_fingerprint,
        base_url or "",
        ",".join(credentials.scopes),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"netsuite-token:{digest}"


def build_client_assertion(
    credentials: Credentials,
    audience: str,
    *,
    now: float | None = None,
    lifetime: int = 300,
    private_key=None,
) -> str:
    """The signed JWT NetSuite's token endpoint expects (``private_key`` saves a PEM parse).

    ``audience`` is the account's real token URL (:func:`netsuite.accounts.token_audience`).
    """
    if not 1 <= lifetime <= MAX_ASSERTION_LIFETIME:
        raise ValueError("lifetime must be between 1 and 3599 seconds (NetSuite's limit).")
    key = private_key if private_key is not None else certificates.load_private_key(
        credentials.private_key_pem
    )
    algorithm = certificates.describe_key(key).algorithm
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": credentials.consumer_id,
        "scope": list(credentials.scopes),
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
    }
    headers = {"typ": "JWT", "kid": credentials.certificate_id}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def assertion_header_and_claims(assertion: str) -> tuple[dict, dict]:
    """Decode without verifying, to explain a refusal; ``({}, {})`` when undecodable."""
    try:
        return (
            jwt.get_unverified_header(assertion),
            jwt.decode(assertion, options={"verify_signature": False}),
        )
    except jwt.PyJWTError:
        return {}, {}


def parse_token_response(data: object, *, now: float | None = None) -> AccessToken:
    """Read NetSuite's success body; ``expires_in`` comes as a string or a number."""
    value = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise UnexpectedResponseError(
            "NetSuite's token endpoint answered without an access token."
        )
    raw_expiry = data.get("expires_in", 3600)
    try:
        expires_in = float(str(raw_expiry).strip())
    except ValueError:
        raise UnexpectedResponseError(
            "NetSuite's token endpoint answered with an unreadable expires_in."
        ) from None
    if not 0 < expires_in <= 86400:
        raise UnexpectedResponseError(
            "NetSuite's token endpoint answered with an implausible expires_in."
        )
    token_type = str(data.get("token_type", "bearer"))
    if token_type.lower() != "bearer":
        raise UnexpectedResponseError(
            f"NetSuite's token endpoint issued a {token_type!r} token; expected a bearer token."
        )
    scope = data.get("scope")
    if isinstance(scope, str):
        scopes = tuple(s for s in scope.replace(",", " ").split() if s)
    elif isinstance(scope, list):
        scopes = tuple(str(s) for s in scope)
    else:
        scopes = DEFAULT_SCOPES
    issued = time.time() if now is None else now
    return AccessToken(value=value, expires_at=issued + expires_in, scopes=scopes)
