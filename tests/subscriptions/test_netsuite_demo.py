"""demo_setup: a ready demo subscription in the simulator, idempotent, never real NetSuite."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from netsuite.simulator import Simulator
from subscriptions.models import AuditEvent, Certificate, ConnectionTest, Subscription

pytestmark = pytest.mark.django_db


def run(capsys):
    call_command("demo_setup")
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "base_url, simulator", [(None, False), ("http://127.0.0.1:9", False), (None, True)]
)
def test_it_refuses_to_run_outside_simulator_mode(settings, base_url, simulator):
    # A base URL alone may be a proxy in front of real NetSuite: demo_setup needs both.
    settings.NETSUITE_BASE_URL = base_url
    settings.NETSUITE_SIMULATOR = simulator
    with pytest.raises(CommandError, match="Simulator mode is off"):
        call_command("demo_setup")
    assert not Subscription.objects.exists()


def test_it_says_so_when_the_simulator_is_not_running(netsuite_sim):
    netsuite_sim.sim.stop()
    with pytest.raises(CommandError, match="does not answer"):
        call_command("demo_setup")
    assert not Subscription.objects.exists()


def test_it_creates_a_working_demo_subscription(netsuite_sim, capsys):
    out = run(capsys)
    lines = [line for line in out.splitlines() if line.startswith("demo_setup: ")]
    assert len(lines) == 7
    assert "generated RSA 3072 key and certificate" in out
    assert "connection test passed" in out
    demo = Subscription.objects.get(name="Demo (simulator)")
    assert demo.account_id == "1234567"
    assert demo.private_key_type == "RSA 3072"
    active = Certificate.objects.get(subscription=demo, status="active")
    assert active.certificate_id == demo.certificate_id
    assert active.public_key_fingerprint == demo.private_key_fingerprint
    assert ConnectionTest.objects.get(subscription=demo).outcome == "passed"
    assert demo.webhook_api_key_set_at is not None
    assert AuditEvent.objects.filter(action="certificate.installed").count() == 1


def test_a_second_run_refreshes_instead_of_duplicating(netsuite_sim, capsys):
    run(capsys)
    first = Subscription.objects.get()
    out = run(capsys)
    assert "reusing RSA 3072 key and certificate" in out
    assert "already in the simulator" in out
    demo = Subscription.objects.get()
    assert demo.pk == first.pk
    assert demo.private_key_fingerprint == first.private_key_fingerprint
    assert Certificate.objects.filter(subscription=demo).count() == 1
    assert AuditEvent.objects.filter(action="certificate.installed").count() == 1


def test_after_a_simulator_restart_it_registers_again_and_stores_the_new_id(
    netsuite_sim, settings, capsys
):
    run(capsys)
    before = Subscription.objects.get()
    netsuite_sim.sim.stop()
    with Simulator(port=0) as fresh:
        settings.NETSUITE_BASE_URL = fresh.base_url
        out = run(capsys)
        assert "created in account 1234567" in out
        demo = Subscription.objects.get()
        assert demo.certificate_id != before.certificate_id
        assert demo.consumer_id == before.consumer_id
        assert "connection test passed" in out
        active = Certificate.objects.get(subscription=demo, status="active")
        assert active.certificate_id == demo.certificate_id
        assert not Certificate.objects.filter(status="retired").exists()
        event = AuditEvent.objects.filter(action="certificate.installed").first()
        assert event.changes == {"certificate_id": [before.certificate_id, demo.certificate_id]}
