"""The inbound endpoint's cheap path keeps its guarantees: no body read before the key is
checked (whatever the content type), the kept key digest never outlives a change made in this
process, and one INSERT still stores each notification once."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from subscriptions.services.subscriptions import webhook_key_regenerate
from tests import factories

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def post(subscription, key, body, *, content_type="application/json"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key is not None else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post(
        f"/hooks/netsuite/{subscription.pk}/", data=data, content_type=content_type, **headers
    )


def one(external_id="107", scope="customer/updated"):
    return {"notifications": [{"scope": scope, "external_id": external_id}]}


@pytest.fixture
def hook():
    return factories.make_subscription(SYSTEM)


def test_a_form_encoded_body_without_the_key_is_401_unread(hook, caplog):
    subscription, _key = hook
    # Larger than Django lets anything read into memory: reading it would be a 400.
    body = "a=" + "x" * 3_000_000
    response = post(subscription, None, body, content_type=FORM)
    assert response.status_code == 401
    assert not [r for r in caplog.records if "RequestDataTooBig" in r.name]
    # The other pages still refuse a form post that is not UTF-8 before anything reads it.
    login = Client().post("/login/", data=b"username=%FF", content_type=FORM)
    assert login.status_code == 400


def test_a_form_encoded_body_with_the_key_is_refused_by_the_endpoint_itself(hook):
    subscription, key = hook
    response = post(subscription, key, "scope=customer%2Fupdated", content_type=FORM)
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert InboundEvent.objects.count() == 0


def test_a_regenerated_key_works_at_once_and_the_old_one_is_refused(hook):
    subscription, old = hook
    assert post(subscription, old, one("1")).status_code == 202  # kept by this process now
    new = webhook_key_regenerate(subscription=subscription, actor=SYSTEM)
    assert post(subscription, old, one("2")).status_code == 401
    assert post(subscription, new, one("3")).status_code == 202
    assert set(InboundEvent.objects.values_list("external_id", flat=True)) == {"1", "3"}


def test_a_lowered_throttle_applies_at_once(hook, admin_client_):
    subscription, key = hook
    assert post(subscription, key, one("1")).status_code == 202
    data = factories.edit_form_data(
        subscription, ipaas_throttle_limit="1", ipaas_throttle_seconds="60"
    )
    edited = admin_client_.post(reverse("subscriptions:edit", args=[subscription.pk]), data)
    assert edited.status_code == 302, edited.content.decode()[:2000]
    # The first call of the new limit's window passes, the next is held back.
    statuses = [post(subscription, key, one(str(n))).status_code for n in range(2, 5)]
    assert 429 in statuses and statuses.count(202) <= 1


def test_a_kept_key_costs_no_lookup_and_a_delivery_one_insert(hook):
    subscription, key = hook
    assert post(subscription, key, one("1")).status_code == 202
    with CaptureQueriesContext(connection) as queries:
        response = post(subscription, key, one("2"))
    assert response.status_code == 202 and response.json() == {"accepted": 1}
    # The rate window aside (the database store here, Redis in production): no lookup of the
    # subscription, and at most one statement, the INSERT, atomic by itself. (On PostgreSQL
    # the INSERT goes through psycopg's own cursor, outside Django's query log.)
    statements = [
        q["sql"]
        for q in queries
        if "throttle" not in q["sql"]
        and not q["sql"].startswith(("SAVEPOINT", "RELEASE", "SET LOCAL synchronous_commit"))
    ]
    assert len(statements) <= 1 and all(q.startswith("INSERT") for q in statements), statements
    assert InboundEvent.objects.filter(subscription=subscription, external_id="2").count() == 1


def test_a_body_of_several_notifications_is_stored_once_each_however_often_sent(hook):
    subscription, key = hook
    body = {
        "notifications": [
            {"scope": "customer/updated", "external_id": "2"},
            {"scope": "location/created", "external_id": "3"},
            {"scope": "customer/updated", "external_id": "2"},  # the same one twice
        ]
    }
    assert post(subscription, key, body).json() == {"accepted": 2}
    # Delivered again: the same rows, skipped by the unique key, nothing stored twice.
    assert post(subscription, key, body).json() == {"accepted": 2}
    stored = InboundEvent.objects.filter(subscription=subscription)
    assert sorted(stored.values_list("scope", "external_id")) == [
        ("customer/updated", "2"),
        ("location/created", "3"),
    ]
    assert {e.payload["external_id"] for e in stored} == {"2", "3"}


def test_a_deleted_subscriptions_key_is_refused_at_once(hook):
    from subscriptions.services.subscriptions import subscription_delete

    subscription, key = hook
    assert post(subscription, key, one("1")).status_code == 202
    subscription_delete(subscription=subscription, actor=SYSTEM)
    assert post(subscription, key, one("2")).status_code == 401
