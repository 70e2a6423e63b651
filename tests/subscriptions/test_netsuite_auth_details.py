"""iPaaS Auth Details: list, edit (https, UUID), "Use this dashboard", never the token's value."""

import pytest
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from tests.html import badges, form_actions, parse, urls

pytestmark = pytest.mark.django_db

RECORD = "customrecord_otg_ipaas_auth_details"
GUID = "3f2b8c1e-4a5d-4e7f-9a1b-2c3d4e5f6a7b"


def edit(client, subscription, entry, htmx=True, **fields):
    data = {"name": "Production", "token_set": "0"}
    data.update({f"entry{entry}-{k}": v for k, v in fields.items()})
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("subscriptions:auth_details_edit", args=[subscription.pk, entry]), data, **headers
    )


def test_the_list_shows_the_three_entries_and_the_token_only_as_set_or_not(
    netsuite_sim, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    with netsuite_sim.sim.state.lock:
        netsuite_sim.sim.state.accounts["1234567"].records[RECORD]["2"][
            "custrecord_otg_ipaas_access_token"
        ] = "secret-token-value-in-netsuite"
    response = auditor_client.get(reverse("subscriptions:auth_details", args=[subscription.pk]))
    html = response.content.decode()
    for name in ("Production", "Sandbox", "Beta"):
        assert name in html
    assert "https://stagingapi.ipaas.com/hookapi/v2/iPaaS1" in html
    assert {("ok", "set"), ("", "not set")} <= set(badges(response))
    assert "secret-token-value-in-netsuite" not in html
    assert "Use this dashboard" not in html
    for name in ("auth_details_edit", "auth_details_use_dashboard"):
        for entry in (1, 2, 3):
            assert reverse(f"subscriptions:{name}", args=[subscription.pk, entry]) not in urls(
                response
            )
    # An auditor's only post here: the shared "Refresh from NetSuite" (test_netsuite_snapshots).
    assert form_actions(response) == {
        reverse("logout"),
        reverse("subscriptions:netsuite_refresh", args=[subscription.pk, "auth_details"]),
    }


def test_an_edit_is_patched_and_audited_without_the_token(
    netsuite_sim, admin_client_, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = edit(
        admin_client_, subscription, 1,
        webhook_url="https://hooks.example.com/netsuite/1/",
        tracking_guid=GUID.upper(),
        access_token="brand-new-token-0123456789",
    )
    html = response.content.decode()
    assert "Production: NetSuite accepted the change." in html
    assert "brand-new-token-0123456789" not in html
    record = netsuite_sim.record(RECORD, "1")
    assert record["custrecord_otg_ipaas_webhook"] == "https://hooks.example.com/netsuite/1/"
    assert record["custrecord_otg_ipaas_tracking_guid"] == GUID
    assert record["custrecord_otg_ipaas_access_token"] == "brand-new-token-0123456789"
    event = AuditEvent.objects.get(action="auth_details.updated")
    assert event.changes["webhook URL"] == [
        "https://api.ipaas.com/hookapi/v2/iPaaS1",
        "https://hooks.example.com/netsuite/1/",
    ]
    assert event.changes["access token"] == ["(not set)", "***CHANGED***"]
    assert "brand-new-token" not in str(event.changes)
    assert event.actor_name == admin_user.username


def test_a_blank_token_keeps_netsuites_and_an_unchanged_entry_sends_no_patch(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    edit(admin_client_, subscription, 3, webhook_url="https://betaapi.ipaas.com/hookapi/v2/iPaaS1")
    assert "PATCH" not in str(netsuite_sim.stats()["calls"])
    assert not AuditEvent.objects.filter(action__startswith="auth_details").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"webhook_url": "http://hooks.example.com/x/"}, "must use https"),
        ({"webhook_url": "not a url"}, "Enter a full URL"),
        (
            {"webhook_url": "https://hooks.example.com/x/", "tracking_guid": "1234"},
            "must be a UUID",
        ),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_sent(
    netsuite_sim, admin_client_, ec_pair, fields, message
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = edit(admin_client_, subscription, 1, **fields)
    assert message in parse(response).find(class_="errorlist").text
    assert netsuite_sim.stats()["requests"] == 0
    response = edit(admin_client_, subscription, 1, htmx=False, **fields)
    assert response.status_code == 400 and message in response.content.decode()


def test_use_this_dashboard_sends_the_inbound_url_and_the_webhook_api_key(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    key = Subscription.objects.get(pk=subscription.pk).webhook_api_key
    response = admin_client_.post(
        reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 2]),
        {"name": "Sandbox", "token_set": "0", "confirmed": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Sandbox: NetSuite now sends webhooks to this dashboard" in html
    assert key not in html
    record = netsuite_sim.record(RECORD, "2")
    assert record["custrecord_otg_ipaas_webhook"] == (
        f"http://testserver/hooks/netsuite/{subscription.pk}/"
    )
    assert record["custrecord_otg_ipaas_access_token"] == key
    event = AuditEvent.objects.get(action="auth_details.updated")
    assert key not in str(event.changes) and event.reason == "Use this dashboard"


def test_use_this_dashboard_over_plain_http_is_refused_outside_simulator_mode(
    netsuite_sim, admin_client_, ec_pair, settings
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    from subscriptions.services.auth_details import AuthDetailsError, auth_details_use_dashboard

    with pytest.raises(AuthDetailsError, match="not reached over https"):
        auth_details_use_dashboard(
            subscription=subscription,
            entry_id="1",
            inbound_url="http://dashboard.example.com/hooks/netsuite/1/",
            actor=None,
        )
    assert netsuite_sim.stats()["requests"] == 0


def test_the_page_refuses_plain_http_when_the_base_url_is_only_a_proxy(
    netsuite_sim, admin_client_, ec_pair, settings
):
    # NETSUITE_BASE_URL alone no longer relaxes https: only simulator mode does.
    subscription = netsuite_sim.subscription(pair=ec_pair)
    settings.NETSUITE_SIMULATOR = False
    before = dict(netsuite_sim.record(RECORD, "2"))
    response = admin_client_.post(
        reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 2]),
        {"name": "Sandbox", "token_set": "0", "confirmed": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "not reached over https" in response.content.decode()
    assert netsuite_sim.record(RECORD, "2") == before
    assert not AuditEvent.objects.filter(action__startswith="auth_details.").exists()


def test_a_netsuite_refusal_is_shown_and_audited(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.add_fault(
        kind="record",
        method="PATCH",
        status=400,
        body={"o:errorDetails": [{"detail": "Field is locked", "o:errorCode": "INVALID_CONTENT"}]},
    )
    response = edit(admin_client_, subscription, 1, webhook_url="https://hooks.example.com/2/")
    html = response.content.decode()
    assert "INVALID_CONTENT" in html and "Field is locked" in html
    assert netsuite_sim.record(RECORD, "1")["custrecord_otg_ipaas_webhook"].startswith(
        "https://api.ipaas.com"
    )
    event = AuditEvent.objects.get(action="auth_details.update_failed")
    assert event.changes["NetSuite code"] == [None, "INVALID_CONTENT"]


def test_the_list_with_netsuite_down_is_a_message_not_a_500(netsuite_sim, admin_client_, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.stop()
    response = admin_client_.get(
        reverse("subscriptions:auth_details", args=[subscription.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()


def test_use_this_dashboard_takes_the_configured_public_address_over_the_request_host(
    netsuite_sim, admin_client_, ec_pair, settings
):
    settings.DASHBOARD_PUBLIC_URL = "https://admin.example.com"
    subscription = netsuite_sim.subscription(pair=ec_pair)
    admin_client_.post(
        reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 2]),
        {"name": "Sandbox", "token_set": "0", "confirmed": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert netsuite_sim.record(RECORD, "2")["custrecord_otg_ipaas_webhook"] == (
        f"https://admin.example.com/hooks/netsuite/{subscription.pk}/"
    )


# The access token's maximum length ---------------------------------------------------------


def test_the_form_refuses_an_access_token_over_the_maximum_and_sends_nothing(
    netsuite_sim, admin_client_, ec_pair
):
    from subscriptions.models.webhooks import AUTH_DETAILS_TOKEN_MAX_LENGTH

    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = "https://hooks.example.com/netsuite/1/"
    too_long = "t" * (AUTH_DETAILS_TOKEN_MAX_LENGTH + 1)
    response = edit(admin_client_, subscription, 1, webhook_url=url, access_token=too_long)
    assert "at most 1000 characters" in parse(response).find(class_="errorlist").text
    assert too_long not in response.content.decode()
    assert netsuite_sim.stats()["requests"] == 0
    assert not AuditEvent.objects.filter(action__startswith="auth_details").exists()
    # The maximum itself is accepted.
    edit(admin_client_, subscription, 1, webhook_url=url, access_token="t" * 1000)
    assert AuditEvent.objects.filter(action="auth_details.updated").count() == 1


def test_the_service_refuses_an_access_token_over_the_maximum_for_every_caller(
    netsuite_sim, admin_user, ec_pair
):
    from subscriptions.services.auth_details import AuthDetailsError, auth_details_update

    subscription = netsuite_sim.subscription(pair=ec_pair)
    with pytest.raises(AuthDetailsError) as refused:
        auth_details_update(
            subscription=subscription,
            entry_id="1",
            webhook_url="https://hooks.example.com/netsuite/1/",
            tracking_guid=None,
            access_token="t" * 1001,
            actor=admin_user,
        )
    assert "at most 1000 characters" in refused.value.errors["access_token"]
    assert netsuite_sim.stats()["requests"] == 0
    assert not AuditEvent.objects.filter(action__startswith="auth_details").exists()
