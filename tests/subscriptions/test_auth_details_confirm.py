"""iPaaS Auth Details: a refused value is never shown as saved; "Use this dashboard" confirms
old -> new first, and Production needs its name typed."""

import pytest
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from tests.html import parse

pytestmark = pytest.mark.django_db

RECORD = "customrecord_otg_ipaas_auth_details"
PRODUCTION_URL = "https://api.ipaas.com/hookapi/v2/iPaaS1"
SANDBOX_URL = "https://stagingapi.ipaas.com/hookapi/v2/iPaaS1"
TYPED = "https://hooks.example.com/refused/"


def shown(name, url, token_set="0", **extra):
    return {
        "name": name,
        "token_set": token_set,
        "shown_webhook_url": url,
        "shown_tracking_guid": "",
        **extra,
    }


def facts(response, entry) -> str:
    return parse(response).by_id(f"auth-entry-{entry}").find("dl").text


def refuse_patches(sim):
    sim.sim.add_fault(
        kind="record",
        method="PATCH",
        status=400,
        body={"o:errorDetails": [{"detail": "Invalid URL", "o:errorCode": "INVALID_FLD_VALUE"}]},
    )


@pytest.mark.parametrize("htmx", [True, False])
def test_a_value_netsuite_refused_stays_in_the_form_not_in_the_saved_values(
    netsuite_sim, admin_client_, ec_pair, htmx
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    refuse_patches(netsuite_sim)
    response = admin_client_.post(
        reverse("subscriptions:auth_details_edit", args=[subscription.pk, 2]),
        {**shown("Sandbox", SANDBOX_URL), "entry2-webhook_url": TYPED},
        **({"HTTP_HX_REQUEST": "true"} if htmx else {}),
    )
    assert response.status_code == 200
    assert SANDBOX_URL in facts(response, 2) and TYPED not in facts(response, 2)
    typed = parse(response).find("input", name="entry2-webhook_url")
    assert typed["value"] == TYPED
    assert "INVALID_FLD_VALUE" in response.content.decode()
    assert netsuite_sim.record(RECORD, "2")["custrecord_otg_ipaas_webhook"] == SANDBOX_URL


@pytest.mark.parametrize("htmx", [True, False])
def test_use_this_dashboard_shows_old_and_new_and_sends_nothing_before_confirmation(
    netsuite_sim, admin_client_, ec_pair, htmx
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.reset_stats()
    url = reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 2])
    response = admin_client_.post(
        url,
        shown("Sandbox", SANDBOX_URL, token_set="1"),
        **({"HTTP_HX_REQUEST": "true"} if htmx else {}),
    )
    assert response.status_code == 200
    assert ("<html" in response.content.decode()) is not htmx
    rows = {
        row.find("th").text: [td.text for td in row.find_all("td")]
        for row in parse(response).find("table", class_="use-dashboard-changes").find_all("tr")[1:]
    }
    inbound = f"http://testserver/hooks/netsuite/{subscription.pk}/"
    assert rows["Webhook URL"] == [SANDBOX_URL, inbound]
    assert rows["Access token"][0] == "set"
    assert rows["Access token"][1].startswith("will be replaced")
    key = Subscription.objects.get(pk=subscription.pk).webhook_api_key
    assert key not in response.content.decode()
    assert parse(response).find("input", name="confirm_name") is None  # not Production
    assert netsuite_sim.stats()["requests"] == 0
    assert not AuditEvent.objects.filter(action__startswith="auth_details").exists()

    form = parse(response).by_id("auth-entry-2").find("form")
    assert form.find("input", name="confirmed")["value"] == "1"
    cancelled = admin_client_.post(
        url, {**shown("Sandbox", SANDBOX_URL), "cancel": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "Point Sandbox at this dashboard?" not in cancelled.content.decode()
    assert netsuite_sim.stats()["requests"] == 0


def test_production_is_overwritten_only_with_its_name_typed(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 1])
    data = {**shown("Production", PRODUCTION_URL), "confirmed": "1"}
    netsuite_sim.sim.reset_stats()
    for typed in ("", "production ", "Sandbox"):
        refused = admin_client_.post(url, {**data, "confirm_name": typed}, HTTP_HX_REQUEST="true")
        assert "Type Production to confirm." in refused.content.decode()
        assert parse(refused).find("input", name="confirm_name") is not None
    assert netsuite_sim.stats()["requests"] == 0
    assert netsuite_sim.record(RECORD, "1")["custrecord_otg_ipaas_webhook"] == PRODUCTION_URL

    done = admin_client_.post(url, {**data, "confirm_name": "Production"}, HTTP_HX_REQUEST="true")
    assert "Production: NetSuite now sends webhooks to this dashboard" in done.content.decode()
    assert netsuite_sim.record(RECORD, "1")["custrecord_otg_ipaas_webhook"] == (
        f"http://testserver/hooks/netsuite/{subscription.pk}/"
    )


def test_a_page_that_misnames_production_is_still_asked_for_the_name(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 1])
    response = admin_client_.post(
        url, {**shown("Sandbox", PRODUCTION_URL), "confirmed": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "Type Production to confirm." in response.content.decode()
    assert netsuite_sim.record(RECORD, "1")["custrecord_otg_ipaas_webhook"] == PRODUCTION_URL
    assert not AuditEvent.objects.filter(action__startswith="auth_details").exists()
