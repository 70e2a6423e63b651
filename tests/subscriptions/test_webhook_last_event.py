"""The webhook table's "last event received": per module and event, from one query, linked to
the Events section filtered to that module and event."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from netsuite.bundle import MODULES
from netsuite.inbound import EVENTS
from subscriptions.actors import SYSTEM
from subscriptions.models import InboundEvent
from tests import factories
from tests.html import parse

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
CUSTOMER = 245


def table_url(subscription) -> str:
    return reverse("subscriptions:webhooks", args=[subscription.pk])


def events_url(subscription, module, event) -> str:
    base = reverse("subscriptions:events", args=[subscription.pk])
    return f"{base}?module={module}&event={event}"


def last_event_cell(page, module: str, event: str):
    """The "last event received" entry of a module's row for one event."""
    rows = [
        r for r in parse(page).find_all("tr") if r.get("id", "").startswith(f"webhook-{module}-")
    ]
    assert rows, f"no row for {module}"
    return rows[0].find("span", class_="last-event", data_event=event)


def deliver(subscription, key, scope, external_id):
    """A notification through the real endpoint, as NetSuite's script posts it."""
    body = {"notifications": [{"scope": scope, "external_id": external_id}]}
    response = Client().post(
        f"/hooks/netsuite/{subscription.pk}/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 202, response.content


def test_each_module_and_event_shows_its_newest_event_with_a_filtered_link(
    netsuite_sim, support_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    old = timezone.now() - dt.timedelta(days=2, hours=3)
    factories.inbound_event(subscription, module="customer", event="updated", received_at=old)
    newest = factories.inbound_event(
        subscription,
        module="customer",
        event="updated",
        external_id="108",
        received_at=old + dt.timedelta(hours=1),
    )
    # Another subscription's newer event is not this one's.
    other, _key = factories.make_subscription(SYSTEM, name="Other Co")
    factories.inbound_event(other, module="customer", event="updated")

    page = support_client.get(table_url(subscription), **HX)
    assert page.status_code == 200
    updated = last_event_cell(page, "customer", "updated")
    when = updated.find("time")
    # The one date format (templatetags/dates.py): the viewer's zone (UTC without the
    # browser's tz cookie), the UTC instant in the title.
    received = newest.received_at.astimezone(dt.UTC)
    assert when["datetime"] == received.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert when.text == f"{received:%Y-%m-%d %H:%M} UTC"
    assert when["title"] == f"{received:%Y-%m-%d %H:%M:%S} UTC"
    link = updated.find("a")
    assert link["href"] == events_url(subscription, "customer", "updated")
    assert "Customer updated events" in link.text
    for module, event in (
        ("customer", "created"),
        ("customer", "deleted"),
        ("location", "updated"),
    ):
        cell = last_event_cell(page, module, event)
        assert "none yet" in cell.text and cell.find("a") is None

    # The link leads to that module's events of that kind only.
    filtered = support_client.get(link["href"])
    shown = {row["data-event-id"] for row in parse(filtered).find_all("tr", data_event_id=True)}
    assert shown == {str(newest.pk), str(newest.pk - 1)}


def test_an_event_delivered_through_the_endpoint_appears_after_a_toggle(
    netsuite_sim, support_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    key = subscription.webhook_api_key
    support_client.get(table_url(subscription), **HX)
    deliver(subscription, key, "customer/created", "501")

    # The toggled row, swapped in alone, carries the column too.
    row = support_client.post(
        reverse("subscriptions:webhook_toggle", args=[subscription.pk]),
        {"deployment": str(CUSTOMER), "flag": "create", "create": "on"},
        **HX,
    )
    assert row.status_code == 200
    created = last_event_cell(row, "customer", "created")
    received = InboundEvent.objects.get(subscription=subscription, external_id="501").received_at
    assert created.find("time").text == f"{received.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    assert created.find("a")["href"] == events_url(subscription, "customer", "created")


def test_one_query_for_the_column_however_many_events_and_modules(
    netsuite_sim, support_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    support_client.get(table_url(subscription), **HX)  # NetSuite's list, cached

    def event_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            page = support_client.get(table_url(subscription), **HX)
        assert page.status_code == 200
        return sum(1 for q in queries if "inboundevent" in q["sql"].lower())

    assert event_queries() == 1
    for module, _label in MODULES:
        for event in EVENTS:
            for n in range(3):
                factories.inbound_event(
                    subscription, module=module, event=event, external_id=f"{module}-{event}-{n}"
                )
    assert event_queries() == 1
    page = support_client.get(table_url(subscription), **HX)
    for module, _label in MODULES:
        for event in EVENTS:
            assert last_event_cell(page, module, event).find("time") is not None


def test_a_role_without_the_events_section_sees_the_time_without_a_link(
    netsuite_sim, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    factories.inbound_event(subscription, module="location", event="deleted")
    page = auditor_client.get(table_url(subscription) + "?show=1")
    cell = last_event_cell(page, "location", "deleted")
    assert cell.find("time") is not None
    assert cell.find("a") is None
    assert auditor_client.get(events_url(subscription, "location", "deleted")).status_code == 403
