"""Reads that cost NetSuite calls: an auditor's 20 page views made 50 NetSuite requests (Auth
Details, the certificates NetSuite holds, the webhook table). Read-only viewers are now shown
NetSuite's last answer, with one shared "Refresh from NetSuite" per NETSUITE_REFRESH_SECONDS;
administrators keep live reads. NetSuite's requests are counted by the simulator's stats
endpoint, over HTTP."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from netsuite.simulator.admin import SimulatorAdmin
from subscriptions.models import NetSuiteSnapshot
from tests.html import badges, forms

pytestmark = pytest.mark.django_db

RECORD = "customrecord_otg_ipaas_auth_details"
TOKEN_FIELD = "custrecord_otg_ipaas_access_token"
Kind = NetSuiteSnapshot.Kind


def netsuite_requests(netsuite_sim) -> int:
    """Every request NetSuite got: token requests and API calls, from the stats endpoint."""
    with SimulatorAdmin(netsuite_sim.base_url) as admin:
        stats = admin.stats()
    return stats["requests"] + stats["token_requests"]


def section_urls(subscription) -> list[str]:
    return [
        reverse("subscriptions:auth_details", args=[subscription.pk]),
        reverse("subscriptions:certificates", args=[subscription.pk]),
        reverse("subscriptions:certificate_netsuite_list", args=[subscription.pk]),
        reverse("subscriptions:webhooks", args=[subscription.pk]) + "?show=1",
        reverse("subscriptions:webhooks", args=[subscription.pk]),
    ]


def refresh_url(subscription, kind) -> str:
    return reverse("subscriptions:netsuite_refresh", args=[subscription.pk, kind])


def read_as_administrator(client, subscription) -> None:
    for url in section_urls(subscription):
        assert client.get(url).status_code == 200


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_twenty_auditor_views_cost_no_netsuite_request_once_read(
    netsuite_sim, admin_client_, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    read_as_administrator(admin_client_, subscription)
    assert set(
        NetSuiteSnapshot.objects.filter(subscription=subscription).values_list("kind", flat=True)
    ) == {Kind.AUTH_DETAILS, Kind.NETSUITE_CERTIFICATES, Kind.WEBHOOK_TABLE}

    before = netsuite_requests(netsuite_sim)
    urls = section_urls(subscription)
    pages = [auditor_client.get(urls[n % len(urls)]) for n in range(20)]
    assert [page.status_code for page in pages] == [200] * 20
    assert netsuite_requests(netsuite_sim) == before

    auth = pages[0].content.decode()
    assert "As NetSuite answered at" in auth and "(read for alice-admin)" in auth
    for name in ("Production", "Sandbox", "Beta"):
        assert name in auth
    # Every section of the auditor offers the one Refresh, a POST.
    for page, kind in ((pages[0], Kind.AUTH_DETAILS), (pages[2], Kind.NETSUITE_CERTIFICATES),
                       (pages[3], Kind.WEBHOOK_TABLE)):
        [form] = [f for f in forms(page) if f.action == refresh_url(subscription, kind)]
        assert form.method == "post" and "Refresh from NetSuite" in form.buttons


def test_the_first_auditor_view_reads_once_and_the_next_ones_never(
    netsuite_sim, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = reverse("subscriptions:auth_details", args=[subscription.pk])
    before = netsuite_requests(netsuite_sim)
    first = auditor_client.get(url)
    assert "Production" in first.content.decode()
    after_first = netsuite_requests(netsuite_sim)
    assert after_first > before
    for _ in range(19):
        assert auditor_client.get(url).status_code == 200
    assert netsuite_requests(netsuite_sim) == after_first
    snapshot = NetSuiteSnapshot.objects.get(subscription=subscription, kind=Kind.AUTH_DETAILS)
    assert snapshot.fetched_by == "ada-auditor" and snapshot.refreshed_at is not None


def test_administrators_keep_live_reads(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = reverse("subscriptions:auth_details", args=[subscription.pk])
    admin_client_.get(url)
    once = netsuite_requests(netsuite_sim)
    page = admin_client_.get(url)
    assert netsuite_requests(netsuite_sim) > once
    assert "As NetSuite answered at" not in page.content.decode()
    assert refresh_url(subscription, Kind.AUTH_DETAILS) not in {f.action for f in forms(page)}


def test_support_reads_live_what_they_change_and_the_snapshot_of_the_rest(
    netsuite_sim, admin_client_, support_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    read_as_administrator(admin_client_, subscription)
    before = netsuite_requests(netsuite_sim)
    support_client.get(reverse("subscriptions:auth_details", args=[subscription.pk]))
    support_client.get(reverse("subscriptions:certificate_netsuite_list", args=[subscription.pk]))
    assert netsuite_requests(netsuite_sim) == before
    # Support switches webhooks: their table is NetSuite's own (refresh=1 skips the cache).
    support_client.get(reverse("subscriptions:webhooks", args=[subscription.pk]) + "?refresh=1")
    assert netsuite_requests(netsuite_sim) > before


def test_a_refresh_reads_once_and_another_within_the_window_is_refused_without_a_call(
    netsuite_sim, admin_client_, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    auth = reverse("subscriptions:auth_details", args=[subscription.pk])
    admin_client_.get(auth)
    one_read = netsuite_requests(netsuite_sim)
    admin_client_.get(auth)
    cost = netsuite_requests(netsuite_sim) - one_read  # what one live read of the entries costs
    netsuite_sim.sim.state.accounts["1234567"].records[RECORD]["3"]["name"] = "Beta renamed"

    before = netsuite_requests(netsuite_sim)
    done = auditor_client.post(
        refresh_url(subscription, Kind.AUTH_DETAILS), {"next": auth}, follow=True
    )
    assert done.redirect_chain == [(auth, 302)]
    assert messages_of(done) == ["Read from NetSuite just now."]
    assert netsuite_requests(netsuite_sim) - before == cost
    assert "Beta renamed" in done.content.decode()
    snapshot = NetSuiteSnapshot.objects.get(subscription=subscription, kind=Kind.AUTH_DETAILS)
    assert snapshot.fetched_by == "ada-auditor"
    assert "may be used again at" in done.content.decode()

    # Anyone read-only, within the window: refused, no call, the snapshot unchanged.
    before = netsuite_requests(netsuite_sim)
    refused = auditor_client.post(
        refresh_url(subscription, Kind.AUTH_DETAILS), {"next": auth}, follow=True
    )
    [message] = messages_of(refused)
    assert "may be used again in" in message and "60 seconds" in message
    assert netsuite_requests(netsuite_sim) == before
    assert NetSuiteSnapshot.objects.get(pk=snapshot.pk).fetched_at == snapshot.fetched_at

    # Once the window has passed, a refresh reads again.
    NetSuiteSnapshot.objects.filter(pk=snapshot.pk).update(
        refreshed_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    again = auditor_client.post(refresh_url(subscription, Kind.AUTH_DETAILS), {"next": auth})
    assert again.status_code == 302
    assert netsuite_requests(netsuite_sim) - before == cost


@pytest.mark.parametrize("kind", [Kind.NETSUITE_CERTIFICATES, Kind.WEBHOOK_TABLE])
def test_the_other_reads_refresh_the_same_way(netsuite_sim, auditor_client, ec_pair, kind):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    before = netsuite_requests(netsuite_sim)
    auditor_client.post(refresh_url(subscription, kind))
    assert netsuite_requests(netsuite_sim) > before
    snapshot = NetSuiteSnapshot.objects.get(subscription=subscription, kind=kind)
    assert snapshot.data and snapshot.fetched_by == "ada-auditor"
    between = netsuite_requests(netsuite_sim)
    auditor_client.post(refresh_url(subscription, kind))
    assert netsuite_requests(netsuite_sim) == between


def test_an_unknown_read_is_a_404_and_costs_nothing(netsuite_sim, auditor_client, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    before = netsuite_requests(netsuite_sim)
    assert auditor_client.post(refresh_url(subscription, "passwords")).status_code == 404
    assert netsuite_requests(netsuite_sim) == before
    assert not NetSuiteSnapshot.objects.exists()


def test_a_snapshot_never_holds_the_token_or_the_webhook_key(
    netsuite_sim, admin_client_, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    webhook_key = type(subscription).objects.get(pk=subscription.pk).webhook_api_key
    assert webhook_key
    with netsuite_sim.sim.state.lock:
        records = netsuite_sim.sim.state.accounts["1234567"].records[RECORD]
        records["1"][TOKEN_FIELD] = webhook_key
        records["2"][TOKEN_FIELD] = "secret-token-value-in-netsuite"
    read_as_administrator(admin_client_, subscription)
    stored = json.dumps(list(NetSuiteSnapshot.objects.values_list("data", flat=True)))
    assert "secret-token-value-in-netsuite" not in stored and webhook_key not in stored
    entries = NetSuiteSnapshot.objects.get(kind=Kind.AUTH_DETAILS).data["entries"]
    assert [entry["token_set"] for entry in entries][:2] == [True, True]
    page = auditor_client.get(reverse("subscriptions:auth_details", args=[subscription.pk]))
    html = page.content.decode()
    assert "secret-token-value-in-netsuite" not in html and webhook_key not in html
    assert ("ok", "set") in badges(page)
