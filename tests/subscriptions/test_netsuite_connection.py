"""The connection test against the simulator, step by step, and its command."""

import pytest

from subscriptions.models import AuditEvent, ConnectionTest
from subscriptions.services.connection import STEPS, connection_test_run

pytestmark = pytest.mark.django_db


def test_a_registered_subscription_passes_every_step(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    seen = []
    test = connection_test_run(subscription=subscription, actor=admin_user, on_step=seen.append)
    assert test.outcome == "passed", test.steps
    assert [s["key"] for s in test.steps] == [key for key, _ in STEPS]
    assert seen == test.steps
    assert all(s["status"] == "ok" for s in test.steps)
    assert "ES256" in test.steps[1]["detail"]
    assert "8 deployments found (1 not placed in a module)" in test.steps[4]["detail"]
    event = AuditEvent.objects.filter(action="connection_test.passed").get()
    assert event.subscription_id == subscription.pk
    assert event.actor_name == admin_user.username
