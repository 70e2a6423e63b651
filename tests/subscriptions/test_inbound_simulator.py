"""The simulator plays the bundle's user-event script: a record change posts the webhook to
the dashboard over real HTTP (a live server), only when that module's flag is on."""

from __future__ import annotations

import pytest

from netsuite.simulator import SimulatorAdmin, SimulatorRefused
from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from tests import factories
from tests.subscriptions.conftest import ACCOUNT

CUSTOMER_DEPLOYMENT = 245  # the first scriptdeploymentid: the customer's user-event script


def point_auth_details_at(sim, url: str, token: str, entry: str = "1") -> None:
    """What "Use this dashboard" leaves in the entry (tested with the Auth Details pages)."""
    with sim.state.lock:
        record = sim.state.accounts[ACCOUNT].records["customrecord_otg_ipaas_auth_details"][entry]
        record["custrecord_otg_ipaas_webhook"] = url
        record["custrecord_otg_ipaas_access_token"] = token


@pytest.fixture
def wired(netsuite_sim, live_server):
    sim = netsuite_sim.sim
    sim.create_integration(ACCOUNT)
    subscription, key = factories.make_subscription(SYSTEM, account_id=ACCOUNT,
                                                    api_url=factories.api_url(ACCOUNT))
    point_auth_details_at(sim, f"{live_server.url}/hooks/netsuite/{subscription.pk}/", key)
    return sim, subscription


def set_flag(sim, event: str, on: bool) -> None:
    with sim.state.lock:
        sim.state.accounts[ACCOUNT].flags[CUSTOMER_DEPLOYMENT][event] = on


@pytest.mark.django_db(transaction=True)
def test_a_change_posts_only_when_the_modules_flag_is_on(wired):
    sim, subscription = wired
    quiet = sim.change_record(ACCOUNT, "customer", "create")
    assert quiet["enabled"] is False and quiet["deliveries"] == []
    assert InboundEvent.objects.count() == 0

    set_flag(sim, "update", True)
    answer = sim.change_record(ACCOUNT, "customer", "update", record_id=quiet["record_id"],
                               fields={"companyName": "Renamed"})
    assert answer["scope"] == "customer/updated"
    assert [d["status"] for d in answer["deliveries"]] == [202]
    event = InboundEvent.objects.get()
    assert (event.subscription_id, event.module, event.event, event.external_id) == (
        subscription.pk, "customer", "updated", quiet["record_id"])
    assert event.user_agent.startswith("NetSuiteSimulator")
    # Deleting with the delete flag off tells nobody.
    sim.change_record(ACCOUNT, "customer", "delete", record_id=quiet["record_id"])
    assert InboundEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_wrong_token_in_auth_details_is_refused_by_the_dashboard(wired, live_server):
    sim, subscription = wired
    point_auth_details_at(sim, f"{live_server.url}/hooks/netsuite/{subscription.pk}/", "stale")
    set_flag(sim, "create", True)
    answer = sim.change_record(ACCOUNT, "customer", "create")
    assert [d["status"] for d in answer["deliveries"]] == [401]
    assert InboundEvent.objects.count() == 0


def test_entries_without_a_token_get_nothing_and_bad_changes_are_refused(netsuite_sim):
    sim = netsuite_sim.sim
    sim.create_integration(ACCOUNT)
    set_flag(sim, "create", True)
    with SimulatorAdmin(sim.base_url) as admin:
        # The new account's entries point at iPaaS.com's hosts without a token: never posted.
        answer = admin.change_record(ACCOUNT, "customer", "create")
        assert answer["enabled"] is True and answer["deliveries"] == []
        with pytest.raises(SimulatorRefused) as refused:
            admin.change_record(ACCOUNT, "vendor", "create")
        assert refused.value.status == 400
        with pytest.raises(SimulatorRefused) as missing:
            admin.change_record(ACCOUNT, "customer", "update", record_id="999")
        assert missing.value.status == 404
    assert netsuite_sim.record("customer", answer["record_id"])["id"] == answer["record_id"]
