"""The inbound webhook endpoint for any body and any headers.

Whatever arrives, the answer is 202, 400, 401 or 413, never a server error; nothing is stored
unless the answer is 202, and a 202 stores each distinct notification exactly once (a repeat
of the same delivery stores nothing more). The subscription's iPaaS throttle is set out of
reach here, so 429 is not among the answers (its own test is in test_inbound.py).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import event, given, settings
from hypothesis import strategies as st

from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from tests import factories

from .strategies import any_text, dumps, json_values, rolled_back, storable_json

pytestmark = pytest.mark.django_db

MAX_BODY_BYTES = 1024 * 1024
ANSWERS = {202, 400, 401, 413}

# Spellings of a scope's two halves a script may send, and what each means; written out here
# rather than taken from netsuite/inbound.py.
COLLECTIONS = {
    "customer": "customer",
    "inventoryitem": "inventoryitem",
    "inventory_part": "inventoryitem",
    "kititem": "kititem",
    "kit-item": "kititem",
    "location": "location",
    "paymentmethod": "paymentmethod",
    "salesorder": "salesorder",
    "transaction": "salesorder",
    "shipitem": "shipitem",
    "shippingitem": "shipitem",
}
EVENTS = {
    "created": "created",
    "create": "created",
    "updated": "updated",
    "update": "updated",
    "edit": "updated",
    "xedit": "updated",
    "deleted": "deleted",
    "delete": "deleted",
}
SAFE_ID = st.from_regex(r"\A[A-Za-z0-9_.:-]{1,40}\Z")


@pytest.fixture
def hook():
    subscription, key = factories.make_subscription(SYSTEM, ipaas_throttle_limit=100_000)
    return subscription, key


@st.composite
def valid_notification(draw, *, with_event_id=None):
    """``(item, identity)``: a notification the endpoint must accept, and what makes it
    distinct (canonical scope, external ID, event ID)."""
    collection = draw(st.sampled_from(sorted(COLLECTIONS)))
    action = draw(st.sampled_from(sorted(EVENTS)))
    scope = draw(st.sampled_from(["{}/{}", "{}/{} ", " {}/{}", "{}/ {}"])).format(
        draw(st.sampled_from([collection, collection.upper()])), action
    )
    external = draw(st.one_of(SAFE_ID, st.integers(0, 10**12)))
    item = {"scope": scope, draw(st.sampled_from(["external_id", "externalId"])): external}
    if with_event_id is None:
        with_event_id = draw(st.booleans())
    event_id = ""
    if with_event_id:
        event_id = draw(SAFE_ID)
        item[draw(st.sampled_from(["event_id", "timestamp"]))] = event_id
    item.update(
        draw(st.dictionaries(st.sampled_from(["type", "id", "note"]), storable_json, max_size=2))
    )
    identity = (f"{COLLECTIONS[collection]}/{EVENTS[action]}", str(external), event_id)
    return item, identity


def envelope(items, shape: str):
    if shape == "bare list":
        return items
    if shape == "one" and len(items) == 1:
        return items[0]
    return {"notifications": items}


@st.composite
def any_body(draw):
    """``(bytes, identities or None)``: identities when every notification is valid."""
    kind = draw(st.sampled_from(["valid", "valid", "mixed", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    if kind == "json":
        return dumps(draw(json_values)), None
    shape = draw(st.sampled_from(["envelope", "bare list", "one"]))
    pairs = draw(st.lists(valid_notification(), min_size=1, max_size=6))
    items = [item for item, _ in pairs]
    if kind == "mixed":
        # Valid notifications with odd values of every JSON type spliced in.
        odd = draw(
            st.lists(
                st.one_of(
                    json_values,
                    st.fixed_dictionaries({"scope": any_text, "external_id": json_values}),
                    st.fixed_dictionaries(
                        {"scope": st.just("customer/updated"), "external_id": any_text}
                    ),
                ),
                min_size=1,
                max_size=3,
            )
        )
        for value in odd:
            items.insert(draw(st.integers(0, len(items))), value)
        return dumps(envelope(items, shape)), None
    return dumps(envelope(items, shape)), [identity for _, identity in pairs]


def headers_for(key: str):
    # The right key half the time, so the bodies behind it are read as often as refused.
    right = st.sampled_from([f"Bearer {key}", f"bearer  {key} "])
    wrong = st.one_of(
        st.sampled_from([key, f"Bearer {key}x", f"Basic {key}", "Bearer ", ""]), any_text
    )
    return st.builds(
        lambda auth, more: {**more, **({"HTTP_AUTHORIZATION": auth} if auth else {})},
        st.booleans().flatmap(lambda ok: right if ok else st.one_of(st.none(), wrong)),
        st.fixed_dictionaries(
            {},
            optional={
                "HTTP_USER_AGENT": any_text,
                "CONTENT_TYPE": st.sampled_from(["application/json", "text/plain", "", "x/y;;"]),
                "CONTENT_LENGTH": st.sampled_from([str(MAX_BODY_BYTES + 1), "abc", "-1", "0"]),
                "HTTP_X_FORWARDED_FOR": any_text,
            },
        ),
    )


def post(subscription, body: bytes, headers: dict):
    headers = dict(headers)
    content_type = headers.pop("CONTENT_TYPE", "application/json")
    return Client().post(
        f"/hooks/netsuite/{subscription.pk}/", data=body, content_type=content_type, **headers
    )


def stored(subscription) -> int:
    return InboundEvent.objects.filter(subscription=subscription).count()


@settings(max_examples=100)
@given(st.data())
def test_any_delivery_is_answered_and_only_a_202_stores_anything(hook, data):
    subscription, key = hook
    body, identities = data.draw(any_body(), label="body")
    headers = data.draw(headers_for(key), label="headers")
    with rolled_back():
        response = post(subscription, body, headers)
        event(str(response.status_code))
        assert response.status_code in ANSWERS, response.content
        answer = response.json()
        count = stored(subscription)
        if response.status_code != 202:
            assert count == 0
            assert answer["error"]
            return
        assert count == answer["accepted"]
        if identities is not None:
            assert count == len(set(identities))


@settings(max_examples=50)
@given(st.data())
def test_a_valid_delivery_with_the_key_is_stored_once_per_distinct_notification(hook, data):
    subscription, key = hook
    pairs = data.draw(st.lists(valid_notification(with_event_id=True), min_size=1, max_size=8))
    # Repeats inside one body: the same notification twice is one event.
    pairs += data.draw(st.lists(st.sampled_from(pairs), max_size=3))
    shape = data.draw(st.sampled_from(["envelope", "bare list", "one"]))
    body = dumps(envelope([item for item, _ in pairs], shape))
    identities = {identity for _, identity in pairs}
    with rolled_back():
        first = post(subscription, body, {"HTTP_AUTHORIZATION": f"Bearer {key}"})
        assert first.status_code == 202, first.content
        assert first.json() == {"accepted": len(identities)}
        rows = set(
            InboundEvent.objects.filter(subscription=subscription).values_list(
                "scope", "external_id", "event_id"
            )
        )
        assert rows == identities
        # The same delivery again (a retry): every event is already there once.
        again = post(subscription, body, {"HTTP_AUTHORIZATION": f"Bearer {key}"})
        assert again.status_code == 202
        assert stored(subscription) == len(identities)


def numbers_as_decimals(value):
    """``value`` with each number as the decimal its JSON spells: PostgreSQL's jsonb keeps
    1.907531894288349e+16 as 19075318942883490, the same JSON number."""
    if isinstance(value, dict):
        return {k: numbers_as_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_decimals(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(json.dumps(value))
    return value


@settings(max_examples=60)
@given(st.data())
def test_a_body_with_any_text_is_stored_faithfully_or_refused(hook, data):
    subscription, key = hook
    item = {
        "scope": "customer/updated",
        "external_id": data.draw(any_text, label="external_id"),
        "note": data.draw(json_values, label="note"),
    }
    body = dumps({"notifications": [item]})
    with rolled_back():
        response = post(subscription, body, {"HTTP_AUTHORIZATION": f"Bearer {key}"})
        assert response.status_code in {202, 400}, response.content
        if response.status_code == 400:
            event("refused")
            assert stored(subscription) == 0
            return
        event("stored")
        row = InboundEvent.objects.get(subscription=subscription)
        assert row.external_id == item["external_id"].strip()
        assert numbers_as_decimals(row.payload) == numbers_as_decimals(item)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1", "x": NaN}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1", "x": 1e999}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1\\u0000"}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1", "x": "\\u0000"}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "\\ud800"}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1", "\\udfff": 1}]}',
        # Unescaped: a raw NUL byte in a string, and a surrogate encoded as UTF-8 bytes.
        b'{"notifications": [{"scope": "customer/updated", "external_id": "1\x00"}]}',
        b'{"notifications": [{"scope": "customer/updated", "external_id": "\xed\xa0\x80"}]}',
    ],
    ids=[
        "nested",
        "nan",
        "infinite",
        "nul id",
        "nul value",
        "surrogate id",
        "surrogate key",
        "raw nul",
        "encoded surrogate",
    ],
)
def test_bodies_that_cannot_be_stored_are_refused_with_a_reason(hook, body):
    subscription, key = hook
    response = post(subscription, body, {"HTTP_AUTHORIZATION": f"Bearer {key}"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert stored(subscription) == 0
