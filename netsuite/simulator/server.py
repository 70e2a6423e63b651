"""The simulator's HTTP server: NetSuite's endpoints plus the ``/_sim/`` admin API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .. import certificates
from ..accounts import (
    CLIENTS_PATH,
    GOVERNANCE_PATH,
    RECORD_PATH,
    RESTLET_PATH,
    SUITEQL_PATH,
    TOKEN_PATH,
    token_audience,
)
from ..auth import ASSERTION_TYPE, GRANT_TYPE, KNOWN_SCOPES, Credentials
from ..restlet import CREATE_FLAG, DELETE_FLAG, DEPLOY, SCRIPT, UPDATE_FLAG
from . import inventory, suiteql, user_events
from .shortcuts import SetupShortcuts
from .state import (
    ITEM_TABLE,
    Fault,
    IssuedToken,
    RegisteredCertificate,
    SimState,
    SimulatorError,
    _record_fields,
)

logger = logging.getLogger("netsuite.simulator")

ACCEPTED_ALGORITHMS = {"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
_EC_ALG_FOR_CURVE = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
MAX_PAGE = 1000
MAX_SUITEQL_ROWS = 100_000
_RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-"
_ERROR_TYPES = {
    400: _RFC9110 + "15.5.1",
    401: _RFC9110 + "15.5.2",
    403: _RFC9110 + "15.5.4",
    404: _RFC9110 + "15.5.5",
    405: _RFC9110 + "15.5.6",
    415: _RFC9110 + "15.5.16",
    429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    500: _RFC9110 + "15.6.1",
    502: _RFC9110 + "15.6.3",
    503: _RFC9110 + "15.6.4",
    504: _RFC9110 + "15.6.5",
}
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
_SORT_KEY = r"[a-z_][a-z0-9_]*(?:\s+(?:asc|desc))?"
_SUITEQL = re.compile(
    r"^\s*select\s+(?P<cols>\*|[a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)"
    r"\s+from\s+(?P<table>[a-z_][a-z0-9_]*)"
    r"(?:\s+where\s+(?P<where>.+?))?"
    rf"(?:\s+order\s+by\s+(?P<order>{_SORT_KEY}(?:\s*,\s*{_SORT_KEY})*))?\s*;?\s*$",
    re.IGNORECASE,
)

PROPERTY_NAME_VALIDATION = "X-NetSuite-PropertyNameValidation"
_ADMIN_ONLY = "The governanceLimits operation is available to administrator roles only."
_GOVERNANCE_REFUSALS = {
    400: ("INVALID_REQUEST", _ADMIN_ONLY),
    401: ("INVALID_LOGIN", _ADMIN_ONLY),
    403: ("INSUFFICIENT_PERMISSION", f"Permission Violation: {_ADMIN_ONLY}"),
    404: ("NONEXISTENT_ID", _ADMIN_ONLY),
}
_RESTLET_CONTENT_TYPES = (
    "Invalid content type. You can only use application/json, application/xml or text/plain "
    "with RESTlets."
)
# Where a redirect fault points by default: NetSuite's login page, what a wrong data center
# or an expired session redirects a browser to.
DEFAULT_REDIRECT = "https://system.netsuite.com/pages/customerlogin.jsp"
MANAGE_CERTIFICATES = "Manage own OAuth 2.0 Client Credentials certificates"
# Spelled here, not taken from the client, so a client that misspells it is caught.
IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
_PERMISSION_VIOLATION = (
    "Permission Violation: You need the '{0}' permission to access this page. Please contact "
    "your account administrator."
)
METADATA_SEGMENT = "metadata-catalog"
SCHEMA_JSON = "application/schema+json"
SWAGGER_JSON = "application/swagger+json"

Reply = tuple[int, Any, dict[str, str]]


class PlainText(str):
    """An answer sent as text/plain instead of JSON."""


class EncodedJson(bytes):
    """A JSON answer already encoded: a governed call's reply is, within its latency."""


