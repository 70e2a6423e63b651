"""The client never follows a redirect: it would re-send the signed assertion elsewhere."""

from http.server import BaseHTTPRequestHandler

import pytest
import requests

from netsuite.accounts import TOKEN_PATH
from netsuite.client import NetSuiteClient
from netsuite.errors import RedirectRefusedError, UnexpectedResponseError

from .helpers import ACCOUNT, TOKEN_BODY, canned, serve


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


def test_a_restlet_post_answered_with_302_raises_and_does_not_confirm(client, sim):
    # Oracle's RESTlet error table lists 302 for a request sent to the wrong data center.
    sim.add_fault(kind="restlet", method="POST", action="redirect")
    with pytest.raises(RedirectRefusedError) as caught:
        client.webhooks.set_flags(245, create=True, update=True, delete=True)
    assert caught.value.status == 302
    assert "system.netsuite.com" in str(caught.value)
    assert "Nothing was changed" in caught.value.hint
    assert sim.webhook_flags(ACCOUNT)[245] == {"create": False, "update": False, "delete": False}
    assert sim.stats()["faults_served"] == 1


def test_the_simulator_redirect_fault_answers_a_3xx_with_a_location(client, sim):
    target = "https://proxy.example/login"
    sim.add_fault(path_prefix="/services/rest/record/v1/location", status=301, location=target)
    answer = requests.get(
        client.urls.record_url("location"),
        headers={"Authorization": f"Bearer {client.fetch_token().value}"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == target


def test_a_redirected_record_patch_raises_even_though_no_error_status_came(client, sim):
    sim.add_fault(kind="record", method="PATCH", action="redirect")
    with pytest.raises(RedirectRefusedError):
        client.records.patch("location", 1, {"name": "Moved"})
    assert client.records.get("location", 1)["name"] == "Location 1"
