"""Typed failures of the NetSuite client, each with a hint a person can act on.

NetSuite explains little: the token endpoint answers only ``{"error": "invalid_grant"}`` and
keeps the real reason in its Login Audit Trail. Every error here therefore carries three things
apart: NetSuite's own ``code`` and ``detail`` (verbatim, so support can search for them), the HTTP
``status``, and a ``hint`` written for the administrator who has to fix it.

Secrets never enter an error: :func:`redact` removes known secret values from NetSuite's detail
text before it is stored, and ``repr`` shows only the class, status and code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

LOGIN_AUDIT_TRAIL = (
    "NetSuite's Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit "
    "Trail, add the Detail column) shows the exact reason for each refused login"
)

# Ordered by how often each cause is behind a refused token request in practice.
TOKEN_REFUSAL_CAUSES = (
    "the Certificate ID is wrong: copy it again from Setup > Integration > Manage "
    "Authentication > OAuth 2.0 Client Credentials (M2M) Setup",
    "the certificate has expired or was revoked: generate a new one, upload it and update the "
    "Certificate ID and private key here",
    "the Consumer ID is wrong: it is the Client ID of the integration record (Setup > "
    "Integration > Manage Integrations)",
    "a sandbox refresh cleared the certificate mapping: create the mapping again in the "
    "refreshed account",
    "the mapped role lacks permissions: it needs 'Log in using OAuth 2.0 Access Tokens' and "
    "'REST Web Services' (Setup > Users/Roles > Manage Roles, Permissions > Setup), "
    "'SuiteAnalytics Workbook' for SuiteQL (Permissions > Reports), plus the record "
    "permissions it reads or writes, such as the custom record 'iPaaS Auth Details'",
    "this server's clock is off: the assertion's iat/exp are checked against NetSuite's time",
)


def token_refusal_hint(first: Iterable[str] = ()) -> str:
    """The ordered list of likely causes, with locally detected ones put first."""
    first = list(first)
    causes = [*first, *(c for c in TOKEN_REFUSAL_CAUSES if c not in first)]
    numbered = "; ".join(f"({i}) {cause}" for i, cause in enumerate(causes, start=1))
    return (
        f"NetSuite refused the credentials. Likely causes, in order: {numbered}. "
        f"{LOGIN_AUDIT_TRAIL}."
    )


class NetSuiteError(Exception):
    """Base of every failure the client reports.

    ``message`` is a one-line summary for a person, ``code`` and ``detail`` are NetSuite's own
    words (``None`` when the failure happened before NetSuite answered), ``status`` the HTTP
    status, ``hint`` what to do about it.
    """

    default_message = "The NetSuite request failed."
    default_hint = "Try again later; if it keeps failing, check the subscription settings."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        detail: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code
        self.detail = detail
        self.status = status
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        meta = ", ".join(
            p for p in (f"HTTP {self.status}" if self.status else "", self.code or "") if p
        )
        if meta:
            parts.append(f"[{meta}]")
        if self.detail and self.detail != self.message:
            parts.append(f"NetSuite said: {self.detail}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r})"


class ConfigurationError(NetSuiteError, ValueError):
    default_message = "The NetSuite settings are not valid."
    default_hint = "Correct the subscription settings; nothing was sent to NetSuite."


class AuthenticationError(NetSuiteError):
    default_message = "NetSuite refused the credentials."
    default_hint = token_refusal_hint()


class CertificateRejectedError(AuthenticationError):
    default_message = "The certificate cannot be used to sign in to NetSuite."
    default_hint = (
        "Generate a new key and certificate, upload the certificate in NetSuite (Setup > "
        "Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup) and "
        "save the new Certificate ID and private key here."
    )


class ScopeError(NetSuiteError):
    default_message = "The NetSuite integration is not allowed to use this API."
    default_hint = (
        "On the integration record (Setup > Integration > Manage Integrations) tick the "
        "'REST Web Services' and 'RESTlets' scopes. The mapped role needs the permissions "
        "'Log in using OAuth 2.0 Access Tokens' and 'REST Web Services', 'SuiteAnalytics "
        "Workbook' for SuiteQL, the record permissions it reads or writes (such as the "
        "custom record 'iPaaS Auth Details'), and, for the RESTlet, a place in the "
        "deployment's Audience (a 'Web Services Only' role cannot call RESTlets). NetSuite "
        "has no 'RESTlets' permission."
    )


class ConcurrencyLimitError(NetSuiteError):
    default_message = "NetSuite's concurrency limit was exceeded and retries did not get through."
    default_hint = (
        "NetSuite lets an account run only so many requests at once (its concurrency limit; "
        "it answers HTTP 429 or SSS_REQUEST_LIMIT_EXCEEDED past it). Other integrations share "
        "this account's concurrency pool. Lower 'Concurrent "
        "Connections' for this subscription, or check Setup > Integration > Integration "
        "Governance for the account's limit and the integration's allocation."
    )


class GovernanceNotPermittedError(ScopeError):
    """The role may not read governanceLimits: NetSuite answers it to administrators only.

    A :class:`ScopeError` so callers that already treat a refusal as "not allowed" keep doing
    so; raised for 400, 401, 403 and 404 alike because NetSuite documents no status for it.
    """

    default_message = "The integration's role may not read NetSuite's governance limits."
    default_hint = (
        "NetSuite answers governanceLimits only to an administrator role. Read the limits under "
        "Setup > Integration > Integration Management > Integration Governance, or map the "
        "certificate to an administrator role."
    )


MANUAL_CERTIFICATE_STEPS = (
    "Upload the certificate by hand instead: Setup > Integration > Manage Authentication > "
    "OAuth 2.0 Client Credentials (M2M) Setup > Create New, choose the entity, role and "
    "application, upload cert.pem, save, and copy the Certificate ID shown in the list"
)


class CertificatePermissionError(ScopeError):
    """The role may not use the certificate rotation endpoint.

    It lacks the permission "Manage own OAuth 2.0 Client Credentials certificates" (Setup
    type). A :class:`ScopeError`, so callers that treat any 403 as "not allowed" keep working;
    the dashboard catches this one to fall back to the manual steps.
    """

    default_message = (
        "The integration's role may not manage its OAuth 2.0 client credentials certificates."
    )
    default_hint = (
        "Give the mapped role the permission 'Manage own OAuth 2.0 Client Credentials "
        "certificates' (Setup > Users/Roles > Manage Roles > the role > Permissions > Setup), "
        f"or do it by hand. {MANUAL_CERTIFICATE_STEPS}."
    )


class CertificateUploadRefusedError(NetSuiteError):
    """NetSuite (or the local check that mirrors it) refused a certificate upload."""

    default_message = "NetSuite refused the certificate."
    default_hint = (
        "NetSuite accepts an X.509 PEM certificate with an RSA 3072/4096 or EC P-256/384/521 "
        "key that has not expired, at most five active certificates per integration record, and "
        "each certificate for one integration, role and entity only: generate a new key and "
        "certificate, or revoke an old certificate first."
    )


class RecordPermissionError(ScopeError):
    """A 403 on a record or its metadata: the role may not read it (it may still exist)."""

    default_message = "The integration's role may not read this NetSuite record type."
    default_hint = (
        "Give the mapped role at least View access to the record type (Setup > Users/Roles > "
        "Manage Roles > Permissions), for custom records under Permissions > Custom Record; "
        "until then the dashboard cannot tell whether it exists."
    )


class NotFoundError(NetSuiteError):
    default_message = "NetSuite has no such record or script."
    default_hint = (
        "Check that the iPaaS bundle is installed in this NetSuite account and that the record "
        "still exists; a sandbox refresh replaces an account's records and scripts."
    )


class BadRequestError(NetSuiteError):
    default_message = "NetSuite refused the request."
    default_hint = (
        "NetSuite's detail names the field or parameter it refused; correct it and try again."
    )


class SuiteQLRecordNotFoundError(BadRequestError):
    """A SuiteQL query's table NetSuite says it cannot find: absent from the account, or
    hidden from the role (NetSuite answers both the same way)."""

    default_message = "NetSuite's SuiteQL cannot find the record type the query reads."
    default_hint = (
        "Either the record type is not used in this NetSuite account (its feature is off) or "
        "the integration's role may not read it. Give the role View on the record type "
        "(Setup > Users/Roles > Manage Roles > Permissions > Lists) and 'SuiteAnalytics "
        "Workbook' (Permissions > Reports), and check that the feature is enabled (Setup > "
        "Company > Enable Features)."
    )


class NetSuiteUnavailableError(NetSuiteError):
    default_message = "NetSuite could not be reached or answered with a server error."
    default_hint = (
        "NetSuite may be down or under maintenance (see status.netsuite.com), or this server "
        "cannot reach it (network, DNS, proxy). Try again in a few minutes."
    )


class OutcomeUnknownError(NetSuiteUnavailableError):
    """A write that reached NetSuite but whose answer never arrived: it may have been done."""

    default_message = "The connection to NetSuite broke after the request was sent."
    default_hint = (
        "NetSuite may have carried out the request before the connection broke. Look in "
        "NetSuite whether it took effect before trying again, so nothing is created twice."
    )


class UploadNotDoneError(NetSuiteUnavailableError):
    """A certificate upload that failed, and NetSuite's list shows it did not happen."""

    default_message = "The certificate was not uploaded."
    default_hint = (
        "Nothing was added in NetSuite, so the upload can simply be tried again; if NetSuite "
        "keeps failing, check status.netsuite.com and try again in a few minutes."
    )


