"""Webhook writes of one subscription take turns: while another write holds the turn, a toggle
or a bulk write waits, and past NETSUITE_SLOT_WAIT it is refused with what to do, having sent
nothing. (Two writes at once across processes: tests/scaled/.)"""

import pytest

from subscriptions.models import AuditEvent
from subscriptions.services import webhooks as service
from subscriptions.throttling import ConcurrencyLimiter, new_owner

pytestmark = pytest.mark.django_db

CUSTOMER = 245


@pytest.fixture
def turn_taken(netsuite_sim, ec_pair, settings):
    """A subscription whose webhook turn another write holds."""
    settings.NETSUITE_SLOT_WAIT = 0.2
    subscription = netsuite_sim.subscription(pair=ec_pair)
    holder = ConcurrencyLimiter(
        f"webhook-write:{subscription.pk}", 1, hold_seconds=30, wait_seconds=0
    )
    owner = new_owner()
    token = holder.take(owner)
    netsuite_sim.sim.reset_stats()
    yield subscription
    holder.store.release(holder.scope, token, owner)


def test_a_toggle_waiting_past_the_slot_wait_is_refused_and_sends_nothing(
    turn_taken, netsuite_sim, admin_user
):
    row = service.webhook_set_flag(
        subscription=turn_taken,
        scriptdeploymentid=CUSTOMER,
        flag="create",
        value=True,
        actor=admin_user,
    )
    assert row.problem is not None and row.problem.code == "WEBHOOK_WRITE_BUSY"
    assert "try again" in row.problem.hint
    assert netsuite_sim.stats()["calls"].get("restlet", 0) == 0
    assert netsuite_sim.flags()[CUSTOMER]["create"] is False
    failed = AuditEvent.objects.get(action="webhook.set_failed")
    assert failed.actor_name == admin_user.username


def test_a_bulk_write_waiting_past_the_slot_wait_is_refused_and_sends_nothing(
    turn_taken, netsuite_sim, admin_user
):
    result = service.webhook_set_all(subscription=turn_taken, enabled=True, actor=admin_user)
    assert result.table.problem.code == "WEBHOOK_WRITE_BUSY"
    assert netsuite_sim.stats()["calls"].get("restlet", 0) == 0
    assert not any(any(flags.values()) for flags in netsuite_sim.flags().values())
    assert AuditEvent.objects.filter(action="webhook.bulk_failed").count() == 1


def test_the_turn_is_given_back_after_each_write(netsuite_sim, ec_pair, admin_user, settings):
    settings.NETSUITE_SLOT_WAIT = 0.2
    subscription = netsuite_sim.subscription(pair=ec_pair)
    for flag in ("create", "update", "delete"):
        row = service.webhook_set_flag(
            subscription=subscription,
            scriptdeploymentid=CUSTOMER,
            flag=flag,
            value=True,
            actor=admin_user,
        )
        assert row.problem is None, row.problem
    assert (
        service.webhook_set_all(subscription=subscription, enabled=False, actor=admin_user).failed
        == 0
    )
    assert netsuite_sim.flags()[CUSTOMER] == {"create": False, "update": False, "delete": False}
