"""Account ID -> host label -> every URL the client calls.

An account ID chooses the host that receives the signed client assertion and the bearer token,
so it is validated before any URL is built: anything that could smuggle another host into the
URL (``x.evil.com#``, ``1234/../``, ``a@b``) is refused. The only other way to change the host
is an operator-set base URL (for the simulator or a proxy), itself validated to be a bare
``scheme://host[:port]``.

Account IDs are ``1234567``, sandboxes ``1234567_SB1``, release previews ``1234567_RP``; test
drive and developer accounts also start with letters (``TD2819981``, ``TSTDRV1234567``), so
letters are accepted in the base part too. A pasted host label (``1234567-sb1``) is accepted and
turned back into the ID.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlencode, urlsplit

from .errors import ConfigurationError

# Checked with fullmatch: "$" would also match before a final newline ("customer\n").
_ACCOUNT_RE = re.compile(r"^[A-Z0-9]+(?:_[A-Z0-9]+)?$")
_SCRIPT_RE = re.compile(r"^(?:[a-z0-9_]+|[0-9]+)$", re.IGNORECASE)
_RECORD_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RECORD_ID_RE = re.compile(r"^(?:eid:)?[A-Za-z0-9_-]+$")
_MAX_ACCOUNT_LEN = 40
_HOST_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_RE = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
GOVERNANCE_PATH = "/services/rest/system/v1/governanceLimits"
RESTLET_PATH = "/app/site/hosting/restlet.nl"
# The certificate rotation endpoint lives on the RESTlet domain, not on SuiteTalk's.
CLIENTS_PATH = "/services/rest/auth/oauth2/v1/clients"
METADATA_PATH = RECORD_PATH + "/metadata-catalog"
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class InvalidAccountId(ConfigurationError):
    """Raised for anything that is not a NetSuite account ID (a ``ValueError`` too)."""

    default_hint = (
        "Enter the Account ID as NetSuite shows it under Setup > Company > Company Information, "
        "e.g. 1234567 or 1234567_SB1 for a sandbox."
    )


class InvalidBaseUrl(ConfigurationError):
    default_hint = (
        "Set the base URL to a bare origin such as http://127.0.0.1:8765, without a path, "
        "query, fragment or user name."
    )


def normalize_account_id(value: str) -> str:
    """``" 1234567_sb1 "`` -> ``"1234567_SB1"``; refuses anything that is not an account ID."""
    if not isinstance(value, str):
        raise InvalidAccountId("The Account ID must be text like 1234567 or 1234567_SB1.")
    candidate = value.strip().upper()
    if "-" in candidate and "_" not in candidate:
        # A host label copied from a NetSuite URL: 1234567-sb1.app.netsuite.com.
        candidate = candidate.replace("-", "_", 1)
    if not candidate:
        raise InvalidAccountId("The Account ID is empty; it looks like 1234567 or 1234567_SB1.")
    if len(candidate) > _MAX_ACCOUNT_LEN or not _ACCOUNT_RE.fullmatch(candidate):
        raise InvalidAccountId(
            "That is not a NetSuite Account ID: it holds only letters, digits and one "
            "underscore, like 1234567 or 1234567_SB1."
        )
    return candidate


def host_label(account_id: str) -> str:
    """``"1234567_SB1"`` -> ``"1234567-sb1"``, the first label of every NetSuite host."""
    return normalize_account_id(account_id).replace("_", "-").lower()


def api_url_for(account_id: str) -> str:
    """The subscription's canonical "API URL"; a base URL override never changes it."""
    return f"https://{host_label(account_id)}.suitetalk.api.netsuite.com{RECORD_PATH}"


def token_audience(account_id: str) -> str:
    """The assertion's ``aud``: the account's real token URL, wherever the request travels.

    NetSuite checks ``aud`` against its own token endpoint, so a base URL override (simulator,
    forwarding proxy) must not change it.
    """
    return f"https://{host_label(account_id)}.suitetalk.api.netsuite.com{TOKEN_PATH}"