class NetSuiteTimeoutError(NetSuiteError):
    default_message = "NetSuite did not answer in time."
    default_hint = (
        "NetSuite is slow or overloaded. Try again later; if it persists, raise the read "
        "timeout or move bulk reads to SuiteQL, which needs far fewer calls."
    )


class UnexpectedResponseError(NetSuiteError):
    default_message = "NetSuite answered with something the client does not understand."
    default_hint = (
        "Check that the iPaaS bundle in NetSuite is the expected version and that the base URL "
        "points at NetSuite (or the simulator), not at another service."
    )


class CertificateIdUnknownError(UnexpectedResponseError):
    """The upload succeeded but its Certificate ID could not be told apart from the list."""

    default_message = "NetSuite took the certificate but its Certificate ID could not be found."
    default_hint = (
        "Open Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) "
        "Setup, find the certificate by its Valid From / Valid Until dates, role and entity, and "
        "copy its Certificate ID here."
    )


class RedirectRefusedError(UnexpectedResponseError):
    """A 3xx: never followed (it would carry credentials elsewhere) and never a success."""

    default_message = "NetSuite answered with a redirect, which the client never follows."
    default_hint = (
        "Nothing was changed in NetSuite. The address that answered may be a proxy or a login "
        "page rather than NetSuite's API: check the Account ID and, if set, NETSUITE_BASE_URL "
        "(a proxy must forward, not redirect)."
    )


