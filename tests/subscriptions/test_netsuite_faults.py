"""Every remote action against a NetSuite that is down, too slow, or over its limit for longer
than the retries last: a message on the page (never a 500), an audit entry, no local change."""

import pytest
from django.urls import reverse

from subscriptions.models import AuditEvent, ConnectionTest, Subscription, WebhookState

pytestmark = pytest.mark.django_db

FAULTS = {
    "down": None,
    "timeout": {"delay": 0.6},
    "429": {"status": 429, "count": 20},
}

# name -> (url name, extra url args, data, fault kind, audit action, words on the page)
ACTIONS = {
    "toggle": (
        "webhook_toggle",
        [],
        {"deployment": "245", "flag": "create", "create": "on"},
        "restlet",
        "webhook.set_failed",
    ),
    "enable all": (
        "webhook_set_all", [], {"enabled": "1", "confirmed": "1"}, "restlet", "webhook.bulk_failed"
    ),
    "re-apply": ("webhook_reapply", [], {"confirmed": "1"}, "restlet", "webhook.bulk_failed"),
    "auth details": (
        "auth_details_edit",
        [1],
        {"entry1-webhook_url": "https://hooks.example.com/z/"},
        "record",
        "auth_details.update_failed",
    ),
    "use this dashboard": (
        "auth_details_use_dashboard",
        [1],
        {"confirmed": "1", "confirm_name": "Production"},
        "record",
        "auth_details.update_failed",
    ),
    "detect": ("governance", [], {}, "governance", "governance.detect_failed"),
}

EXPECTED_WORDS = {
    "down": "could not be reached",
    "timeout": "did not answer within",
    "429": "concurrency limit",
}


def state(subscription_pk):
    subscription = Subscription.objects.get(pk=subscription_pk)
    return (
        subscription.revision,
        subscription.concurrent_connections,
        list(WebhookState.objects.values_list("scriptdeploymentid", "create_enabled")),
    )


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_failing_netsuite_gives_a_message_an_audit_entry_and_no_change(
    netsuite_sim, admin_client_, ec_pair, settings, action, fault
):
    settings.NETSUITE_TIMEOUT_READ = 0.3
    subscription = netsuite_sim.subscription(pair=ec_pair)
    name, args, data, kind, audited = ACTIONS[action]
    before = state(subscription.pk)
    flags_before = netsuite_sim.flags()
    if fault == "down":
        netsuite_sim.sim.stop()
    else:
        netsuite_sim.sim.add_fault(kind=kind, **FAULTS[fault])
    response = admin_client_.post(
        reverse(f"subscriptions:{name}", args=[subscription.pk, *args]),
        data,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert EXPECTED_WORDS[fault] in html
    assert "What to do:" in html
    assert AuditEvent.objects.filter(action=audited).count() == 1
    assert state(subscription.pk) == before
    if fault != "down":
        assert netsuite_sim.flags() == flags_before


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_connection_test_page_reports_each_fault(
    netsuite_sim, support_client, ec_pair, settings, fault
):
    settings.NETSUITE_TIMEOUT_READ = 0.3
    subscription = netsuite_sim.subscription(pair=ec_pair)
    if fault == "down":
        netsuite_sim.sim.stop()
    else:
        netsuite_sim.sim.add_fault(kind="restlet", **FAULTS[fault])
    response = support_client.post(
        reverse("subscriptions:connection_test", args=[subscription.pk]), follow=True
    )
    assert response.status_code == 200
    assert EXPECTED_WORDS[fault] in response.content.decode()
    assert ConnectionTest.objects.get().outcome == "failed"
    assert AuditEvent.objects.filter(action="connection_test.failed").count() == 1


def test_an_unreadable_stored_key_is_a_message_too(netsuite_sim, admin_client_, ec_pair, settings):
    from cryptography.fernet import Fernet

    subscription = netsuite_sim.subscription(pair=ec_pair)
    # The key it was encrypted with is gone (a misconfigured FIELD_ENCRYPTION_KEYS).
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = admin_client_.post(
        reverse("subscriptions:webhook_toggle", args=[subscription.pk]),
        {"deployment": "245", "flag": "create", "create": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "cannot be decrypted" in response.content.decode()
    response = admin_client_.post(
        reverse("subscriptions:connection_test", args=[subscription.pk]), follow=True
    )
    assert "cannot be decrypted" in response.content.decode()
    assert netsuite_sim.stats()["requests"] == 0
