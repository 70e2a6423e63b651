"""A small OpenID Connect provider for the single sign-on tests, a real process over HTTP.

    python -m tests.oidc_provider --port 8801 [--client-id ipaas --client-secret s3cret]
                                   [--alg RS256|ES256]

The authorization code flow as an identity provider serves it: discovery
(``/.well-known/openid-configuration``), the JWKS (``/jwks``), ``/authorize`` (approves the test
person at once, no page, and sends the browser back with a code, or with
``error=access_denied`` when no person is set), ``/token`` (client secret by post or basic,
a code once, PKCE S256 checked, a signed ID token and an access token) and ``/userinfo``.

Knobs for the tests, over HTTP on the same port (``tests/oidc.py``'s ``OidcProvider`` calls
them):

- ``POST /_control/user`` with JSON claims: the person the next sign-ins approve (``sub``,
  ``preferred_username``, ``email``, ``name``, ``groups``...); ``{}`` approves nobody.
- ``POST /_control/fault`` with ``{"fault": name}``: the next ID token only is wrong in one
  way: ``wrong_audience``, ``expired``, ``bad_signature`` (signed with another key under the
  same key id), ``no_groups`` (no group claim, in the token or the userinfo), ``wrong_nonce``.
- ``POST /_control/reset``; ``GET /_control/log``: what the provider was asked (paths only).

Plain Python (the standard library's http.server, pyjwt, cryptography): no Django.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

FAULTS = ("wrong_audience", "expired", "bad_signature", "no_groups", "wrong_nonce")
KID = "test-key-1"


def _new_key(alg: str):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class State:
    def __init__(self, *, issuer: str, client_id: str, client_secret: str, alg: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.alg = alg
        self.key = _new_key(alg)
        self.other_key = _new_key(alg)  # signs the "bad_signature" token
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.user: dict = {}
        self.fault: str | None = None
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.log: list[str] = []

    def jwks(self) -> dict:
        algorithm = jwt.algorithms.get_default_algorithms()[self.alg]
        jwk = json.loads(algorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KID, use="sig", alg=self.alg)
        return {"keys": [jwk]}

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.alg],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
        }

    def id_token(self, grant: dict) -> tuple[str, dict]:
        now = int(time.time())
        fault = grant["fault"]
        claims = {
            **grant["user"],
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + 300,
        }
        if grant.get("nonce") is not None:
            claims["nonce"] = grant["nonce"]
        if fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif fault == "no_groups":
            claims.pop("groups", None)
        elif fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-of-this-sign-in"
        key = self.other_key if fault == "bad_signature" else self.key
        token = jwt.encode(claims, key, algorithm=self.alg, headers={"kid": KID})
        return token, claims


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        server_version = "TestOIDC/1"

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass

        def _send(self, status: int, body=None, headers: dict | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            with state.lock:
                state.log.append("GET " + url.path)
            if url.path == "/.well-known/openid-configuration":
                return self._send(200, state.discovery())
            if url.path == "/jwks":
                return self._send(200, state.jwks())
            if url.path == "/authorize":
                return self._authorize(parse_qs(url.query))
            if url.path == "/userinfo":
                return self._userinfo()
            if url.path == "/_control/log":
                with state.lock:
                    return self._send(200, {"log": list(state.log)})
            return self._send(404, {"error": "not_found"})

        def do_POST(self):  # noqa: N802
            url = urlsplit(self.path)
            with state.lock:
                state.log.append("POST " + url.path)
            body = self._body()
            if url.path == "/token":
                return self._token(parse_qs(body.decode()))
            if url.path.startswith("/_control/"):
                return self._control(url.path, json.loads(body or b"{}"))
            return self._send(404, {"error": "not_found"})

        def _control(self, path: str, data: dict) -> None:
            with state.lock:
                if path == "/_control/user":
                    state.user = dict(data)
                elif path == "/_control/fault":
                    if data.get("fault") not in FAULTS:
                        return self._send(400, {"error": f"fault must be one of {FAULTS}"})
                    state.fault = data["fault"]
                elif path == "/_control/reset":
                    state.reset()
                else:
                    return self._send(404, {"error": "not_found"})
            return self._send(200, {"ok": True})

        def _authorize(self, query: dict) -> None:
            one = {name: values[0] for name, values in query.items()}
            redirect_uri = one.get("redirect_uri", "")
            if one.get("client_id") != state.client_id or not redirect_uri:
                return self._send(400, {"error": "invalid_client"})
            if one.get("response_type") != "code" or "openid" not in one.get("scope", "").split():
                return self._send(400, {"error": "invalid_request"})
            back = {"state": one.get("state", "")}
            with state.lock:
                if not state.user:
                    back["error"] = "access_denied"
                else:
                    code = secrets.token_urlsafe(24)
                    state.codes[code] = {
                        "redirect_uri": redirect_uri,
                        "nonce": one.get("nonce"),
                        "challenge": one.get("code_challenge"),
                        "method": one.get("code_challenge_method"),
                        "user": dict(state.user),
                        "fault": state.fault,
                    }
                    state.fault = None
                    back["code"] = code
            separator = "&" if "?" in redirect_uri else "?"
            self._send(302, headers={"Location": redirect_uri + separator + urlencode(back)})

        def _client_authenticated(self, form: dict) -> bool:
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            else:
                client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            return client_id == state.client_id and secrets.compare_digest(
                secret, state.client_secret
            )

        def _token(self, query: dict) -> None:
            form = {name: values[0] for name, values in query.items()}
            if not self._client_authenticated(form):
                return self._send(401, {"error": "invalid_client"})
            if form.get("grant_type") != "authorization_code":
                return self._send(400, {"error": "unsupported_grant_type"})
            with state.lock:
                grant = state.codes.pop(form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return self._send(400, {"error": "invalid_grant"})
            if grant["challenge"]:
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if grant["method"] != "S256" or expected != grant["challenge"]:
                    return self._send(400, {"error": "invalid_grant"})
            id_token, claims = state.id_token(grant)
            access_token = secrets.token_urlsafe(24)
            userinfo = dict(grant["user"])
            if grant["fault"] == "no_groups":
                userinfo.pop("groups", None)
            with state.lock:
                state.access_tokens[access_token] = userinfo
            self._send(
                200,
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token,
                },
            )

        def _userinfo(self) -> None:
            header = self.headers.get("Authorization", "")
            with state.lock:
                claims = state.access_tokens.get(header.removeprefix("Bearer "))
            if not header.startswith("Bearer ") or claims is None:
                return self._send(401, {"error": "invalid_token"})
            self._send(200, claims)

    return Handler


def serve(port: int, *, client_id: str, client_secret: str, alg: str, host: str = "127.0.0.1"):
    server = ThreadingHTTPServer((host, port), None)
    issuer = f"http://{host}:{server.server_address[1]}"
    state = State(issuer=issuer, client_id=client_id, client_secret=client_secret, alg=alg)
    server.RequestHandlerClass = make_handler(state)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", default="ipaas-dashboard")
    parser.add_argument("--client-secret", default="test-client-secret")
    parser.add_argument("--alg", choices=("RS256", "ES256"), default="RS256")
    args = parser.parse_args()
    server = serve(
        args.port, client_id=args.client_id, client_secret=args.client_secret, alg=args.alg
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

