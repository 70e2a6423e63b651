"""Inbound bodies as senders send them: iPaaS.com's collection scopes (one JSON fixture per
payload shape in tests/fixtures/inbound/), the limits on a body, and a throttle that counts
notifications, over Django's test client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsuite import inbound
from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from tests import factories
from tests.subscriptions.test_inbound import post

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inbound"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def hook():
    return factories.make_subscription(SYSTEM, ipaas_throttle_limit=5000)


def stored():
    return list(InboundEvent.objects.values_list("module", "event", "scope", "external_id"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("customer_updated", ("customer", "updated", "customer/updated", "107")),
        ("transaction_created", ("sales_order", "created", "salesorder/created", "5001")),
        ("product_updated_kit_item", ("kit_item", "updated", "kititem/updated", "4")),
        ("product_updated_inventory_part",
         ("inventory_part", "updated", "inventoryitem/updated", "71")),
        ("location_deleted", ("location", "deleted", "location/deleted", "3")),
        ("payment_method_updated",
         ("payment_method", "updated", "paymentmethod/updated", "2")),
        ("shipping_method_created", ("shipping_item", "created", "shipitem/created", "9")),
    ],
)
def test_each_collection_scope_is_stored_under_its_module(hook, name, expected):
    subscription, key = hook
    body = fixture(name)
    response = post(subscription, key, body)
    assert response.status_code == 202, response.content
    assert stored() == [expected]
    # The notification is kept as it was sent, record_type included.
    assert InboundEvent.objects.get().payload == body["notifications"][0]


def test_every_module_has_a_scope_the_script_sends_and_the_endpoint_reads(hook):
    subscription, key = hook
    notifications = [
        inbound.notification_for(module, "updated", str(n))
        for n, module in enumerate(inbound.RECORD_TYPES, start=1)
    ]
    assert post(subscription, key, {"notifications": notifications}).json() == {"accepted": 7}
    assert {module for module, *_ in stored()} == set(inbound.RECORD_TYPES)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("product_updated_without_record_type", "needs record_type: inventoryitem or kititem"),
        ("product_updated_service_item", "'serviceitem' is not a product"),
    ],
)
def test_a_product_without_a_known_record_type_is_refused(hook, name, reason):
    subscription, key = hook
    response = post(subscription, key, fixture(name))
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert stored() == []


def test_an_unknown_scope_is_refused_with_the_accepted_ones(hook):
    subscription, key = hook
    response = post(subscription, key, fixture("vendor_updated"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert "Unknown scope 'vendor/updated'" in error
    for collection in inbound.COLLECTIONS:
        assert f"{collection}/<created|updated|deleted>" in error
    assert stored() == []


def many(count: int) -> dict:
    return {"notifications": [{"scope": "customer/updated", "external_id": str(n)}
                              for n in range(count)]}


def test_more_than_a_thousand_notifications_is_413_and_a_thousand_pass(hook):
    subscription, key = hook
    response = post(subscription, key, many(inbound.MAX_NOTIFICATIONS + 1))
    assert response.status_code == 413
    assert "1001 notifications; at most 1000" in response.json()["error"]
    assert stored() == []
    assert post(subscription, key, many(inbound.MAX_NOTIFICATIONS)).json() == {"accepted": 1000}


def padded(size: int) -> dict:
    """One notification whose compact JSON is exactly ``size`` bytes."""
    item = {"scope": "customer/updated", "external_id": "1", "note": ""}
    item["note"] = "x" * (size - len(json.dumps(item, separators=(",", ":"))))
    return item


def test_a_notification_over_16_kb_is_400_and_one_of_16_kb_passes(hook):
    subscription, key = hook
    response = post(subscription, key, {"notifications": [padded(17 * 1024)]})
    assert response.status_code == 400
    assert "notifications[0]: The notification is 17408 bytes; at most 16384" in (
        response.json()["error"])
    assert stored() == []
    assert post(subscription, key, {"notifications": [padded(16 * 1024)]}).status_code == 202


def limited(limit: int):
    return factories.make_subscription(SYSTEM, name=f"Limited {limit}",
                                       ipaas_throttle_limit=limit, ipaas_throttle_seconds=3600)


def test_the_throttle_counts_notifications_and_refuses_a_body_that_does_not_fit_whole():
    subscription, key = limited(5)
    assert post(subscription, key, many(3)).status_code == 202
    too_many = post(subscription, key, {"notifications": [
        {"scope": "location/updated", "external_id": str(n)} for n in range(3)]})
    assert too_many.status_code == 429
    assert 1 <= int(too_many["Retry-After"]) <= 3600
    assert "this body's 3 do not fit" in too_many.json()["error"]
    assert InboundEvent.objects.filter(module="location").count() == 0
    # The refused three were not counted: the two places left take a smaller body.
    smaller = {"notifications": [{"scope": "location/updated", "external_id": str(n)}
                                 for n in range(2)]}
    assert post(subscription, key, smaller).json() == {"accepted": 2}
    assert post(subscription, key, many(1)).status_code == 429
    assert InboundEvent.objects.count() == 5


def test_a_body_larger_than_the_whole_limit_is_413_not_retry_later():
    subscription, key = limited(5)
    response = post(subscription, key, many(6))
    assert response.status_code == 413
    assert "API Throttle Limit (to iPaaS) of 5" in response.json()["error"]
    assert "Retry-After" not in response
    assert stored() == []


def test_a_refused_body_costs_one_so_bad_bodies_are_throttled_too():
    subscription, key = limited(2)
    assert post(subscription, key, fixture("vendor_updated")).status_code == 400
    assert post(subscription, key, fixture("vendor_updated")).status_code == 400
    assert post(subscription, key, fixture("customer_updated")).status_code == 429
    assert stored() == []
