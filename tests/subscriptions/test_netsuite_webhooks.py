"""Webhooks per module: the table, toggles, bulk actions, re-apply, failures and token reuse."""

import pytest
from django.urls import reverse

from netsuite.restlet import MODULES
from subscriptions.integration import client_for
from subscriptions.models import AuditEvent, WebhookState
from subscriptions.services import webhooks as service
from subscriptions.services.connection import connection_test_run
from tests.html import parse

pytestmark = pytest.mark.django_db

CUSTOMER = 245  # the simulator's first deployment id, in MODULES order
VENDOR = 252  # the deployment no module claims


def url(name, subscription):
    return reverse(f"subscriptions:{name}", args=[subscription.pk])


def checkboxes(response) -> dict[str, bool]:
    """Each webhook checkbox by its label ("Customer create") -> whether it is checked."""
    return {
        box.parent.text: box.has("checked")
        for box in parse(response).find_all("input", type="checkbox")
    }


def toggle(client, subscription, deployment, flag, on, htmx=True):
    data = {"deployment": str(deployment), "flag": flag}
    if on:
        data[flag] = "on"
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url("webhook_toggle", subscription), data, **headers)


def test_the_table_has_the_seven_modules_and_shows_the_unplaceable_deployment(
    netsuite_sim, support_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = service.webhook_table(subscription=subscription)
    assert [row.label for row in table.rows] == [label for _, label in MODULES]
    assert all(row.scriptdeploymentid for row in table.rows)
    assert [row.scriptid for row in table.unplaced] == ["customdeploy_otg_ipaas_vendor_sync_ue"]
    response = support_client.get(url("webhooks", subscription))
    html = response.content.decode()
    assert set(checkboxes(response)) == {
        f"{label} {flag}" for _, label in MODULES for flag in ("create", "update", "delete")
    }
    assert "customdeploy_otg_ipaas_vendor_sync_ue" in html
    assert "cannot place in a module" in html


def test_a_toggle_sends_all_three_flags_and_records_the_confirmed_state(
    netsuite_sim, support_client, support_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = toggle(support_client, subscription, CUSTOMER, "create", True)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="webhook-customer-245"')
    assert checkboxes(response) == {
        "Customer create": True, "Customer update": False, "Customer delete": False
    }
    assert f"set by {support_user.username}" in html
    assert netsuite_sim.flags()[CUSTOMER] == {"create": True, "update": False, "delete": False}
    state = WebhookState.objects.get(subscription=subscription, scriptdeploymentid=CUSTOMER)
    assert state.flags == {"create": True, "update": False, "delete": False}
    assert state.module == "customer" and state.set_by == support_user.username
    event = AuditEvent.objects.get(action="webhook.set")
    assert event.changes["Customer create"] == [None, True]
    assert event.changes["NetSuite answer"] == [None, "OK"]
    assert event.actor_name == support_user.username

    # The next toggle starts from the recorded state: create stays on.
    toggle(support_client, subscription, CUSTOMER, "delete", True)
    assert netsuite_sim.flags()[CUSTOMER] == {"create": True, "update": False, "delete": True}
    toggle(support_client, subscription, CUSTOMER, "create", False)
    assert netsuite_sim.flags()[CUSTOMER] == {"create": False, "update": False, "delete": True}
    last = AuditEvent.objects.filter(action="webhook.set").first()
    assert last.changes["Customer create"] == [True, False]


def test_a_refused_toggle_keeps_the_checkbox_as_netsuite_has_it_and_says_why(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    toggle(admin_client_, subscription, CUSTOMER, "update", True)
    netsuite_sim.sim.add_fault(
        kind="restlet",
        method="POST",
        status=400,
        body={"error": {"code": "INSUFFICIENT_PERMISSION", "message": "Role lacks access"}},
    )
    response = toggle(admin_client_, subscription, CUSTOMER, "create", True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "INSUFFICIENT_PERMISSION" in html and "Role lacks access" in html
    assert "What to do:" in html
    state = WebhookState.objects.get(scriptdeploymentid=CUSTOMER)
    assert state.flags == {"create": False, "update": True, "delete": False}
    assert netsuite_sim.flags()[CUSTOMER]["create"] is False
    failed = AuditEvent.objects.get(action="webhook.set_failed")
    assert failed.changes["NetSuite code"] == [None, "INSUFFICIENT_PERMISSION"]
    assert failed.changes["HTTP status"] == [None, 400]


def test_an_unknown_deployment_is_refused_without_a_post(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    html = toggle(admin_client_, subscription, 9999, "create", True).content.decode()
    assert "NetSuite lists no webhook deployment 9999" in html
    assert netsuite_sim.stats()["calls"].get("restlet") == 1  # the GET, no POST
    assert not WebhookState.objects.exists()


def test_without_javascript_a_row_saves_all_three_flags(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    back = url("webhooks", subscription)
    response = admin_client_.post(
        url("webhook_toggle", subscription),
        {"deployment": str(CUSTOMER + 1), "create": "on", "delete": "on", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert netsuite_sim.flags()[CUSTOMER + 1] == {"create": True, "update": False, "delete": True}


def test_after_the_connection_test_all_21_toggles_cost_at_most_one_token(
    netsuite_sim, support_client, support_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    assert connection_test_run(subscription=subscription, actor=support_user).outcome == "passed"
    netsuite_sim.sim.reset_stats()
    for offset in range(len(MODULES)):
        for flag in ("create", "update", "delete"):
            response = toggle(support_client, subscription, CUSTOMER + offset, flag, True)
            assert "alert" not in response.content.decode()
    assert netsuite_sim.stats()["token_requests"] <= 1
    flags = netsuite_sim.flags()
    assert all(flags[CUSTOMER + i] == dict.fromkeys(("create", "update", "delete"), True)
               for i in range(len(MODULES)))
    assert WebhookState.objects.filter(subscription=subscription).count() == len(MODULES)


def test_enable_all_for_one_module_and_for_the_subscription(
    netsuite_sim, admin_client_, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = admin_client_.post(
        url("webhook_set_all", subscription),
        {"module": "sales_order", "enabled": "1", "confirmed": "1"},
        **htmx_headers,
    )
    html = response.content.decode()
    assert "Enable all (Sales Order): NetSuite confirmed 1 deployment." in html
    flags = netsuite_sim.flags()
    assert flags[CUSTOMER + 5] == dict.fromkeys(("create", "update", "delete"), True)
    assert flags[CUSTOMER] == dict.fromkeys(("create", "update", "delete"), False)

    response = admin_client_.post(
        url("webhook_set_all", subscription), {"enabled": "1", "confirmed": "1"}, **htmx_headers
    )
    assert "NetSuite confirmed 7 deployments" in response.content.decode()
    flags = netsuite_sim.flags()
    assert all(all(flags[CUSTOMER + i].values()) for i in range(7))
    assert not any(flags[VENDOR].values())  # the unplaced one is left alone

    admin_client_.post(
        url("webhook_set_all", subscription), {"enabled": "0", "confirmed": "1"}, **htmx_headers
    )
    assert not any(any(flags.values()) for flags in netsuite_sim.flags().values())
    assert AuditEvent.objects.filter(action="webhook.set").count() == 1 + 7 + 7


def test_bulk_actions_never_exceed_the_concurrency_cap(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair, concurrent_connections=2)
    netsuite_sim.sim.configure(latency=0.05)
    netsuite_sim.sim.reset_stats()
    result = service.webhook_set_all(subscription=subscription, enabled=True, actor=admin_user)
    assert result.succeeded == 7 and result.failed == 0
    stats = netsuite_sim.stats()
    assert stats["max_in_flight"] == 2
    assert stats["rejected_429"] == 0 and stats["restlet_limit_errors"] == 0


def test_reapply_pushes_the_recorded_state_again(netsuite_sim, admin_client_, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    service.webhook_set_flag(
        subscription=subscription, scriptdeploymentid=CUSTOMER, flag="create", value=True,
        actor=admin_user,
    )
    service.webhook_set_flags(
        subscription=subscription, scriptdeploymentid=CUSTOMER + 3,
        flags={"create": False, "update": True, "delete": True}, actor=admin_user,
    )
    # A sandbox refresh, say: NetSuite forgot the flags.
    with client_for(subscription) as client:
        client.webhooks.delete_subscription(CUSTOMER)
        client.webhooks.delete_subscription(CUSTOMER + 3)
    assert not any(netsuite_sim.flags()[CUSTOMER].values())
    response = admin_client_.post(
        url("webhook_reapply", subscription), {"confirmed": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "Re-apply the recorded state: NetSuite confirmed 2 deployments." in (
        response.content.decode()
    )
    assert netsuite_sim.flags()[CUSTOMER] == {"create": True, "update": False, "delete": False}
    assert netsuite_sim.flags()[CUSTOMER + 3] == {"create": False, "update": True, "delete": True}


def test_a_bulk_action_with_netsuite_down_changes_nothing_and_is_audited(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.stop()
    response = admin_client_.post(
        url("webhook_set_all", subscription),
        {"enabled": "1", "confirmed": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "could not be reached" in html
    assert "below is the state this dashboard last set" in html
    assert not WebhookState.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.bulk_failed").count() == 1


def test_the_table_when_netsuite_is_down_shows_the_recorded_state(
    netsuite_sim, admin_client_, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    service.webhook_set_flag(
        subscription=subscription, scriptdeploymentid=CUSTOMER, flag="update", value=True,
        actor=admin_user,
    )
    netsuite_sim.sim.stop()
    html = admin_client_.get(url("webhooks", subscription)).content.decode()
    assert "could not be reached" in html
    assert "as recorded" in html and f"set by {admin_user.username}" in html


def test_bad_toggle_requests_are_refused(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    assert toggle(admin_client_, subscription, "x", "create", True).status_code == 400
    assert toggle(admin_client_, subscription, CUSTOMER, "drop", True).status_code == 400
    response = admin_client_.post(url("webhook_set_all", subscription), {"enabled": "yes"})
    assert response.status_code == 400
    assert netsuite_sim.stats()["requests"] == 0
