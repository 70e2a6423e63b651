"""Inventory levels end to end: stock moved in the simulated NetSuite by a fulfilment (the
item untouched) is found by the next poll through the quantities' own change stamp, over
real HTTP, in an account whose time zone is not UTC; the Inventory page lists, filters and
sorts what was stored; ``poll_inventory`` queues and follows a poll.

The simulator seeds a level for each of its 30 inventory items at each of its 12 locations,
each last moved when its item was last changed (item n: n days and an hour ago).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from netsuite.errors import UnexpectedResponseError
from subscriptions.models import InventoryLevel, Job, Record
from subscriptions.services import inventory as inventory_service
from tests.subscriptions.conftest import ACCOUNT

# Its autouse fixture too: the caps kept off the database.
from tests.subscriptions.test_jobs_initialization import (  # noqa: F401
    _caps_off_the_database,
)
from tests.subscriptions.test_polling import poll

LEVELS = 30 * 12


@pytest.fixture
def elsewhere(netsuite_sim):
    """The simulated account keeps Los Angeles time."""
    netsuite_sim.sim.configure(time_zone="America/Los_Angeles")
    return netsuite_sim


def level(subscription, item: int, location: int) -> InventoryLevel:
    return InventoryLevel.objects.get(subscription=subscription, item_id=item, location_id=location)


def fulfil(netsuite_sim, item: int, location: int, quantity: int) -> dict:
    return netsuite_sim.sim.move_stock(
        ACCOUNT, item=str(item), location=str(location), kind="fulfillment", quantity=quantity
    )


def test_a_fulfilment_is_found_by_the_next_poll_with_days_0(
    elsewhere, django_capture_on_commit_callbacks
):
    subscription = elsewhere.subscription()
    first = poll(subscription, django_capture_on_commit_callbacks)
    assert first.status == Job.Status.SUCCEEDED, first.log
    assert first.counts["inventorylevel"] == {
        "read": LEVELS,
        "created": LEVELS,
        "updated": 0,
        "unchanged": 0,
    }
    assert InventoryLevel.objects.filter(subscription=subscription).count() == LEVELS
    # Item 5 at location 2: 41 on hand, 2 committed, 39 available; NetSuite leaves the
    # zero quantities out, and what was not sent is stored as no value.
    before = level(subscription, 5, 2)
    assert (
        before.on_hand,
        before.committed,
        before.available,
        before.on_order,
        before.backordered,
    ) == (41, 2, 39, None, None)
    assert before.changed_in_poll == first.pk
    item_before = Record.objects.get(
        subscription=subscription, record_type="inventoryitem", internal_id="5"
    )

    fulfil(elsewhere, 5, 2, 3)
    elsewhere.sim.reset_stats()
    second = poll(subscription, django_capture_on_commit_callbacks)
    assert second.status == Job.Status.SUCCEEDED, second.log
    # The item did not change, so no item was read; the one moved level was.
    assert second.counts["inventoryitem"]["read"] == 0
    assert second.counts["inventorylevel"] == {
        "read": 1,
        "created": 0,
        "updated": 1,
        "unchanged": 0,
    }
    after = level(subscription, 5, 2)
    assert (after.on_hand, after.committed, after.available) == (38, None, 38)
    assert after.changed_in_poll == second.pk
    assert level(subscription, 5, 3).changed_in_poll == first.pk
    item_after = Record.objects.get(pk=item_before.pk)
    assert item_after.fetched_at == item_before.fetched_at
    # One query for the items, one for the levels: the window, not the catalogue.
    assert elsewhere.stats()["calls"]["suiteql"] == 2
    assert "1 item-locations read, 1 changed." in second.log[-1]["text"]


def test_inventory_search_days_n_reads_the_levels_moved_in_the_last_n_days(
    elsewhere, django_capture_on_commit_callbacks
):
    subscription = elsewhere.subscription(inventory_search_days=2)
    fulfil(elsewhere, 20, 3, 1)
    job = poll(subscription, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.log
    # Item 1's levels moved a day and an hour ago, item 20's at location 3 just now.
    stored = set(
        InventoryLevel.objects.filter(subscription=subscription).values_list(
            "item_id", "location_id"
        )
    )
    assert stored == {(1, m) for m in range(1, 13)} | {(20, 3)}
    assert level(subscription, 20, 3).on_hand == Decimal((20 * 7 + 3 * 3) % 50 - 1)


def test_quantities_read_as_text_are_numbers():
    q = inventory_service.quantity
    assert q("6") == q("6.0") == q(6) == q(" 6 ") == Decimal(6)
    assert q("-0.5") == Decimal("-0.5")
    assert q("") is None and q(None) is None
    for bad in ("six", "NaN", True, [], "Infinity"):
        with pytest.raises(UnexpectedResponseError):
            q(bad)


def test_the_same_stock_written_differently_is_unchanged(netsuite_sim):
    subscription = netsuite_sim.subscription()
    columns = ("item", "location", *inventory_service.QUANTITY_COLUMNS)
    first = [(1, 2, "6", "6", None, "", None)]
    rows = [inventory_service.level_row(None, dict(zip(columns, r, strict=True))) for r in first]
    counts = inventory_service.levels_store(subscription.pk, "inventorylevel", rows, job_id=1)
    assert counts["created"] == 1
    again = [
        inventory_service.level_row(
            None,
            {
                "item": "1",
                "location": "2",
                "quantityonhand": "6.0",
                "quantityavailable": "6.000",
            },
        )
    ]
    counts = inventory_service.levels_store(subscription.pk, "inventorylevel", again, job_id=2)
    assert counts == {"read": 1, "created": 0, "updated": 0, "unchanged": 1}
    assert level(subscription, 1, 2).changed_in_poll == 1
    # "10" sorts before "9" as text, not as stock.
    bigger = [
        inventory_service.level_row(
            None,
            {
                "item": "1",
                "location": "2",
                "quantityonhand": "10",
                "quantityavailable": "9",
            },
        )
    ]
    counts = inventory_service.levels_store(subscription.pk, "inventorylevel", bigger, job_id=3)
    assert counts["updated"] == 1
    assert level(subscription, 1, 2).on_hand == 10
    with pytest.raises(UnexpectedResponseError):
        inventory_service.level_row(None, {"item": "x", "location": "2"})


# -- the Inventory page ------------------------------------------------------------------------


@pytest.fixture
def polled(elsewhere, django_capture_on_commit_callbacks):
    subscription = elsewhere.subscription()
    poll(subscription, django_capture_on_commit_callbacks)
    fulfil(elsewhere, 5, 2, 3)
    fulfil(elsewhere, 12, 7, 1)
    job = poll(subscription, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.log
    return subscription


def page(client, subscription, **params):
    response = client.get(reverse("subscriptions:inventory", args=[subscription.pk]), params)
    assert response.status_code == 200
    return response


def shown(response) -> list[tuple[int, int]]:
    return [(r["level"].item_id, r["level"].location_id) for r in response.context["rows"]]


def test_the_page_lists_filters_and_sorts_the_stored_levels(support_client, polled):
    everything = page(support_client, polled)
    assert everything.context["page"].paginator.count == LEVELS
    assert shown(everything)[:2] == [(1, 1), (1, 2)]
    first = everything.context["rows"][0]
    assert first["item_name"] == "ITEM-00001"
    assert first["location_name"] == ""  # locations not initialized: the ID alone

    changed = page(support_client, polled, changed="1")
    assert sorted(shown(changed)) == [(5, 2), (12, 7)]

    by_id = page(support_client, polled, q="12")
    assert {item for item, _ in shown(by_id)} == {12}
    by_name = page(support_client, polled, q="ITEM-0000")
    assert by_name.context["page"].paginator.count == 9 * 12
    # An ID matches as an ID, and as part of a name: item 5, ITEM-00015 and ITEM-00025.
    assert {item for item, _ in shown(page(support_client, polled, q="5", location="2"))} == {
        5,
        15,
        25,
    }
    at = page(support_client, polled, q="ITEM-00005", location="2")
    assert shown(at) == [(5, 2)]
    assert at.context["rows"][0]["quantities"][:3] == ["38", "38", None]

    # Numeric sorts: IDs 10, 11, ... after 9; on hand as numbers, largest first.
    by_location = page(support_client, polled, sort="location", dir="desc")
    assert shown(by_location)[0] == (1, 12)
    by_stock = page(support_client, polled, sort="on_hand", dir="desc")
    top = [r["level"].on_hand for r in by_stock.context["rows"]]
    assert top == sorted(top, reverse=True) and top[0] == 49
    last_page = page(support_client, polled, page="8")
    assert len(last_page.context["rows"]) == LEVELS - 7 * 50


def test_the_page_is_for_whoever_may_see_jobs(polled, auditor_client, admin_client_):
    url = reverse("subscriptions:inventory", args=[polled.pk])
    assert auditor_client.get(url).status_code == 403
    assert admin_client_.get(url).status_code == 200
    assert admin_client_.post(url).status_code == 405


def test_changed_in_the_last_poll_before_any_poll_shows_nothing(support_client, netsuite_sim):
    subscription = netsuite_sim.subscription()
    response = page(support_client, subscription, changed="1")
    assert response.context["page"].paginator.count == 0
    assert response.context["last_poll"] is None


# -- the command -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_poll_inventory_waits_and_prints_what_was_read_and_changed(netsuite_sim, settings, capsys):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    subscription = netsuite_sim.subscription("Stock Co")
    call_command("poll_inventory", "stock co", "--wait")
    out = capsys.readouterr().out
    assert "Inventory items: 30 read, 30 changed." in out
    assert f"Item-locations: {LEVELS} read, {LEVELS} changed." in out
    fulfil(netsuite_sim, 3, 4, 2)
    call_command("poll_inventory", "Stock Co", "--wait")
    out = capsys.readouterr().out
    assert "Item-locations: 1 read, 1 changed." in out
    assert "succeeded" in out
    assert level(subscription, 3, 4).on_hand == (3 * 7 + 4 * 3) % 50 - 2


@pytest.mark.django_db(transaction=True)
def test_poll_inventory_refuses_an_unknown_subscription():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No subscription is named"):
        call_command("poll_inventory", "nobody")
