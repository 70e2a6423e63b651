"""The client never follows a redirect: it would re-send the signed assertion elsewhere."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from netsuite.client import NetSuiteClient
from netsuite.errors import UnexpectedResponseError


class _Recorder(BaseHTTPRequestHandler):
    received: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.received.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"access_token": "stolen", "expires_in": 3600}')

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args):
        pass


def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def thief():
    _Recorder.received = []
    server = _serve(_Recorder)
    yield server, _Recorder.received
    server.shutdown()


@pytest.fixture
def redirector(thief):
    target = f"http://127.0.0.1:{thief[0].server_address[1]}/steal"

    class Redirect(BaseHTTPRequestHandler):
        def _answer(self):
            if self.path.endswith("/oauth2/v1/token") and self.server.issue_tokens:
                body = b'{"access_token": "t", "expires_in": "3600", "token_type": "bearer"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args):
            pass

    server = _serve(Redirect)
    server.issue_tokens = False
    yield server
    server.shutdown()


def test_a_redirected_token_request_is_refused_and_nothing_reaches_the_other_host(
    creds, redirector, thief
):
    base_url = f"http://127.0.0.1:{redirector.server_address[1]}"
    client = NetSuiteClient(creds, base_url=base_url)
    with pytest.raises(UnexpectedResponseError) as caught:
        client.fetch_token(force=True)
    assert caught.value.status == 307
    assert "never follows" in str(caught.value)
    assert thief[1] == []


def test_a_redirected_record_call_is_refused(creds, redirector, thief):
    # The host issues a token, then redirects the API call that carries it and its body.
    redirector.issue_tokens = True
    base_url = f"http://127.0.0.1:{redirector.server_address[1]}"
    client = NetSuiteClient(creds, base_url=base_url)
    with pytest.raises(UnexpectedResponseError) as caught:
        client.records.patch("location", 1, {"name": "x"})
    assert caught.value.status == 307
    assert thief[1] == []
