"""The simulator's HTTP server: NetSuite's endpoints plus the ``/_sim/`` admin API."""

from __future__ import annotations

import datetime as dt
import json
import logging
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
from ..accounts import GOVERNANCE_PATH, RECORD_PATH, RESTLET_PATH, SUITEQL_PATH, TOKEN_PATH
from ..auth import ASSERTION_TYPE, GRANT_TYPE, KNOWN_SCOPES, Credentials
from ..restlet import CREATE_FLAG, DELETE_FLAG, DEPLOY, SCRIPT, UPDATE_FLAG
from .state import IssuedToken, SimState, SimulatorError

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
_SUITEQL = re.compile(
    r"^\s*select\s+(?P<cols>\*|[a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)"
    r"\s+from\s+(?P<table>[a-z_][a-z0-9_]*)"
    r"(?:\s+order\s+by\s+(?P<order>[a-z_][a-z0-9_]*)(?:\s+(?P<dir>asc|desc))?)?\s*;?\s*$",
    re.IGNORECASE,
)

Reply = tuple[int, Any, dict[str, str]]


def envelope(status: int, code: str, detail: str) -> dict:
    """NetSuite's REST error body."""
    return {
        "type": _ERROR_TYPES.get(status, _RFC9110 + "15"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }


def restlet_error(code: str, message: str) -> dict:
    """A RESTlet's error body."""
    return {"error": {"code": code, "message": message}}


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
        super().__init__(address, _Handler)

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
        payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        if payload:
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
        return "other"

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self._read_body()
        if path.startswith("/_sim/") or path == "/_sim":
            self._admin(path, query, body)
            return
        kind = self._kind(path)
        with self.state.lock:
            self.state.calls[kind] += 1
        if kind == "token":
            self.state.count("token_requests")
        fault = self.state.take_fault(kind, self.command, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.action == "disconnect":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                default = (
                    restlet_error("UNEXPECTED_ERROR", "Injected fault.")
                    if kind == "restlet"
                    else envelope(fault.status, "UNEXPECTED_ERROR", "Injected fault.")
                    if fault.status in _ERROR_TYPES
                    else None
                )
                self._send(fault.status, fault.body if fault.body is not None else default)
                return
        if kind == "token":
            self._send(*self._token(body))
        elif kind == "other":
            self._send(404, envelope(404, "NONEXISTENT_ID", f"No resource at {path}."))
        else:
            self._governed(kind, path, query, body)

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
        token_url = self._origin + TOKEN_PATH
        aud = claims.get("aud")
        if aud != token_url and not (isinstance(aud, list) and aud == [token_url]):
            return self._refuse("invalid_grant", "InvalidAudience", **context)
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            return self._refuse("invalid_request", "iat or exp missing", **context)
        epoch = time.time()
        if exp - iat >= 3600:
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

    def _governed(self, kind: str, path: str, query: dict, body: bytes) -> None:
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
            if self.state.latency:
                time.sleep(self.state.latency)
            handler = {
                "record": self._records,
                "suiteql": self._suiteql,
                "governance": self._governance,
                "restlet": self._restlet,
            }[kind]
            reply = handler(token, path, query, body)
        finally:
            # Released before the answer is written: a client that frees its own slot on
            # receipt must never find the simulator still counting it.
            self.state.release_slot(token)
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
        base = self._origin + path
        links = [{"rel": "self", "href": f"{base}?{extra}limit={limit}&offset={offset}"}]
        if offset + limit < total:
            links.append(
                {"rel": "next", "href": f"{base}?{extra}limit={limit}&offset={offset + limit}"}
            )
        if offset > 0:
            links.append(
                {"rel": "previous",
                 "href": f"{base}?{extra}limit={limit}&offset={max(offset - limit, 0)}"}
            )
        return links

    # -- REST records ------------------------------------------------------------------------

    def _records(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        segments = [s for s in path[len(RECORD_PATH):].split("/") if s]
        if not segments or len(segments) > 2:
            return 404, envelope(404, "NONEXISTENT_ID", "No such record type or instance."), {}
        record_type = segments[0].lower()
        account = self.state.accounts[token.account_id]
        with self.state.lock:
            rows = account.records.get(record_type)
        if rows is None:
            return 404, envelope(
                404, "INVALID_RECORD_TYPE", f"Record type '{segments[0]}' does not exist."
            ), {}
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
                fields = self._record_body(rows, body)
                if isinstance(fields, tuple):
                    return fields
                with self.state.lock:
                    new_id = str(account.next_id.get(record_type, len(rows) + 1))
                    account.next_id[record_type] = int(new_id) + 1
                    template = next(iter(rows.values()), {})
                    rows[new_id] = {
                        **{k: None for k in template if k != "id"}, **fields, "id": new_id
                    }
                return 204, None, {"Location": f"{self._origin}{collection_path}/{new_id}"}
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
            return 200, {"links": [{"rel": "self", "href": location}], **record}, {}
        if self.command == "PATCH":
            fields = self._record_body(rows, body)
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

    def _record_body(self, rows: dict, body: bytes) -> dict | Reply:
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
        fields.pop("id", None)
        for name in fields:
            if known and name not in known:
                return 400, envelope(
                    400, "INVALID_CONTENT",
                    f"Invalid field: the record has no field '{name}'.",
                ), {}
        return fields

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
                "[ORDER BY <column> [ASC|DESC]].",
            ), {}
        table = match["table"].lower()
        account = self.state.accounts[token.account_id]
        with self.state.lock:
            rows = account.records.get(table)
            rows = [dict(r) for r in rows.values()] if rows is not None else None
        if rows is None:
            return 400, envelope(
                400, "INVALID_PARAMETER",
                f"Invalid search query. Search error occurred: Record '{match['table']}' was not "
                "found.",
            ), {}
        known = set(rows[0]) if rows else {"id"}
        columns = (
            None if match["cols"] == "*"
            else [c.strip().lower() for c in match["cols"].split(",")]
        )
        for column in [*(columns or []), *([match["order"].lower()] if match["order"] else [])]:
            if column not in known:
                return 400, envelope(
                    400, "INVALID_PARAMETER",
                    f"Invalid search query. Search error occurred: Field '{column}' for record "
                    f"'{match['table']}' was not found.",
                ), {}
        if match["order"]:
            order = match["order"].lower()
            rows.sort(
                key=lambda r: (int(r[order]) if order == "id" else str(r.get(order))),
                reverse=(match["dir"] or "").lower() == "desc",
            )
        if offset >= MAX_SUITEQL_ROWS:
            return 400, envelope(
                400, "INVALID_PARAMETER", "SuiteQL returns at most 100,000 rows per query."
            ), {}
        total = min(len(rows), MAX_SUITEQL_ROWS)
        page = rows[offset:min(offset + limit, total)]
        items = []
        for row in page:
            picked = row if columns is None else {c: row.get(c) for c in columns}
            items.append({"links": [], **{k.lower(): _suiteql_value(v) for k, v in picked.items()}})
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
        return 200, self.state.governance(token.account_id, token.consumer_id), {}

    # -- the Webhook Manager RESTlet ---------------------------------------------------------

    def _restlet(self, token: IssuedToken, path: str, query: dict, body: bytes) -> Reply:
        script = (query.get("script") or [""])[0].lower()
        deploy = (query.get("deploy") or [""])[0].lower()
        if script != SCRIPT or deploy != DEPLOY:
            return 400, restlet_error(
                "SSS_INVALID_SCRIPTLET_ID",
                "That Suitelet is invalid, disabled, or no longer exists.",
            ), {}
        account = self.state.accounts[token.account_id]
        if self.command == "GET":
            if body:
                return 400, restlet_error(
                    "INVALID_REQUEST", "A GET request cannot carry a body."
                ), {}
            with self.state.lock:
                return 200, [dict(d) for d in account.deployments], {}
        if self.command in ("POST", "PUT"):
            if not self._is_json():
                return 415, restlet_error(
                    "INVALID_CONTENT_TYPE",
                    "Invalid content type. You can only use application/json, application/xml "
                    "or text/plain with RESTlets.",
                ), {}
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

    @staticmethod
    def _deployment_id(account, raw: Any) -> int | None:
        try:
            sdid = int(str(raw).strip())
        except ValueError:
            return None
        return sdid if sdid in account.flags else None

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
            )
            return 201, {
                "consumer_id": integration.consumer_id,
                "account_id": integration.account_id,
                "name": integration.name,
                "scopes": sorted(integration.scopes),
            }
        if route == "certificates" and method == "POST":
            cert = state.register_certificate(
                payload.get("account_id"),
                payload.get("consumer_id"),
                payload.get("certificate_pem") or "",
                role=payload.get("role", 3),
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
            if what == "governance" and method == "GET":
                return 200, state.governance(account_id)
            if what == "governance" and method == "PATCH":
                return 200, state.set_governance(
                    account_id,
                    account_limit=payload.get("account_limit"),
                    integration_limits=payload.get("integration_limits"),
                )
        return 404, {"error": f"No admin endpoint {method} {path}."}


class Simulator:
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
        self, account_id: str, consumer_id: str, certificate_pem: str, role: int = 3
    ) -> str:
        """Upload a certificate as an admin would; returns the Certificate ID."""
        return self.state.register_certificate(
            account_id, consumer_id, certificate_pem, role
        ).certificate_id

    def revoke_certificate(self, certificate_id: str) -> None:
        self.state.revoke_certificate(certificate_id)

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
        503), ``count``, ``body``, ``delay`` seconds before answering, ``action="disconnect"``."""
        return self.state.add_fault(**spec)

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def configure(self, **changes: Any) -> dict:
        return self.state.configure(**changes)

    def set_governance(self, account_id: str, **kwargs: Any) -> dict:
        return self.state.set_governance(account_id, **kwargs)

    def webhook_flags(self, account_id: str) -> dict[int, dict[str, bool]]:
        return self.state.webhook_flags(account_id)

    def login_audit(self) -> list[dict]:
        with self.state.lock:
            return list(self.state.login_audit)
