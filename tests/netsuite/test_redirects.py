"""The client never follows a redirect: it would re-send the signed assertion elsewhere."""

from http.server import BaseHTTPRequestHandler

import pytest

from netsuite.accounts import TOKEN_PATH
from netsuite.client import NetSuiteClient
from netsuite.errors import UnexpectedResponseError

from .helpers import TOKEN_BODY, canned, serve


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


@pytest.fixture
def thief():
    _Recorder.received = []
    with serve(_Recorder) as server:
        yield server, _Recorder.received


def redirect_to(thief) -> tuple[int, bytes, dict[str, str]]:
    return 307, b"", {"Location": f"{thief[0].base_url}/steal"}


def test_a_redirected_token_request_is_refused_and_nothing_reaches_the_other_host(creds, thief):
    with serve(canned({TOKEN_PATH: redirect_to(thief)})) as redirector:
        client = NetSuiteClient(creds, base_url=redirector.base_url)
        with pytest.raises(UnexpectedResponseError) as caught:
            client.fetch_token(force=True)
    assert caught.value.status == 307
    assert "never follows" in str(caught.value)
    assert thief[1] == []


def test_a_redirected_record_call_is_refused(creds, thief):
    # The host issues a token, then redirects the API call that carries it and its body.
    routes = {
        TOKEN_PATH: (200, TOKEN_BODY),
        "/services/rest/record/v1/location/1": redirect_to(thief),
    }
    with serve(canned(routes)) as redirector:
        client = NetSuiteClient(creds, base_url=redirector.base_url)
        with pytest.raises(UnexpectedResponseError) as caught:
            client.records.patch("location", 1, {"name": "x"})
    assert caught.value.status == 307
    assert thief[1] == []