def normalize_base_url(base_url: str) -> str:
    """``"http://127.0.0.1:8765/"`` -> ``"http://127.0.0.1:8765"``; refuses anything more."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise InvalidBaseUrl("The base URL is empty.")
    try:
        parts = urlsplit(base_url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidBaseUrl(f"The base URL is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidBaseUrl("The base URL must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidBaseUrl("The base URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidBaseUrl("The base URL must not contain a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "#" in base_url:
        raise InvalidBaseUrl("The base URL must be only scheme, host and port, without a path.")
    host = parts.hostname
    # Only plain host names and IP literals: on anything else the parsers disagree (urlsplit
    # reads "http://evil.example\.sim" as one host, urllib3, which requests connects with,
    # as evil.example).
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidBaseUrl("The base URL's host is not a valid IPv6 address.") from None
        host = f"[{host}]"
    elif not _HOST_RE.fullmatch(host):
        raise InvalidBaseUrl(
            "The base URL's host must be a host name or an IP address: letters, digits, dots, "
            "hyphens and underscores only (an international name in its xn-- form)."
        )
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def check_record_type(record_type: str) -> str:
    if not isinstance(record_type, str) or not _RECORD_TYPE_RE.fullmatch(record_type):
        raise ConfigurationError(f"{record_type!r} is not a NetSuite record type name.")
    return record_type


def check_record_id(record_id: str | int) -> str:
    text = str(record_id)
    if not _RECORD_ID_RE.fullmatch(text):
        raise ConfigurationError(f"{text!r} is not a NetSuite record ID.")
    return text


def _on_suitetalk(path: str) -> property:
    """A read-only URL attribute: ``path`` on the account's SuiteTalk origin."""
    return property(lambda urls: urls.suitetalk_origin + path, doc=f"SuiteTalk origin + {path}")


class AccountUrls:
    """Every URL of one account, optionally re-rooted on an operator's base URL.

    The base URL replaces scheme, host and port of both the SuiteTalk and the RESTlet hosts and
    keeps the paths, so the simulator or a proxy sees exactly the paths NetSuite would.
    """

    def __init__(self, account_id: str, base_url: str | None = None) -> None:
        self.account_id = normalize_account_id(account_id)
        self.host_label = host_label(self.account_id)
        self.base_url = normalize_base_url(base_url) if base_url else None
        self.suitetalk_origin = (
            self.base_url or f"https://{self.host_label}.suitetalk.api.netsuite.com"
        )
        self.restlets_origin = (
            self.base_url or f"https://{self.host_label}.restlets.api.netsuite.com"
        )

    def __repr__(self) -> str:
        return f"AccountUrls({self.account_id!r}, base_url={self.base_url!r})"

    @property
    def api_url(self) -> str:
        return api_url_for(self.account_id)

    @property
    def audience(self) -> str:
        """The client assertion's ``aud``; unlike :attr:`token_url`, never re-rooted."""
        return token_audience(self.account_id)

    token_url = _on_suitetalk(TOKEN_PATH)
    record_base = _on_suitetalk(RECORD_PATH)
    suiteql_url = _on_suitetalk(SUITEQL_PATH)
    governance_url = _on_suitetalk(GOVERNANCE_PATH)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.suitetalk_origin, self.restlets_origin)))

    def record_url(self, record_type: str, record_id: str | int | None = None) -> str:
        url = f"{self.record_base}/{check_record_type(record_type)}"
        if record_id is not None:
            url += f"/{check_record_id(record_id)}"
        return url

    def metadata_url(self, record_type: str) -> str:
        return f"{self.suitetalk_origin}{METADATA_PATH}/{check_record_type(record_type)}"

    def certificates_url(self, client_id: str, certificate_id: str | None = None) -> str:
        """The rotation endpoint: ``.../clients/<ClientID>/certificates[/<id>/revoke]``."""
        for label, value in (("Consumer ID", client_id), ("Certificate ID", certificate_id)):
            if value is not None and (
                not isinstance(value, str) or not _CLIENT_ID_RE.fullmatch(value)
            ):
                raise ConfigurationError(f"{value!r} is not a NetSuite {label}.")
        url = f"{self.restlets_origin}{CLIENTS_PATH}/{client_id}/certificates"
        if certificate_id is not None:
            url += f"/{certificate_id}/revoke"
        return url

    def restlet_url(self, script: str, deploy: str) -> str:
        for value in (script, deploy):
            if not isinstance(value, str) or not _SCRIPT_RE.fullmatch(value):
                raise ConfigurationError(f"{value!r} is not a NetSuite script or deployment ID.")
        query = urlencode({"script": script, "deploy": deploy})
        return f"{self.restlets_origin}{RESTLET_PATH}?{query}"

    def owns(self, url: str) -> bool:
        """True when ``url`` goes to one of this account's own origins (and nowhere else)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return parts.username is None and origin in self.origins