class ResponseTooLargeError(UnexpectedResponseError):
    default_message = "NetSuite's answer is larger than the client accepts."
    default_hint = (
        "Ask for less per call (a smaller page size or fewer columns), or raise the client's "
        "maximum response size if such answers are expected."
    )


class MetadataReferenceError(UnexpectedResponseError):
    """A ``$ref`` in the metadata catalog the client will not follow (see the subclasses)."""

    default_message = "NetSuite's metadata catalog refers to a schema the client will not follow."
    default_hint = (
        "The fields behind this reference could not be checked. Check that the base URL points "
        "at NetSuite (or the simulator); meanwhile look for the fields in NetSuite under "
        "Customization > Lists, Records, & Fields."
    )


class MetadataReferenceRefusedError(MetadataReferenceError):
    """A ``$ref`` outside the account's own metadata catalog: following it would send the
    bearer token to whatever host or path the answer names."""

    default_message = (
        "NetSuite's metadata catalog refers to a schema outside this account's own catalog; "
        "the client does not follow it."
    )


class MetadataReferenceCycleError(MetadataReferenceError):
    default_message = "NetSuite's metadata catalog refers back to a schema it already named."


class MetadataReferenceLimitError(MetadataReferenceError):
    default_message = "NetSuite's metadata catalog nests more references than the client follows."


class UnstablePagingError(ConfigurationError):
    """A SuiteQL query that spans pages but has no unique ORDER BY (rows would be lost)."""

    default_message = "This SuiteQL query spans several pages but has no unique ORDER BY."
    default_hint = (
        "NetSuite pages a query without a unique sort order unpredictably, so rows go missing or "
        "repeat between pages. End the query with ORDER BY <unique column>, for example "
        "ORDER BY id."
    )


# What json.loads raises for a body it cannot read: a deeply nested one exhausts the
# recursion limit instead of raising ValueError.
UNREADABLE_JSON = (ValueError, RecursionError)


