""""Register in the simulator" goes through the hardened admin client (SimulatorAdmin): a
redirect is refused, not followed (it would carry the certificate to another host), and proxy
settings from the environment are ignored.

tests/netsuite covers SimulatorAdmin itself; these make sure the service keeps using it.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from subscriptions.models import AuditEvent, Certificate
from subscriptions.services import certificates as service

pytestmark = pytest.mark.django_db


def redirecting_to(location: str):
    """A server that answers every request with a 307 to ``location``, counting them."""
    seen = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", location + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def test_a_simulator_answering_a_redirect_is_refused_and_nothing_is_registered(
    netsuite_sim, admin_user, ec_pair, settings
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    registered_before = netsuite_sim.stats()
    server, seen = redirecting_to(netsuite_sim.base_url)
    try:
        settings.NETSUITE_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(service.CertificateActionError, match="HTTP 307"):
            service.certificate_register_in_simulator(certificate=cert, actor=admin_user)
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == 1  # asked once, and the redirect was not followed to the simulator
    assert netsuite_sim.stats()["requests"] == registered_before["requests"]
    assert Certificate.objects.get(pk=cert.pk).certificate_id == ""
    assert not AuditEvent.objects.filter(action="certificate.id_set").exists()


def test_proxy_settings_in_the_environment_are_ignored(
    netsuite_sim, admin_user, ec_pair, monkeypatch
):
    # A proxy that is not there: a client that honoured it could not reach the simulator.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = service.certificate_generate(subscription=subscription, actor=None, key_type="ec-p256")
    service.certificate_register_in_simulator(certificate=cert, actor=admin_user)
    assert Certificate.objects.get(pk=cert.pk).certificate_id