def envelope(status: int, code: str, detail: str, **where: str) -> dict:
    """NetSuite's REST error body; ``where`` adds ``o:errorPath`` and the like."""
    return {
        "type": _ERROR_TYPES.get(status, _RFC9110 + "15"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "o:errorDetails": [
            {"detail": detail, "o:errorCode": code, **{f"o:{k}": v for k, v in where.items()}}
        ],
    }


def restlet_error(code: str, message: str) -> dict:
    """A RESTlet's error body."""
    return {"error": {"code": code, "message": message}}


def _sortable(value: Any) -> tuple:
    # Nulls last, numbers (and numeric strings, as IDs come) by value, the rest as text.
    if value is None:
        return (2, 0, "")
    if isinstance(value, bool):
        return (1, 0, str(value))
    if isinstance(value, int | float):
        return (0, value, "")
    text = str(value)
    try:
        return (0, int(text), "")
    except ValueError:
        return (1, 0, text)


def _whole_number(value: Any) -> int:
    """``value`` as _sortable orders a number; ValueError for anything it orders otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    return int(value)


def _lower_get(row: dict, name: str) -> Any:
    """A row's value of a SuiteQL (lower-case) column name; the REST names are camelCase."""
    if name in row:
        return row[name]
    return next((v for k, v in row.items() if k.lower() == name), None)


def _suiteql_value(value: Any) -> Any:
    # SuiteQL answers checkboxes as "T"/"F".
    if isinstance(value, bool):
        return "T" if value else "F"
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, state: SimState) -> None:
        self.state = state
        self.sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        # (account, table) -> (the IDs it held, those IDs in order): SuiteQL's ORDER BY id
        # sorted only when a record was added or removed since (an ID never changes).
        self._id_orders: dict[tuple[str, str], tuple[frozenset, list[str]]] = {}
        super().__init__(address, _Handler)

    def ids_in_order(self, account_id: str, table: str, stored: dict) -> list[str]:
        with self.state.lock:
            kept = self._id_orders.get((account_id, table))
            if kept is not None and stored.keys() == kept[0]:
                return kept[1]
            members = frozenset(stored)
            ids = {i: stored[i].get("id", i) for i in members}
            try:
                # Whole-number IDs, as NetSuite's are, in _sortable's order at a fraction of
                # its cost: the first page of a large table sorts under the lock that the
                # round's other calls wait on.
                ordered = sorted(members, key=lambda i: _whole_number(ids[i]))
            except ValueError:
                ordered = sorted(members, key=lambda i: _sortable(ids[i]))
            self._id_orders[(account_id, table)] = (members, ordered)
            return ordered

    def get_request(self):
        conn, addr = super().get_request()
        # Headers and body leave in separate writes; without this, Nagle plus the client's
        # delayed ACK adds ~40 ms to every keep-alive call.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.sockets_lock:
            self.sockets.add(conn)
        return conn, addr

    def shutdown_request(self, request) -> None:
        with self.sockets_lock:
            self.sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout test) or a stop() closing keep-alive connections.
        logger.debug("simulator connection from %s ended abruptly", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.sockets_lock:
            open_sockets = list(self.sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NetSuiteSimulator/1.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulator %s", format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def state(self) -> SimState:
        return self.server.state

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            logger.exception("simulator failed on %s %s", self.command, self.path)
            self.close_connection = True
            try:
                self._send(500, envelope(500, "UNEXPECTED_ERROR", "An unexpected error occurred."))
            except OSError:
                pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if isinstance(body, PlainText) and status != 204:
            # A few NetSuite answers are plain text (the certificate revoke says so in words).
            payload = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        elif isinstance(body, EncodedJson):
            payload = b"" if status == 204 else bytes(body)
        else:
            payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        if payload and "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(size) if size > 0 else b""

    @property
    def _origin(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _is_json(self) -> bool:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() == (
            "application/json"
        )

    @staticmethod
    def _kind(path: str) -> str:
        if path == TOKEN_PATH:
            return "token"
        if path == RECORD_PATH or path.startswith(RECORD_PATH + "/"):
            return "record"
        if path == SUITEQL_PATH:
            return "suiteql"
        if path == GOVERNANCE_PATH:
            return "governance"
        if path == RESTLET_PATH:
            return "restlet"
        if path.startswith(CLIENTS_PATH + "/"):
            return "certificates"
        return "other"

    def _handle(self) -> None:
        # A governed call's latency runs from here: waiting on the simulator's lock while
        # another thread builds a page is its own work too, part of the time to the answer.
        arrived = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self._read_body()
        if path.startswith("/_sim/") or path == "/_sim":
            self._admin(path, query, body)
            return
        kind = self._kind(path)
        headers = {
            name.lower(): value for name, value in self.headers.items()
            if name.lower() not in ("authorization", "cookie")
        }
        with self.state.lock:
            self.state.calls[kind] += 1
            self.state.requests_seen.append(
                {"kind": kind, "method": self.command, "path": path, "query": parts.query,
                 "headers": headers}
            )
        if kind == "token":
            self.state.count("token_requests")
        fault = self.state.take_fault(kind, self.command, path)
        if fault is not None:
            if self._serve_fault(fault, kind):
                return
            # Only delayed: the latency comes on top of the delay.
            arrived = time.monotonic()
        if kind == "token":
            self._send(*self._token(body))
        elif kind == "other":
            self._send(404, envelope(404, "NONEXISTENT_ID", f"No resource at {path}."))
        else:
            self._governed(kind, path, query, body, arrived)

    def _serve_fault(self, fault: Fault, kind: str) -> bool:
        """Answer with the injected failure; ``False`` when it was only a delay."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.action == "disconnect":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is not None and 300 <= fault.status < 400:
            location = fault.location or DEFAULT_REDIRECT
            self._send(fault.status, fault.body, {"Location": location})
            return True
        if fault.status is not None:
            default = (
                restlet_error("UNEXPECTED_ERROR", "Injected fault.")
                if kind == "restlet"
                else envelope(fault.status, "UNEXPECTED_ERROR", "Injected fault.")
                if fault.status in _ERROR_TYPES
                else None
            )
            self._send(fault.status, fault.body if fault.body is not None else default)
            return True
        return False

    # -- the token endpoint ------------------------------------------------------------------

    def _refuse(self, error: str, reason: str, **context: Any) -> Reply:
        """NetSuite's terse answer; the real reason goes only to the Login Audit Trail."""
        self.state.audit("Failure", reason, **context)
        with self.state.lock:
            self.state.token_refusals[error] += 1
        return 400, {"error": error}, {}

    def _token(self, body: bytes) -> Reply:
        if self.command != "POST":
            return 405, {"error": "invalid_request"}, {}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return self._refuse("invalid_request", "Content-Type is not form-urlencoded")
        try:
            form = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return self._refuse("invalid_request", "Body is not form-urlencoded")
        if any(len(values) != 1 for values in form.values()):
            return self._refuse("invalid_request", "Repeated parameter")
        fields = {key: values[0] for key, values in form.items()}
        if fields.get("grant_type") != GRANT_TYPE:
            return self._refuse("invalid_request", "grant_type is not client_credentials")
        if fields.get("client_assertion_type") != ASSERTION_TYPE:
            return self._refuse("invalid_request", "Wrong client_assertion_type")
        assertion = fields.get("client_assertion") or ""
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return self._refuse("invalid_request", "client_assertion is not a JWT")
        if header.get("typ", "JWT").upper() != "JWT":
            return self._refuse("invalid_request", "JWT typ is not JWT")
        alg, kid, iss = header.get("alg"), header.get("kid"), claims.get("iss")
        context = {"kid": kid, "iss": iss}
        if alg not in ACCEPTED_ALGORITHMS:
            return self._refuse("invalid_grant", f"UnsupportedAlgorithm {alg}", **context)
        with self.state.lock:
            integration = self.state.integrations.get(iss) if isinstance(iss, str) else None
            cert = self.state.certificates.get(kid) if isinstance(kid, str) else None
        if integration is None:
            return self._refuse("invalid_client", "InvalidIntegration: unknown iss", **context)
        if cert is None or cert.consumer_id != integration.consumer_id:
            return self._refuse("invalid_grant", "InvalidCertificateId: unknown kid", **context)
        context["account_id"] = cert.account_id
        now = dt.datetime.now(dt.UTC)
        if cert.revoked:
            return self._refuse("invalid_grant", "CertificateRevoked", **context)
        if now >= cert.not_after:
            return self._refuse("invalid_grant", "CertificateExpired", **context)
        if now < cert.not_before:
            return self._refuse("invalid_grant", "CertificateNotYetValid", **context)
        public_key = cert.public_key
        curve = getattr(getattr(public_key, "curve", None), "name", None)
        if alg.startswith("ES") and _EC_ALG_FOR_CURVE.get(curve) != alg:
            return self._refuse("invalid_grant", "AlgorithmDoesNotMatchKey", **context)
        if alg.startswith("PS") and curve is not None:
            return self._refuse("invalid_grant", "AlgorithmDoesNotMatchKey", **context)
        try:
            jwt.decode(
                assertion,
                key=public_key,
                algorithms=[alg],
                options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                         "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return self._refuse("invalid_grant", "InvalidSignature", **context)
        # NetSuite compares aud with its own token URL for the account, not with the address
        # the request came to (here the simulator's).
        audience = token_audience(cert.account_id)
        aud = claims.get("aud")
        if aud != audience and not (isinstance(aud, list) and aud == [audience]):
            return self._refuse("invalid_grant", "InvalidAudience", **context)
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            return self._refuse("invalid_request", "iat or exp missing", **context)
        epoch = time.time()
        # Oracle's text wants less than 60 minutes, its own sample uses exactly 3600: accept it.
        if exp - iat > 3600:
            return self._refuse("invalid_grant", "TokenLifetimeTooLong", **context)
        if exp <= epoch:
            return self._refuse("invalid_grant", "AssertionExpired", **context)
        if iat > epoch + 300:
            return self._refuse("invalid_grant", "IssuedInTheFuture", **context)
        raw_scope = claims.get("scope")
        if isinstance(raw_scope, list):
            scopes = [str(s) for s in raw_scope]
        elif isinstance(raw_scope, str):
            scopes = [s for s in re.split(r"[\s,]+", raw_scope) if s]
        else:
            scopes = []
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return self._refuse("invalid_scope", "InvalidScope", **context)
        if not set(scopes) <= integration.scopes:
            return self._refuse("invalid_scope", "ScopeNotEnabled", **context)
        value, ttl = self.state.issue_token(cert, frozenset(scopes))
        self.state.audit("Success", "", **context)
        expires_in: Any = str(ttl) if self.state.expires_in_format == "string" else ttl
        return 200, {"access_token": value, "expires_in": expires_in, "token_type": "bearer"}, {}

    # -- governed API calls ------------------------------------------------------------------

    def _governed(self, kind: str, path: str, query: dict, body: bytes, arrived: float) -> None:
        restlet = kind == "restlet"
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        token = self.state.token(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            self.state.count("unauthorized")
            if restlet:
                self._send(401, restlet_error("INVALID_LOGIN_ATTEMPT", "Invalid login attempt."))
            else:
                self._send(401, envelope(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL))
            return
        needed = "restlets" if restlet else "rest_webservices"
        if needed not in token.scopes:
            message = f"The access token was not issued for the {needed} scope."
            if restlet:
                self._send(403, restlet_error("INSUFFICIENT_PERMISSION", message))
            else:
                self._send(403, envelope(403, "INSUFFICIENT_PERMISSION", message))
            return
        if not self.state.acquire_slot(token):
            if restlet:
                self.state.count("restlet_limit_errors")
                self._send(
                    400,
                    restlet_error(
                        "SSS_REQUEST_LIMIT_EXCEEDED",
                        "Request limit exceeded: the account's concurrency limit is reached.",
                    ),
                )
            else:
                self.state.count("rejected_429")
                self._send(
                    429,
                    envelope(
                        429,
                        "CONCURRENCY_LIMIT_EXCEEDED",
                        "Concurrent request limit exceeded. Request blocked.",
                    ),
                )
            return
        try:
            # NetSuite's page time is the time to its answer: the simulator's own work on the
            # call (authorizing, building and encoding the reply) counts toward it, so only the
            # rest is slept, the slot still held.
            handler = {
                "record": self._records,
                "suiteql": self._suiteql,
                "governance": self._governance,
                "restlet": self._restlet,
                "certificates": self._certificates,
            }[kind]
            status, answer, headers = handler(token, path, query, body)
            if answer is not None and not isinstance(answer, PlainText):
                answer = EncodedJson(json.dumps(answer).encode())
            reply = status, answer, headers
            remaining = self.state.latency - (time.monotonic() - arrived)
            if remaining > 0:
                time.sleep(remaining)
        finally:
            # Released before the answer is written: a client that frees its own slot on
            # receipt must never find the simulator still counting it.
            self.state.release_slot(token)
        if 200 <= reply[0] < 300:
            # NetSuite stored it and then failed to say so (a 5xx, a dropped connection).
            fault = self.state.take_fault(kind, self.command, path, after_store=True)
            if fault is not None and self._serve_fault(fault, kind):
                return
        self._send(*reply)

    @staticmethod
    def _int_param(query: dict, name: str, default: int) -> int | None:
        values = query.get(name)
        if not values:
            return default
        try:
            return int(values[0])
        except ValueError:
            return None

    def _paging(self, query: dict) -> tuple[int, int, Reply | None]:
        """``(limit, offset, None)``, or ``(0, 0, refusal)`` for values NetSuite refuses."""
        limit = self._int_param(query, "limit", MAX_PAGE)
        offset = self._int_param(query, "offset", 0)
        if limit is None or not 1 <= limit <= MAX_PAGE:
            return 0, 0, (400, envelope(
                400, "INVALID_PARAMETER",
                "Invalid value for the parameter limit. Provide a value between 1 and 1000.",
            ), {})
        if offset is None or offset < 0:
            return 0, 0, (400, envelope(
                400, "INVALID_PARAMETER",
                "Invalid value for the parameter offset. Provide a value of 0 or more.",
            ), {})
        return limit, offset, None

    def _page_links(self, path: str, limit: int, offset: int, total: int, extra: str = ""):
        """NetSuite's collection links: self, next (more follow), previous (not the first
        page), first and last, all at multiples of ``limit``."""
        base = self._origin + path

        def href(at: int) -> str:
            return f"{base}?{extra}limit={limit}&offset={at}"

        last = ((total - 1) // limit) * limit if total > 0 else 0
        links = [{"rel": "self", "href": href(offset)}]
        if offset + limit < total:
            links.append({"rel": "next", "href": href(offset + limit)})
        if offset > 0:
            links.append({"rel": "previous", "href": href(max(offset - limit, 0))})
        links.append({"rel": "first", "href": href(0)})
        links.append({"rel": "last", "href": href(last)})
        return links

    # -- REST records ------------------------------------------------------------------------

    def _records(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        segments = [s for s in path[len(RECORD_PATH):].split("/") if s]
        if not segments or len(segments) > 2:
            return 404, envelope(404, "NONEXISTENT_ID", "No such record type or instance."), {}
        record_type = segments[0].lower()
        account = self.state.accounts[token.account_id]
        if record_type == METADATA_SEGMENT:
            return self._metadata(token, account, segments[1:])
        with self.state.lock:
            integration = self.state.integrations.get(token.consumer_id)
            denied = integration is not None and record_type in integration.denied_records
            rows = account.records.get(record_type)
            if record_type in account.hidden_record_types:
                rows = None
        if rows is None:
            if denied:
                return self._record_permission_refusal(segments[0])
            return 404, envelope(
                404, "INVALID_RECORD_TYPE", f"Record type '{segments[0]}' does not exist."
            ), {}
        if denied:
            return self._record_permission_refusal(segments[0])
        collection_path = f"{RECORD_PATH}/{segments[0]}"
        if len(segments) == 1:
            if self.command == "GET":
                limit, offset, refusal = self._paging(query)
                if refusal is not None:
                    return refusal
                with self.state.lock:
                    ids = list(rows)
                page = ids[offset:offset + limit]
                items = [
                    {"links": [{"rel": "self",
                                "href": f"{self._origin}{collection_path}/{record_id}"}],
                     "id": record_id}
                    for record_id in page
                ]
                return 200, {
                    "links": self._page_links(collection_path, limit, offset, len(ids)),
                    "count": len(items),
                    "hasMore": offset + len(items) < len(ids),
                    "items": items,
                    "offset": offset,
                    "totalResults": len(ids),
                }, {}
            if self.command == "POST":
                fields = self._record_body(rows, body, account, record_type)
                if isinstance(fields, tuple):
                    return fields

                def create() -> str:
                    new_id = str(account.next_id.get(record_type, len(rows) + 1))
                    account.next_id[record_type] = int(new_id) + 1
                    template = next(iter(rows.values()), {})
                    rows[new_id] = {
                        **{k: None for k in template if k != "id"}, **fields, "id": new_id
                    }
                    return f"{self._origin}{collection_path}/{new_id}"

                created, location = self.state.idempotent_create(
                    account, self.headers.get(IDEMPOTENCY_HEADER), create
                )
                if not created:
                    # Oracle's help shows this answer for an asynchronous request (Location
                    # names the earlier job); a synchronous create names the earlier record.
                    return 400, envelope(
                        400, "IDEMPOTENCY_ERROR",
                        "A request with the same idempotency key is already submitted. See "
                        'the "Location" header for a link to the previously submitted job',
                    ), {"Location": location}
                return 204, None, {"Location": location}
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "Method not allowed here."), {}
        record_id = segments[1]
        with self.state.lock:
            record = rows.get(record_id)
            record = dict(record) if record is not None else None
        if record is None:
            return 404, envelope(
                404, "NONEXISTENT_ID",
                "The record instance does not exist. Provide a valid record instance ID.",
            ), {}
        location = f"{self._origin}{collection_path}/{record_id}"
        if self.command == "GET":
            record = self.state.visible_record(account, record_type, record)
            return 200, {"links": [{"rel": "self", "href": location}], **record}, {}
        if self.command == "PATCH":
            fields = self._record_body(rows, body, account, record_type)
            if isinstance(fields, tuple):
                return fields
            with self.state.lock:
                rows[record_id].update(fields)
            return 204, None, {"Location": location}
        if self.command == "DELETE":
            with self.state.lock:
                rows.pop(record_id, None)
            return 204, None, {}
        return 405, envelope(405, "METHOD_NOT_ALLOWED", "Method not allowed here."), {}

    def _record_permission_refusal(self, record_type: str) -> Reply:
        return 403, envelope(
            403, "INSUFFICIENT_PERMISSION",
            _PERMISSION_VIOLATION.format(f"Custom Record Entries: {record_type}")
            if record_type.lower().startswith("customrecord")
            else _PERMISSION_VIOLATION.format(f"Lists -> {record_type}"),
        ), {}

    def _metadata(self, token: IssuedToken, account, segments: list[str]) -> Reply:
        if self.command != "GET":
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "The metadata catalog takes GET."), {}
        if len(segments) != 1:
            return 404, envelope(404, "NONEXISTENT_ID", "Name one record type."), {}
        record_type = segments[0]
        key = record_type.lower()
        # A sublist's own entries (salesOrder-itemElement) are as readable as their record.
        owner = record_type.partition("-")[0]
        with self.state.lock:
            integration = self.state.integrations.get(token.consumer_id)
            denied = integration is not None and (
                integration.metadata_catalog_denied
                or owner.lower() in integration.denied_records
            )
        if denied:
            return self._record_permission_refusal(owner)
        schema = self.state.metadata(
            account, key, f"{self._origin}{RECORD_PATH}/{METADATA_SEGMENT}"
        )
        if schema is None:
            return 404, envelope(
                404, "INVALID_RECORD_TYPE", f"Record type '{record_type}' does not exist."
            ), {}
        accept = [part.split(";")[0].strip().lower()
                  for part in (self.headers.get("Accept") or "").split(",") if part.strip()]
        href = f"{self._origin}{RECORD_PATH}/{METADATA_SEGMENT}/{record_type}"
        if SCHEMA_JSON in accept:
            return 200, schema, {"Content-Type": SCHEMA_JSON + "; charset=UTF-8"}
        if SWAGGER_JSON in accept:
            return 200, {
                "openapi": "3.0.1",
                "info": {"title": "NetSuite REST Record API", "version": "v1"},
                "paths": {},
                "components": {"schemas": {key: schema}},
            }, {"Content-Type": SWAGGER_JSON + "; charset=UTF-8"}
        if not accept or {"application/json", "*/*", "application/*"} & set(accept):
            # The canonical form is only the catalog entry: links to the two schema forms, no
            # fields. A client that forgets the Accept header sees no fields at all.
            return 200, {"name": key, "links": [
                {"rel": "canonical", "href": href, "mediaType": "application/json"},
                {"rel": "alternate", "href": href, "mediaType": SWAGGER_JSON},
                {"rel": "alternate", "href": href, "mediaType": SCHEMA_JSON},
            ]}, {}
        return 406, envelope(
            406, "INVALID_HEADER",
            "The value of the Accept header is not supported. Use application/json, "
            "application/swagger+json or application/schema+json.",
        ), {}

    def _record_body(
        self, rows: dict, body: bytes, account=None, record_type: str = ""
    ) -> dict | Reply:
        if not self._is_json():
            return 415, envelope(
                415, "INVALID_CONTENT_TYPE", "The request must have Content-Type application/json."
            ), {}
        try:
            fields = json.loads(body or b"null")
        except ValueError:
            return 400, envelope(400, "INVALID_CONTENT", "The request body is not valid JSON."), {}
        if not isinstance(fields, dict):
            return 400, envelope(400, "INVALID_CONTENT", "The request body must be an object."), {}
        known = set(next(iter(rows.values()), {}))
        if account is not None:
            with self.state.lock:
                known -= {f for t, sub, f in account.hidden_fields
                          if t == record_type and not sub}
        fields.pop("id", None)
        unknown = [name for name in fields if known and name not in known]
        validation = (self.headers.get(PROPERTY_NAME_VALIDATION) or "warning").strip().lower()
        if unknown and validation == "error":
            return 400, envelope(
                400, "INVALID_CONTENT",
                f"Error while accessing a resource. The property name '{unknown[0]}' is not "
                "valid for this record.",
                errorPath=unknown[0],
            ), {}
        # NetSuite's default ("Warning", or "Ignore"): the write succeeds without the field.
        return {name: value for name, value in fields.items() if name not in unknown}

    # -- SuiteQL -----------------------------------------------------------------------------

    def _suiteql(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        if self.command != "POST":
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "SuiteQL takes POST."), {}
        if "transient" not in (self.headers.get("Prefer") or "").lower():
            return 400, envelope(
                400, "INVALID_HEADER", "SuiteQL requests need the header Prefer: transient."
            ), {}
        if not self._is_json():
            return 415, envelope(
                415, "INVALID_CONTENT_TYPE", "The request must have Content-Type application/json."
            ), {}
        limit, offset, refusal = self._paging(query)
        if refusal is not None:
            return refusal
        if offset % limit:
            # NetSuite pages by whole pages; an offset between two page starts is refused.
            return 400, envelope(
                400, "INVALID_PARAMETER",
                f"Invalid value for the parameter offset: {offset} is not a multiple of the "
                f"limit {limit}.",
                errorQueryParam="offset",
            ), {}
        try:
            statement = json.loads(body or b"null")
        except ValueError:
            statement = None
        q = statement.get("q") if isinstance(statement, dict) else None
        if not isinstance(q, str):
            return 400, envelope(
                400, "INVALID_CONTENT", 'The body must be {"q": "SELECT ..."}.'
            ), {}
        match = _SUITEQL.match(q)
        if match is None:
            return 400, envelope(
                400, "INVALID_PARAMETER",
                "Invalid search query. The simulator understands SELECT <columns> FROM <type> "
                "[WHERE <column> <op> <value> [AND ...]] [ORDER BY <column> [ASC|DESC], ...].",
            ), {}
        table = match["table"].lower()
        account = self.state.accounts[token.account_id]
        with self.state.lock:
            integration = self.state.integrations.get(token.consumer_id)
            # NetSuite answers a table the role may not read as it answers one that does not
            # exist: the query names a record it cannot find.
            hidden = integration is not None and table in integration.denied_records
            stored = None if hidden else account.records.get(table)
            if table == ITEM_TABLE:
                stored = self.state.item_table(account)
            elif table == inventory.ITEM_LOCATION_TABLE:
                stored = None if hidden else self.state.item_location_table(account)
            # The rows themselves, not copies: only the page's rows are copied, below. Copying
            # every row of a large table for each page made the simulator, not the client,
            # what a paging benchmark measured.
            rows = list(stored.values()) if stored is not None else None
        if rows is None:
            return 400, envelope(
                400, "INVALID_PARAMETER",
                f"Invalid search query. Search error occurred: Record '{match['table']}' was not "
                "found.",
            ), {}
        # An empty table still has its fields: NetSuite answers no rows, not "field not found".
        known = (
            {k.lower() for k in rows[0]} if rows
            else {"id", *(k.lower() for k in _record_fields(table, 0))}
        )
        columns = (
            None if match["cols"] == "*"
            else [c.strip().lower() for c in match["cols"].split(",")]
        )
        sort_keys = []
        for term in (match["order"] or "").split(","):
            if term.strip():
                name, _, direction = term.strip().partition(" ")
                sort_keys.append((name.lower(), direction.strip().lower() == "desc"))
        for column in [*(columns or []), *(name for name, _ in sort_keys)]:
            if column not in known:
                return 400, envelope(
                    400, "INVALID_PARAMETER",
                    f"Invalid search query. Search error occurred: Field '{column}' for record "
                    f"'{match['table']}' was not found.",
                ), {}
        try:
            conditions = (
                suiteql.parse_where(match["where"], match["table"], known, self.state.zone())
                if match["where"] else []
            )
        except suiteql.QueryRefused as exc:
            return 400, envelope(400, "INVALID_PARAMETER", str(exc)), {}
        if len(sort_keys) == 1 and sort_keys[0][0] == "id":
            # What paging clients ask for: the order by id is kept between pages.
            ordered = self.server.ids_in_order(token.account_id, table, stored)
            rows = ordered[::-1] if sort_keys[0][1] else ordered
        elif sort_keys:
            for name, descending in reversed(sort_keys):
                rows.sort(key=lambda r, n=name: _sortable(_lower_get(r, n)), reverse=descending)
        else:
            # Without ORDER BY NetSuite promises no order, and pages of one query may come from
            # differently ordered runs: each request gets its own order, so a client paging
            # such a query loses and repeats rows, as it would against NetSuite.
            random.Random(self.state.next_seed()).shuffle(rows)
        if conditions:
            with self.state.lock:
                rows = [
                    r for r in rows
                    if all(c.matches(_lower_get(stored[r] if isinstance(r, str) else r, c.column))
                           for c in conditions)
                ]
        if offset >= MAX_SUITEQL_ROWS:
            return 400, envelope(
                400, "INVALID_PARAMETER", "SuiteQL returns at most 100,000 rows per query."
            ), {}
        total = min(len(rows), MAX_SUITEQL_ROWS)
        with self.state.lock:
            # SuiteQL names fields in lower case where REST uses camelCase (isInactive).
            page = [
                {k.lower(): v for k, v in (stored[r] if isinstance(r, str) else r).items()}
                for r in rows[offset:min(offset + limit, total)]
                if not isinstance(r, str) or r in stored
            ]
        items = []
        zone = self.state.zone()
        for row in page:
            picked = row if columns is None else {c: row.get(c) for c in columns}
            # A plain date column comes back in the account's zone and display format.
            picked = {
                k: suiteql.display_date(v, zone) if k in suiteql.DATE_COLUMNS else v
                for k, v in picked.items()
            }
            # NetSuite leaves a null column out of the row instead of sending null.
            items.append({"links": [], **{
                k: _suiteql_value(v) for k, v in picked.items() if v is not None
            }})
        return 200, {
            "links": self._page_links(SUITEQL_PATH, limit, offset, total),
            "count": len(items),
            "hasMore": offset + len(items) < total,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }, {}

    def _governance(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        if self.command != "GET":
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "governanceLimits takes GET."), {}
        with self.state.lock:
            integration = self.state.integrations.get(token.consumer_id)
            administrator = integration is None or integration.administrator
            status = self.state.governance_refusal_status
        if not administrator:
            # Oracle: "returns results only if you are logged in as an administrator"; the
            # refusal's status is undocumented, so it is configurable.
            code, detail = _GOVERNANCE_REFUSALS[status]
            return status, envelope(status, code, detail), {}
        return 200, self.state.governance(token.account_id, token.consumer_id), {}

    # -- the Webhook Manager RESTlet ---------------------------------------------------------

    def _restlet(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        script = (query.get("script") or [""])[0].lower()
        deploy = (query.get("deploy") or [""])[0].lower()
        account = self.state.accounts[token.account_id]
        # Not deployed looks the same as a wrong script or deploy ID: NetSuite does not say which.
        if script != SCRIPT or deploy != DEPLOY or not account.restlet_deployed:
            return 400, restlet_error(
                "SSS_INVALID_SCRIPTLET_ID",
                "That Suitelet is invalid, disabled, or no longer exists.",
            ), {}
        if body and not self.headers.get("Content-Type"):
            return 415, restlet_error("INVALID_CONTENT_TYPE", _RESTLET_CONTENT_TYPES), {}
        if self.command in ("GET", "DELETE") and not self._is_json():
            # No request content type: NetSuite takes the answer as plain text, and a script
            # that returns an object (as this one does) fails.
            return 400, restlet_error(
                "INVALID_RETURN_DATA_FORMAT", "Invalid data format. You should return TEXT."
            ), {}
        if self.command == "GET":
            if body:
                return 400, restlet_error(
                    "INVALID_REQUEST", "A GET request cannot carry a body."
                ), {}
            return 200, self.state.listed_deployments(account), {}
        if self.command in ("POST", "PUT"):
            if not self._is_json():
                return 415, restlet_error("INVALID_CONTENT_TYPE", _RESTLET_CONTENT_TYPES), {}
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                return 400, restlet_error("SYNTAX_ERROR", "The request body is not JSON."), {}
            if not isinstance(payload, dict) or "id" not in payload:
                return 400, restlet_error(
                    "MISSING_REQD_ARGUMENT", "Provide the scriptdeploymentid as id."
                ), {}
            return self._set_flags(account, payload)
        if self.command == "DELETE":
            raw_id = (query.get("id") or [None])[0]
            if raw_id is None:
                return 400, restlet_error(
                    "MISSING_REQD_ARGUMENT", "Provide the scriptdeploymentid as id."
                ), {}
            sdid = self._deployment_id(account, raw_id)
            if sdid is None:
                return 400, restlet_error(
                    "INVALID_ID", f"No script deployment with id {raw_id}."
                ), {}
            with self.state.lock:
                account.flags[sdid] = {"create": False, "update": False, "delete": False}
            return 200, {"success": True, "id": sdid, "deleted": True}, {}
        return 405, restlet_error(
            "SSS_INVALID_HTTP_METHOD", f"The script does not deploy a {self.command} function."
        ), {}

    def _deployment_id(self, account, raw: Any) -> int | None:
        try:
            sdid = int(str(raw).strip())
        except ValueError:
            return None
        listed = {d["scriptdeploymentid"] for d in self.state.listed_deployments(account)}
        return sdid if sdid in account.flags and sdid in listed else None

    def _set_flags(self, account, payload: dict) -> Reply:
        sdid = self._deployment_id(account, payload["id"])
        if sdid is None:
            return 400, restlet_error(
                "INVALID_ID", f"No script deployment with id {payload['id']}."
            ), {}
        changes = {}
        flag_names = ((CREATE_FLAG, "create"), (UPDATE_FLAG, "update"), (DELETE_FLAG, "delete"))
        for key, name in flag_names:
            if key not in payload:
                continue
            value = payload[key]
            if isinstance(value, str) and value.upper() in ("T", "F", "TRUE", "FALSE"):
                value = value.upper() in ("T", "TRUE")
            if not isinstance(value, bool):
                return 400, restlet_error(
                    "INVALID_FLD_VALUE", f"{key} must be true or false."
                ), {}
            changes[name] = value
        if not changes:
            return 400, restlet_error(
                "MISSING_REQD_ARGUMENT", "Provide at least one subscription flag."
            ), {}
        with self.state.lock:
            account.flags[sdid].update(changes)
            flags = dict(account.flags[sdid])
            scriptid = next(
                d["scriptid"] for d in account.deployments if d["scriptdeploymentid"] == sdid
            )
        return 200, {
            "success": True,
            "id": sdid,
            "scriptid": scriptid,
            CREATE_FLAG: flags["create"],
            UPDATE_FLAG: flags["update"],
            DELETE_FLAG: flags["delete"],
        }, {}

    # -- the certificate rotation endpoint ---------------------------------------------------

    @staticmethod
    def _iso(moment: dt.datetime) -> str:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _certificate_item(self, cert: RegisteredCertificate) -> dict:
        with self.state.lock:
            integration = self.state.integrations.get(cert.consumer_id)
        return {
            "certificate_id": cert.certificate_id,
            "algorithm": cert.algorithm,
            "valid_from": self._iso(cert.not_before),
            "valid_until": self._iso(cert.not_after),
            "created": self._iso(cert.created),
            "revoked": cert.revoked,
            "application": {
                "id": 1,
                "name": integration.name if integration else "",
                "application_id": cert.consumer_id,
            },
            "entity": {"id": cert.entity, "name": f"Entity {cert.entity}"},
            "role": {"id": cert.role, "name": "Administrator" if cert.role == 3 else
                     f"Role {cert.role}"},
        }

    def _certificates(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        segments = [s for s in path[len(CLIENTS_PATH):].split("/") if s]
        if len(segments) not in (2, 4) or segments[1] != "certificates" or (
            len(segments) == 4 and segments[3] != "revoke"
        ):
            return 404, envelope(404, "NONEXISTENT_ID", f"No resource at {path}."), {}
        with self.state.lock:
            caller = self.state.integrations.get(token.consumer_id)
            caller_cert = self.state.certificates.get(token.certificate_id)
            target = self.state.integrations.get(segments[0])
        if caller is not None and not caller.can_manage_certificates:
            return 403, envelope(
                403, "INSUFFICIENT_PERMISSION", _PERMISSION_VIOLATION.format(MANAGE_CERTIFICATES)
            ), {}
        if target is None or target.account_id != token.account_id:
            return 404, envelope(
                404, "NONEXISTENT_ID", "The integration record with this Client ID does not exist."
            ), {}
        own_entity = caller_cert.entity if caller_cert is not None else None
        if len(segments) == 4:
            return self._revoke_certificate(target, segments[2], own_entity)
        if self.command == "GET":
            if body:
                return 400, envelope(400, "INVALID_REQUEST", "A GET request has no body."), {}
            certs = sorted(
                (c for c in self.state.certificates_of(target.consumer_id)
                 if own_entity is None or c.entity == own_entity),
                key=lambda c: c.created,
            )
            return 200, [self._certificate_item(c) for c in certs], {}
        if self.command != "POST":
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "Use GET or POST."), {}
        if not self._is_json():
            return 415, envelope(
                415, "INVALID_CONTENT_TYPE", "The request must have Content-Type application/json."
            ), {}
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return 400, envelope(400, "INVALID_CONTENT", "The request body must be a JSON object."
                                 ), {}
        pem = payload.get("fileContent")
        ids = {}
        for name in ("role", "entity"):
            value = payload.get(name)
            try:
                if isinstance(value, bool):
                    raise ValueError
                ids[name] = int(str(value).strip())
            except (TypeError, ValueError):
                return 400, envelope(
                    400, "INVALID_REQUEST", f"Provide the ID of the {name} as {name}.",
                    errorPath=name,
                ), {}
        if not isinstance(pem, str) or not pem.strip():
            return 400, envelope(
                400, "INVALID_REQUEST", "Provide the certificate as fileContent.",
                errorPath="fileContent",
            ), {}
        if own_entity is not None and ids["entity"] != own_entity:
            return 403, envelope(
                403, "INSUFFICIENT_PERMISSION",
                "You can only manage your own OAuth 2.0 client credentials certificates.",
            ), {}
        try:
            cert = self.state.register_certificate(
                target.account_id, target.consumer_id, pem, ids["role"],
                entity=ids["entity"], strict=True,
            )
        except SimulatorError as exc:
            return 400, envelope(400, "INVALID_REQUEST", str(exc), errorPath="fileContent"), {}
        if self.state.certificate_upload_answer == "empty":
            return 204, None, {}
        return 200, self._certificate_item(cert), {}

    def _revoke_certificate(self, target, certificate_id: str, own_entity: int | None) -> Reply:
        if self.command != "POST":
            return 405, envelope(405, "METHOD_NOT_ALLOWED", "Revoke takes POST."), {}
        with self.state.lock:
            cert = self.state.certificates.get(certificate_id)
            if cert is None or cert.consumer_id != target.consumer_id or (
                own_entity is not None and cert.entity != own_entity
            ):
                return 404, envelope(
                    404, "NONEXISTENT_ID", "The certificate with this ID does not exist."
                ), {}
            if cert.revoked:
                return 400, envelope(
                    400, "INVALID_REQUEST", "The certificate is already revoked."
                ), {}
            cert.revoked = True
        return 200, PlainText("Successfully revoked"), {}

    # -- admin API ---------------------------------------------------------------------------

    def _admin(self, path: str, query: dict, body: bytes) -> None:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            self._send(400, {"error": "The body is not JSON."})
            return
        if not isinstance(payload, dict):
            self._send(400, {"error": "The body must be a JSON object."})
            return
        try:
            status, answer = self._admin_route(path, payload)
        except SimulatorError as exc:
            status, answer = exc.status, {"error": str(exc)}
        except (TypeError, ValueError) as exc:
            status, answer = 400, {"error": str(exc)}
        self._send(status, answer)

    def _admin_route(self, path: str, payload: dict) -> tuple[int, Any]:
        state, method = self.state, self.command
        segments = [s for s in path.split("/") if s][1:]
        route = "/".join(segments)
        if route == "health" and method == "GET":
            return 200, {"ok": True}
        if route == "stats" and method == "GET":
            return 200, state.stats()
        if route == "reset-stats" and method == "POST":
            state.reset_stats()
            return 200, {"ok": True}
        if route == "config" and method in ("GET", "PATCH"):
            return 200, state.configure(**(payload if method == "PATCH" else {}))
        if route == "login-audit" and method == "GET":
            with state.lock:
                return 200, list(state.login_audit)
        if route == "integrations" and method == "POST":
            integration = state.create_integration(
                payload.get("account_id"),
                name=payload.get("name"),
                consumer_id=payload.get("consumer_id"),
                scopes=payload.get("scopes"),
                concurrency_limit=payload.get("concurrency_limit"),
                administrator=payload.get("administrator", True),
            )
            return 201, state.describe_integration(integration)
        if len(segments) == 2 and segments[0] == "integrations" and method == "PATCH":
            unknown = set(payload) - {
                "administrator", "concurrency_limit", "slots_in_use", "role", "entity",
                "can_manage_certificates", "denied_records", "metadata_catalog_denied",
            }
            if unknown:
                names = ", ".join(sorted(unknown))
                raise SimulatorError(f"Unknown integration settings: {names}.")
            integration = state.update_integration(segments[1], **payload)
            return 200, state.describe_integration(integration)
        if route == "certificates" and method == "POST":
            cert = state.register_certificate(
                payload.get("account_id"),
                payload.get("consumer_id"),
                payload.get("certificate_pem") or "",
                role=payload.get("role"),
                entity=payload.get("entity"),
            )
            return 201, {
                "certificate_id": cert.certificate_id,
                "account_id": cert.account_id,
                "consumer_id": cert.consumer_id,
                "not_after": cert.not_after.isoformat(),
                "validity_cut": cert.validity_cut,
                "fingerprint": cert.fingerprint,
            }
        if len(segments) == 2 and segments[0] == "certificates" and method == "DELETE":
            state.revoke_certificate(segments[1])
            return 200, {"revoked": True}
        if route == "faults" and method == "POST":
            return 201, {"fault_id": state.add_fault(**payload)}
        if route == "faults" and method == "DELETE":
            state.clear_faults()
            return 200, {"ok": True}
        if route == "revoke-tokens" and method == "POST":
            return 200, {"revoked": state.revoke_tokens(payload.get("account_id"))}
        if len(segments) == 3 and segments[0] == "accounts":
            account_id, what = segments[1], segments[2]
            if what == "webhooks" and method == "GET":
                flags = state.webhook_flags(account_id)
                return 200, {"deployments": [
                    {"scriptdeploymentid": sdid, **values} for sdid, values in flags.items()
                ]}
            if what == "setup" and method == "GET":
                return 200, state.setup_state(account_id)
            if what == "setup" and method == "PATCH":
                unknown = set(payload) - {"restlet_deployed", "deployments", "record_types",
                                          "fields", "metadata_shape"}
                if unknown:
                    raise SimulatorError(f"Unknown setup settings: {', '.join(sorted(unknown))}.")
                return 200, state.configure_setup(account_id, **payload)
            if what == "record-changes" and method == "POST":
                unknown = set(payload) - {"record_type", "event", "record_id", "fields"}
                if unknown:
                    raise SimulatorError(f"Unknown change settings: {', '.join(sorted(unknown))}.")
                return 200, user_events.play(state, account_id, **payload)
            if what == "inventory-moves" and method == "POST":
                unknown = set(payload) - {"item", "location", "kind", "quantity"}
                if unknown:
                    raise SimulatorError(f"Unknown move settings: {', '.join(sorted(unknown))}.")
                return 200, state.move_stock(account_id, **payload)
            if what == "governance" and method == "GET":
                return 200, state.governance(account_id)
            if what == "governance" and method == "PATCH":
                return 200, state.set_governance(
                    account_id,
                    account_limit=payload.get("account_limit"),
                    integration_limits=payload.get("integration_limits"),
                )
        return 404, {"error": f"No admin endpoint {method} {path}."}


class Simulator(SetupShortcuts):
    """A local NetSuite on loopback; usable in-process (tests) or via ``python -m``.

    The helper methods mirror the ``/_sim/`` admin endpoints without going through HTTP; a
    simulator in another process is driven over HTTP by :class:`~.admin.SimulatorAdmin`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        """``settings`` are :class:`~.state.SimState`'s, which holds their defaults:
        ``latency``, ``concurrency_limit``, ``record_counts``, ``token_ttl`` and
        ``expires_in_format``."""
        self.host = host
        self.port = port
        self.state = SimState(**settings)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Simulator({self.base_url if self._server else 'stopped'})"

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self.state)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"netsuite-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- admin helpers -----------------------------------------------------------------------

    def create_integration(self, account_id: str, **kwargs: Any) -> str:
        """Create an integration record; returns its Consumer ID."""
        return self.state.create_integration(account_id, **kwargs).consumer_id

    def register_certificate(
        self,
        account_id: str,
        consumer_id: str,
        certificate_pem: str,
        role: int | None = None,
        *,
        entity: int | None = None,
    ) -> str:
        """Upload a certificate as an admin would; returns the Certificate ID. ``role`` and
        ``entity`` default to the integration's mapping."""
        return self.state.register_certificate(
            account_id, consumer_id, certificate_pem, role, entity=entity
        ).certificate_id

    def certificates(self, consumer_id: str) -> list[dict]:
        """The integration's certificates as the rotation endpoint lists them (all entities)."""
        return [
            {"certificate_id": c.certificate_id, "role": c.role, "entity": c.entity,
             "fingerprint": c.fingerprint, "not_before": c.not_before.isoformat(),
             "not_after": c.not_after.isoformat(), "validity_cut": c.validity_cut,
             "revoked": c.revoked}
            for c in self.state.certificates_of(consumer_id)
        ]

    # -- setup-check knobs -----------------------------------------------------------------

    def configure_setup(self, account_id: str, **changes: Any) -> dict:
        """``restlet_deployed``, ``deployments`` ({scriptid: "deployed" | "not_deployed" |
        "missing"}), ``record_types`` ({type: present}), ``fields`` ([{"record_type", "field",
        "sublist"?, "present"}]), ``metadata_shape`` ("referenced" | "inline"); returns
        :meth:`setup_state`."""
        return self.state.configure_setup(account_id, **changes)

    def setup_state(self, account_id: str) -> dict:
        return self.state.setup_state(account_id)


    def revoke_certificate(self, certificate_id: str) -> None:
        self.state.revoke_certificate(certificate_id)

    def update_integration(self, consumer_id: str, **changes: Any) -> dict:
        """``administrator`` (bool), ``concurrency_limit`` (int, or ``None`` to share the
        unallocated pool), ``slots_in_use`` (requests it has in flight elsewhere), ``role`` and
        ``entity`` (the mapping's IDs, defaults 3 and -5), ``can_manage_certificates`` (the
        role's "Manage own OAuth 2.0 Client Credentials certificates" permission),
        ``denied_records`` (record types the role may not read; their record API and metadata
        answer 403) and ``metadata_catalog_denied`` (the whole catalog answers 403)."""
        integration = self.state.update_integration(consumer_id, **changes)
        return self.state.describe_integration(integration)

    def revoke_tokens(self, account_id: str | None = None) -> int:
        return self.state.revoke_tokens(account_id)

    def provision(
        self,
        account_id: str,
        *,
        key_type: str = "ec-p256",
        key_pair: tuple[str, str] | None = None,
        scopes: tuple[str, ...] = ("restlets", "rest_webservices"),
        integration_scopes: tuple[str, ...] | None = None,
        days: int = 365,
        not_before: dt.datetime | None = None,
        include_certificate: bool = False,
    ) -> Credentials:
        """Integration + key + certificate in one step, ready for a client.

        ``key_pair`` (``(private_key_pem, certificate_pem)``) registers that pair instead of
        generating one, so tests can reuse a pair and skip the slow RSA generation; ``key_type``,
        ``days`` and ``not_before`` then do not apply.
        """
        consumer_id = self.create_integration(
            account_id, scopes=list(integration_scopes or scopes)
        )
        key_pem, cert_pem = key_pair or certificates.generate_key_and_certificate(
            key_type, days=days, not_before=not_before
        )
        certificate_id = self.register_certificate(account_id, consumer_id, cert_pem)
        return Credentials(
            account_id=account_id,
            consumer_id=consumer_id,
            certificate_id=certificate_id,
            private_key_pem=key_pem,
            scopes=tuple(scopes),
            certificate_pem=cert_pem if include_certificate else None,
        )

    def stats(self) -> dict:
        return self.state.stats()

    def reset_stats(self) -> None:
        self.state.reset_stats()

    def add_fault(self, **spec: Any) -> int:
        """Inject failures: ``kind``/``path_prefix``/``method`` select calls, ``status`` (default
        503), ``count``, ``body``, ``delay`` seconds before answering, ``action="disconnect"``;
        ``after_store=True`` lets the call do its work (store the record or the certificate)
        and fails only its answer."""
        return self.state.add_fault(**spec)

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def configure(self, **changes: Any) -> dict:
        return self.state.configure(**changes)

    def set_governance(self, account_id: str, **kwargs: Any) -> dict:
        return self.state.set_governance(account_id, **kwargs)

    def webhook_flags(self, account_id: str) -> dict[int, dict[str, bool]]:
        return self.state.webhook_flags(account_id)

    def move_stock(self, account_id: str, *, item: str, location: str, kind: str,
                   quantity: Any) -> dict:
        """A fulfilment, receipt or adjustment of ``quantity`` units of ``item`` at
        ``location``: the level and its change stamp move, the item does not."""
        return self.state.move_stock(account_id, item=item, location=location, kind=kind,
                                     quantity=quantity)

    def change_record(self, account_id: str, record_type: str, event: str, **change: Any) -> dict:
        """Create, update or delete one record of a module and play the bundle's user-event
        script (``record_id``, ``fields``); see :mod:`.user_events`."""
        return user_events.play(
            self.state, account_id, record_type=record_type, event=event, **change
        )

    def login_audit(self) -> list[dict]:
        with self.state.lock:
            return list(self.state.login_audit)

    def requests_seen(self) -> list[dict]:
        """The latest calls (``kind``, ``method``, ``path``, ``query``, ``headers`` without
        credentials)."""
        with self.state.lock:
            return list(self.state.requests_seen)