def redact(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """Remove every secret value from ``text``, so NetSuite echoing one back cannot leak it."""
    if not text:
        return text
    for secret in secrets:
        # Very short values would blank out ordinary words; real secrets are long.
        if secret and len(secret) >= 8:
            text = text.replace(secret, "***")
    return text


def parse_error_body(body: str) -> tuple[str | None, str | None]:
    """NetSuite's ``(code, detail)`` from any of its three error shapes.

    REST: ``{"o:errorDetails": [{"detail", "o:errorCode"}]}``; RESTlet: ``{"error": {"code",
    "message"}}``; OAuth: ``{"error": "invalid_grant", "error_description"?}``.
    """
    try:
        data = json.loads(body)
    except UNREADABLE_JSON:
        text = body.strip()
        return None, (text[:500] or None)
    if not isinstance(data, dict):
        return None, None
    details = data.get("o:errorDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0]
        return _str_or_none(first.get("o:errorCode")), _str_or_none(first.get("detail"))
    error = data.get("error")
    if isinstance(error, dict):
        return _str_or_none(error.get("code")), _str_or_none(error.get("message"))
    if isinstance(error, str):
        return error, _str_or_none(data.get("error_description"))
    return _str_or_none(data.get("code")), _str_or_none(data.get("title") or data.get("message"))


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


RESTLET_LIMIT_CODE = "SSS_REQUEST_LIMIT_EXCEEDED"


def _server_error(
    status: int, code: str | None, detail: str | None, *, endpoint: str = "NetSuite"
) -> NetSuiteUnavailableError:
    return NetSuiteUnavailableError(
        f"{endpoint} answered with a server error (HTTP {status}).",
        code=code,
        detail=detail,
        status=status,
    )


def redirect_error(status: int, location: str | None = None) -> RedirectRefusedError:
    # Only the target's host is shown: a login page's query string may carry anything.
    where = ""
    if location:
        host = urlsplit(location).netloc
        where = f" to {host}" if host else ""
    return RedirectRefusedError(
        f"NetSuite answered with a redirect (HTTP {status}){where}, which the client never "
        "follows; the request did not take effect.",
        status=status,
    )


def error_for_status(
    status: int,
    body: str,
    *,
    secrets: Iterable[str | None] = (),
    location: str | None = None,
) -> NetSuiteError:
    """The typed error for a failed API (REST, SuiteQL or RESTlet) response (any non-2xx)."""
    if 300 <= status < 400:
        return redirect_error(status, location)
    if not 200 <= status < 300 and status < 400:
        return UnexpectedResponseError(
            f"NetSuite answered with HTTP {status}, which is neither a success nor an error.",
            status=status,
        )
    code, detail = parse_error_body(body)
    detail = redact(detail, list(secrets))
    if status == 429 or code == RESTLET_LIMIT_CODE:
        return ConcurrencyLimitError(code=code, detail=detail, status=status)
    if status == 401:
        return AuthenticationError(
            "NetSuite refused the access token.",
            code=code,
            detail=detail,
            status=status,
            hint=(
                "A fresh token was refused as well, so the login itself is no longer allowed: "
                "the role or entity may be inactive, the certificate mapping revoked, or the "
                f"integration record disabled. {LOGIN_AUDIT_TRAIL}."
            ),
        )
    if status == 403:
        return ScopeError(code=code, detail=detail, status=status)
    if status == 404:
        return NotFoundError(code=code, detail=detail, status=status)
    if status >= 500:
        return _server_error(status, code, detail)
    if status == 405:
        return BadRequestError(
            "NetSuite does not allow this method here.",
            code=code,
            detail=detail,
            status=status,
            hint="The RESTlet deployment does not offer this method; check the script's "
            "deployed functions in NetSuite.",
        )
    return BadRequestError(code=code, detail=detail, status=status)


def error_for_token_response(
    status: int, body: str, *, likely_first: Iterable[str] = (), location: str | None = None
) -> NetSuiteError:
    """The typed error for a refused token request (NetSuite's terse RFC 6749 answers)."""
    if 300 <= status < 400:
        return redirect_error(status, location)
    code, detail = parse_error_body(body)
    if status >= 500:
        return _server_error(status, code, detail, endpoint="NetSuite's token endpoint")
    if status == 429:
        return ConcurrencyLimitError(code=code, detail=detail, status=status)
    if code == "invalid_scope":
        return ScopeError(
            "NetSuite refused the requested scopes.",
            code=code,
            detail=detail,
            status=status,
            hint=(
                "Tick 'REST Web Services' and 'RESTlets' under Scope on the integration record "
                "(Setup > Integration > Manage Integrations); scopes are chosen there, not by "
                f"role permissions. {LOGIN_AUDIT_TRAIL}."
            ),
        )
    if code == "invalid_request":
        return AuthenticationError(
            "NetSuite refused the token request as malformed.",
            code=code,
            detail=detail,
            status=status,
            hint=token_refusal_hint(
                [
                    *likely_first,
                    "the assertion is malformed or signed with a refused algorithm (RS256 has "
                    "been refused since 1 March 2025; RSA keys must sign with PS256)",
                ]
            ),
        )
    if status == 404:
        return NotFoundError(
            "NetSuite's token endpoint was not found.",
            code=code,
            detail=detail,
            status=status,
            hint="Check the Account ID; a base URL override must point at NetSuite or the "
            "simulator.",
        )
    return AuthenticationError(
        code=code, detail=detail, status=status, hint=token_refusal_hint(likely_first)
    )
