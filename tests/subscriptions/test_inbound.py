"""The inbound webhook endpoint over Django's test client: keys, bodies, sizes, rates, dedup."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from netsuite import bundle, inbound, restlet
from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from subscriptions.selectors.events import last_events
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook():
    subscription, key = factories.make_subscription(SYSTEM)
    return subscription, key


def url(subscription) -> str:
    return f"/hooks/netsuite/{subscription.pk}/"


def post(subscription, key, body, *, client=None, raw=False, **headers):
    client = client or Client()
    data = body if raw else json.dumps(body)
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(url(subscription), data=data, content_type="application/json", **headers)


def one(scope="customer/updated", external_id="107", **extra):
    return {"notifications": [{"scope": scope, "external_id": external_id, **extra}]}


def test_a_good_key_stores_the_event_linked_to_its_module(hook):
    subscription, key = hook
    response = post(subscription, key, one(), HTTP_USER_AGENT="NetSuite/2026.1",
                    REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    event = InboundEvent.objects.get()
    assert (event.subscription_id, event.module, event.event, event.scope, event.external_id) == (
        subscription.pk, "customer", "updated", "customer/updated", "107")
    assert event.remote_addr == "192.0.2.7"
    assert event.user_agent == "NetSuite/2026.1"
    assert len(event.request_id) == 32
    assert event.payload == {"scope": "customer/updated", "external_id": "107"}


def test_no_session_and_no_csrf_token_are_needed(hook):
    subscription, key = hook
    response = post(subscription, key, one(), client=Client(enforce_csrf_checks=True))
    assert response.status_code == 202
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong-key", "Basic abc"])
def test_a_missing_or_wrong_key_is_401_and_stores_nothing(hook, header):
    subscription, _key = hook
    headers = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = post(subscription, None, one(), **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert InboundEvent.objects.count() == 0


def test_another_subscriptions_key_and_an_unknown_subscription_are_401(hook):
    subscription, key = hook
    other, other_key = factories.make_subscription(SYSTEM, name="Other")
    assert post(subscription, other_key, one()).status_code == 401
    missing = type("Missing", (), {"pk": other.pk + 1000})()
    assert post(missing, key, one()).status_code == 401
    assert InboundEvent.objects.count() == 0


def test_the_key_is_checked_before_the_body(hook):
    subscription, _key = hook
    # Without the key a malformed or oversized body is not even looked at.
    assert post(subscription, "wrong", "{not json", raw=True).status_code == 401
    big = "x" * (inbound_max() + 10)
    assert post(subscription, "wrong", big, raw=True).status_code == 401


def inbound_max() -> int:
    from subscriptions.services.inbound import MAX_BODY_BYTES

    return MAX_BODY_BYTES


def test_over_one_megabyte_is_413(hook):
    subscription, key = hook
    padding = "x" * inbound_max()
    response = post(subscription, key, one(padding=padding))
    assert response.status_code == 413
    assert InboundEvent.objects.count() == 0
    # Exactly at the limit is read and judged on its content.
    body = json.dumps(one())
    body = body + " " * (inbound_max() - len(body))
    assert post(subscription, key, body, raw=True).status_code == 202


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ("", "empty"),
        ("[]", "empty"),
        ('{"events": []}', '{"notifications": [...]}'),
        ('{"notifications": {}}', "must be a list"),
        ('{"notifications": ["customer/updated"]}', "JSON object"),
        (json.dumps(one(scope="vendor/updated")), "Unknown scope"),
        (json.dumps(one(scope="customer/archived")), "Unknown scope"),
        (json.dumps(one(scope="customer")), "Unknown scope"),
        ('{"notifications": [{"external_id": "1"}]}', "scope is missing"),
        ('{"notifications": [{"scope": "customer/updated"}]}', "external_id is missing"),
        (json.dumps(one(external_id=True)), "string or an integer"),
        (json.dumps(one(external_id="9" * 256)), "longer than 255"),
        (b"\xff\xfe{}", "UTF-8"),
    ],
)
def test_a_bad_body_is_400_with_the_reason_and_stores_nothing(hook, body, reason):
    subscription, key = hook
    response = post(subscription, key, body, raw=True)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert InboundEvent.objects.count() == 0


def test_one_bad_notification_refuses_the_whole_body(hook):
    subscription, key = hook
    body = {"notifications": [{"scope": "customer/updated", "external_id": "1"},
                              {"scope": "nonsense/updated", "external_id": "2"}]}
    response = post(subscription, key, body)
    assert response.status_code == 400
    assert "notifications[1]" in response.json()["error"]
    assert InboundEvent.objects.count() == 0


def test_the_same_notification_twice_is_stored_once(hook):
    subscription, key = hook
    assert post(subscription, key, one()).status_code == 202
    assert post(subscription, key, one()).status_code == 202
    twice_in_one = {"notifications": [one()["notifications"][0]] * 2}
    assert post(subscription, key, twice_in_one).json() == {"accepted": 1}
    assert InboundEvent.objects.count() == 1
    # Another event of the same record, or another record, is a new event.
    post(subscription, key, one(scope="customer/deleted"))
    post(subscription, key, one(external_id="108"))
    assert InboundEvent.objects.count() == 3


def test_a_senders_event_id_tells_changes_apart_exactly(hook):
    subscription, key = hook
    post(subscription, key, one(event_id="evt-1"))
    post(subscription, key, one(event_id="evt-2"))
    post(subscription, key, one(event_id="evt-2"))
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == ["evt-1", "evt-2"]


def test_the_same_record_in_two_subscriptions_is_two_events(hook):
    subscription, key = hook
    other, other_key = factories.make_subscription(SYSTEM, name="Other")
    post(subscription, key, one())
    post(other, other_key, one())
    assert InboundEvent.objects.filter(subscription=other).count() == 1
    assert InboundEvent.objects.filter(subscription=subscription).count() == 1


def test_the_spellings_a_script_may_use_are_understood(hook):
    subscription, key = hook
    body = {"notifications": [
        {"scope": "Transaction/Updated", "external_id": 5001},
        {"scope": "customer/edit", "external_id": "7"},
        {"scope": "inventoryitem/create", "externalId": "11"},
        {"scope": "shipping_item/delete", "external_id": "3"},
    ]}
    assert post(subscription, key, body).json() == {"accepted": 4}
    stored = set(InboundEvent.objects.values_list("module", "event", "scope", "external_id"))
    assert stored == {
        ("sales_order", "updated", "salesorder/updated", "5001"),
        ("customer", "updated", "customer/updated", "7"),
        ("inventory_part", "created", "inventoryitem/created", "11"),
        ("shipping_item", "deleted", "shipitem/deleted", "3"),
    }


def test_over_the_ipaas_throttle_is_429_with_retry_after(hook):
    subscription, key = hook
    subscription.ipaas_throttle_limit = 2
    subscription.ipaas_throttle_seconds = 30
    subscription.save(update_fields=["ipaas_throttle_limit", "ipaas_throttle_seconds"])
    assert post(subscription, key, one(external_id="1")).status_code == 202
    assert post(subscription, key, one(external_id="2")).status_code == 202
    response = post(subscription, key, one(external_id="3"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 30
    assert set(InboundEvent.objects.values_list("external_id", flat=True)) == {"1", "2"}
    # A wrong key is refused before it can use up the subscription's allowance.
    assert post(subscription, "wrong", one(external_id="4")).status_code == 401


def test_only_post_is_allowed(hook):
    subscription, key = hook
    response = Client().get(url(subscription), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405


def test_last_events_gives_the_newest_per_module_and_event(hook):
    import datetime as dt

    subscription, _key = hook
    base = factories.timezone.now() - dt.timedelta(hours=3)
    factories.inbound_event(subscription, external_id="1", received_at=base)
    newest = factories.inbound_event(
        subscription, external_id="2", received_at=base + dt.timedelta(hours=1))
    created = factories.inbound_event(subscription, module="location", event="created",
                                      received_at=base)
    other, _ = factories.make_subscription(SYSTEM, name="Other")
    factories.inbound_event(other, received_at=base + dt.timedelta(hours=2))
    assert last_events(subscription) == {
        ("customer", "updated"): newest.received_at,
        ("location", "created"): created.received_at,
    }


def test_the_scope_table_has_one_scope_per_module_and_event():
    # One table of modules for the deployments and the scopes alike.
    assert restlet.MODULES is bundle.MODULES
    assert len(inbound.SCOPES) == len(restlet.MODULES) * 3
    pairs = {(module, event) for module, _ in restlet.MODULES for event in inbound.EVENTS}
    assert set(inbound.SCOPES.values()) == pairs
    assert inbound.SCOPES["customer/updated"] == ("customer", "updated")
