"""SimulatorAdmin against a real simulator over HTTP: answers, refusals and no answer at all.

Answers the simulator never gives (not JSON, a redirect) come from a local HTTP server.
"""

import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from netsuite.accounts import InvalidBaseUrl
from netsuite.auth import Credentials
from netsuite.simulator import (
    SimulatorAdmin,
    SimulatorAdminError,
    SimulatorRefused,
    SimulatorUnreachable,
)

from .helpers import ACCOUNT, canned, serve


def test_health_and_repr(sim, admin):
    assert admin.health() == {"ok": True}
    assert repr(admin) == f"SimulatorAdmin({sim.base_url!r})"
    assert SimulatorAdmin(sim.base_url + "/").base_url == sim.base_url


def test_create_integration_then_register_a_certificate(sim, admin, ec_pair, make_client):
    created = admin.create_integration(ACCOUNT, name="Demo integration")
    assert created["account_id"] == ACCOUNT and created["name"] == "Demo integration"
    assert created["scopes"] == ["rest_webservices", "restlets"]
    certificate_id = admin.register_certificate(ACCOUNT, created["consumer_id"], ec_pair[1])
    assert isinstance(certificate_id, str) and certificate_id
    # The same certificate again answers the ID it already has, as NetSuite does.
    assert admin.register_certificate(ACCOUNT, created["consumer_id"], ec_pair[1]) == (
        certificate_id
    )
    # What was registered over HTTP signs a client in.
    client = make_client(Credentials(ACCOUNT, created["consumer_id"], certificate_id, ec_pair[0]))
    assert client.fetch_token().value
    assert admin.login_audit()[-1]["result"] == "Success"
    assert admin.stats()["tokens_issued"] == 1


def test_chosen_consumer_id_and_scopes(admin):
    created = admin.create_integration(
        "7654321", consumer_id="demo-consumer", scopes=["rest_webservices"], concurrency_limit=2
    )
    assert created["consumer_id"] == "demo-consumer"
    assert created["scopes"] == ["rest_webservices"]
    assert admin.governance("7654321")["accountUnallocatedConcurrencyLimit"] == 3


def test_a_consumer_id_already_used_is_refused(admin):
    admin.create_integration(ACCOUNT, consumer_id="demo-consumer")
    with pytest.raises(SimulatorRefused) as info:
        admin.create_integration(ACCOUNT, consumer_id="demo-consumer")
    error = info.value
    assert isinstance(error, SimulatorAdminError)
    assert error.status == 400
    assert error.error == "That consumer ID is already used by another integration."
    assert error.error in str(error) and "POST /_sim/integrations" in str(error)


def test_an_unknown_account_is_refused(admin, ec_pair):
    consumer_id = admin.create_integration(ACCOUNT)["consumer_id"]
    with pytest.raises(SimulatorRefused) as info:
        admin.register_certificate("7654321", consumer_id, ec_pair[1])
    assert info.value.status == 404 and "7654321" in info.value.error
    with pytest.raises(SimulatorRefused) as info:
        admin.webhook_flags("7654321")
    assert info.value.status == 404
    with pytest.raises(SimulatorRefused) as info:
        admin.create_integration("not an account")
    assert info.value.status == 400 and "Account ID" in info.value.error


def test_revoking(sim, admin, client, creds):
    client.fetch_token()
    assert admin.revoke_tokens(ACCOUNT) == 1
    assert admin.revoke_tokens() == 0
    admin.revoke_certificate(creds.certificate_id)
    assert sim.state.certificates[creds.certificate_id].revoked
    with pytest.raises(SimulatorRefused) as info:
        admin.revoke_certificate("no/such id")
    assert info.value.status == 404


def test_webhook_flags_match_the_in_process_view(sim, admin, client):
    client.webhooks.set_flags(246, create=True, update=False, delete=False)
    assert admin.webhook_flags(ACCOUNT) == sim.webhook_flags(ACCOUNT)
    assert admin.webhook_flags(ACCOUNT)[246]["create"] is True


def test_stats_faults_and_config(sim, admin, client):
    client.fetch_token()
    admin.configure(latency=0.0)
    assert admin.add_fault(kind="record", status=503, count=1) >= 1
    client.records.get("location", 1)
    assert admin.stats()["faults_served"] == 1
    admin.reset_stats()
    assert admin.stats()["requests"] == 0
    admin.add_fault(kind="record", status=503, count=3)
    admin.clear_faults()
    assert sim.state.faults == []


def test_a_closed_port_is_unreachable(closed_port):
    base_url = f"http://127.0.0.1:{closed_port}"
    with SimulatorAdmin(base_url) as admin, pytest.raises(SimulatorUnreachable) as info:
        admin.health()
    message = str(info.value)
    assert isinstance(info.value, SimulatorAdminError)
    assert base_url in message
    assert f"python -m netsuite.simulator --port {closed_port}" in message


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(1.0)

    def log_message(self, *args):
        pass


def test_no_answer_in_time_is_unreachable():
    with serve(_Slow) as server:
        with SimulatorAdmin(server.base_url, timeout=(1.0, 0.2)) as admin, pytest.raises(
            SimulatorUnreachable, match="ReadTimeout"
        ):
            admin.health()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((200, b"<html>a web server</html>", {"Content-Type": "text/html"}), "without a JSON dict"),
        ((200, b'{"status": "fine"}'), "without a JSON dict with 'ok'"),
        ((200, b"[1, 2]"), "without a JSON dict"),
        ((502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}), "HTTP 502"),
    ],
)
def test_an_answer_that_is_not_the_simulators_is_refused(answer, words):
    with serve(canned({"/_sim/health": answer})) as server:
        with SimulatorAdmin(server.base_url) as admin, pytest.raises(SimulatorRefused) as info:
            admin.health()
    assert words in str(info.value)
    assert info.value.status == answer[0]
    assert info.value.error is None


def test_a_redirect_is_not_followed(sim):
    target = f"{sim.base_url}/_sim/integrations"
    routes = {"/_sim/integrations": (307, b"", {"Location": target})}
    with serve(canned(routes)) as server:
        with SimulatorAdmin(server.base_url) as admin, pytest.raises(SimulatorRefused) as info:
            admin.create_integration(ACCOUNT)
    assert info.value.status == 307
    assert sim.state.integrations == {}


def test_environment_proxies_are_ignored(sim, monkeypatch, closed_port):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    # The proxy really is in the way of a client that honours the environment...
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim.base_url}/_sim/health", timeout=2)
    # ...and not in the way of this one.
    with SimulatorAdmin(sim.base_url) as admin:
        assert admin.health() == {"ok": True}


def test_a_given_session_is_used_and_left_open(sim):
    session = requests.Session()
    session.trust_env = False
    with SimulatorAdmin(sim.base_url, session=session) as admin:
        assert admin.session is session
        admin.health()
    # Still usable: closing the admin client did not close the caller's session.
    assert session.get(f"{sim.base_url}/_sim/health", timeout=5).json() == {"ok": True}
    session.close()


def test_base_url_must_be_an_origin():
    with pytest.raises(InvalidBaseUrl):
        SimulatorAdmin("http://127.0.0.1:8765/_sim")
