"""The webhook table: unknown flags, the cached deployment list, versions, bulk confirmations."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from subscriptions.models import AuditEvent, WebhookState
from tests.html import forms, parse

pytestmark = pytest.mark.django_db

CUSTOMER = 245
HX = {"HTTP_HX_REQUEST": "true"}


def url(name, subscription):
    return reverse(f"subscriptions:{name}", args=[subscription.pk])


def restlet_calls(sim) -> int:
    return sim.stats()["calls"].get("restlet", 0)


def toggle(client, subscription, flag="create", on=True, deployment=CUSTOMER):
    data = {"deployment": str(deployment), "flag": flag}
    if on:
        data[flag] = "on"
    return client.post(url("webhook_toggle", subscription), data, **HX)


def box(response, flag="create", deployment=CUSTOMER):
    return parse(response).by_id(f"webhook-{deployment}-{flag}")


def test_flags_never_reported_are_unknown_not_off(netsuite_sim, support_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = support_client.get(url("webhooks", subscription), **HX)
    create = box(table)
    assert create.has("data-indeterminate") and not create.has("checked")
    label = parse(table).by_id(create["aria-describedby"])
    assert label.text == "unknown"

    row = toggle(support_client, subscription)
    assert not box(row).has("data-indeterminate") and box(row).has("checked")
    assert not box(row, "update").has("data-indeterminate")
    assert "unknown" not in row.content.decode()


def test_the_deployed_badge_stays_after_a_toggle(netsuite_sim, support_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    support_client.get(url("webhooks", subscription), **HX)
    toggle(support_client, subscription)
    again = toggle(support_client, subscription, "update")  # a recorded deployment now
    badges = [b.text for b in parse(again).find_all("span", class_="badge")]
    assert "deployed" in badges


def test_the_deployment_list_is_cached_briefly_and_writes_drop_it(
    netsuite_sim, support_client, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.reset_stats()
    first = support_client.get(url("webhooks", subscription), **HX)
    assert restlet_calls(netsuite_sim) == 1
    listed = parse(first).find("p", class_="webhook-listed")
    assert "Deployments listed by NetSuite 0 s ago" in listed.text
    refresh = listed.find("a")
    assert (refresh.text, refresh["href"]) == (
        "Refresh",
        url("webhooks", subscription) + "?refresh=1",
    )

    auditor_client.get(url("webhooks", subscription))  # another role, another view: no call
    assert restlet_calls(netsuite_sim) == 1
    entry = cache.get(f"webhooks:deployments:{subscription.pk}")
    assert set(entry) == {"account", "at", "deployments"}  # no token, no key, no flags
    assert set(entry["deployments"][0]) == {
        "scriptdeploymentid",
        "deploymentid",
        "scriptid",
        "isdeployed",
        "runasrole",
        "module",
    }
    text = json.dumps(entry, default=str)
    assert subscription.test_key_pem.splitlines()[1] not in text

    support_client.get(url("webhooks", subscription) + "?refresh=1", **HX)
    assert restlet_calls(netsuite_sim) == 2

    toggle(support_client, subscription)  # cached list: no GET, one POST
    assert restlet_calls(netsuite_sim) == 3
    assert cache.get(f"webhooks:deployments:{subscription.pk}")["stale"] is True
    support_client.get(url("webhooks", subscription), **HX)
    assert restlet_calls(netsuite_sim) == 4


def test_a_failed_list_is_not_cached(netsuite_sim, support_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.add_fault(kind="restlet", method="GET", status=503, count=10)
    failed = support_client.get(url("webhooks", subscription), **HX)
    assert "could not be asked" in failed.content.decode()
    netsuite_sim.sim.clear_faults()
    ok = support_client.get(url("webhooks", subscription), **HX)
    assert box(ok).has("data-indeterminate")


def test_a_saved_row_is_newer_than_the_table_read_before_it(netsuite_sim, support_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = support_client.get(url("webhooks", subscription), **HX)
    before = int(parse(table).by_id("webhook-table")["data-webhook-version"])
    row = toggle(support_client, subscription)
    saved = int(parse(row).find("tr")["data-webhook-version"])
    assert saved > before
    after = support_client.get(url("webhooks", subscription), **HX)
    assert int(parse(after).by_id("webhook-table")["data-webhook-version"]) == saved
    trigger = json.loads(row["HX-Trigger-After-Settle"])["webhook-saved"]
    assert trigger == {
        "message": "Customer create on: NetSuite confirmed.",
        "focus": f"webhook-{CUSTOMER}-create",
    }


# --- bulk writes are confirmed first ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "title"),
    [
        ("webhook_set_all", {"enabled": "1"}, "Enable all webhooks of every module?"),
        (
            "webhook_set_all",
            {"enabled": "0", "module": "customer"},
            "Disable all webhooks of the Customer module?",
        ),
        ("webhook_reapply", {}, "Re-apply the recorded state?"),
    ],
)
def test_a_bulk_write_without_confirmation_asks_first_and_sends_nothing(
    netsuite_sim, admin_client_, ec_pair, name, data, title
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.reset_stats()
    events = AuditEvent.objects.count()
    back = url("detail", subscription)
    page = admin_client_.post(url(name, subscription), {**data, "next": back})  # no JavaScript
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert parse(page).by_id("webhook-confirm-title").text == title
    assert netsuite_sim.stats()["requests"] == 0
    assert not WebhookState.objects.exists() and AuditEvent.objects.count() == events
    (form,) = [f for f in forms(page) if f.action == url(name, subscription)]
    assert form.method == "post"
    assert form.fields == {**data, "next": back, "confirmed": "1"} | (
        {"csrfmiddlewaretoken": form.fields["csrfmiddlewaretoken"]}
    )

    done = admin_client_.post(url(name, subscription), form.fields)
    assert done.status_code == 302 and done["Location"] == back
    assert netsuite_sim.stats()["calls"].get("restlet", 0) >= 1


def test_the_bulk_buttons_ask_the_browser_to_confirm(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    table = admin_client_.get(url("webhooks", subscription), **HX)
    bulk = [
        f
        for f in parse(table).find_all("form")
        if f.get("hx-post")
        in (url("webhook_set_all", subscription), url("webhook_reapply", subscription))
    ]
    assert len(bulk) == 2 + 7 * 2 + 1
    for form in bulk:
        assert form.get("hx-confirm")
        assert json.loads(form["hx-vals"]) == {"confirmed": "1"}
