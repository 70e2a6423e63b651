"""The simulated NetSuite's stock per item and location, over real HTTP: transactions move
quantities and their change stamp without touching the item, SuiteQL serves
``aggregateItemLocation`` strictly, and the account's time zone decides what a literal
without an offset means and how a plain date column reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from netsuite.errors import NetSuiteError
from netsuite.records import suiteql_timestamp
from netsuite.simulator import SimulatorAdminError

from .helpers import ACCOUNT

LEVELS = (
    "SELECT item, location, quantityonhand, quantityavailable, quantitycommitted, "
    "quantityonorder, quantitybackordered FROM aggregateitemlocation"
)
ORDER = " ORDER BY item, location"
DISPLAY = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2} [ap]m$")


def levels(client, where: str = "") -> list[dict]:
    query = LEVELS + (f" WHERE {where}" if where else "") + ORDER
    return [
        {k: v for k, v in row.items() if k != "links"}
        for row in client.records.suiteql(query, unique_columns=("location",))
    ]


def item_stamp(client, item: str) -> str:
    rows = list(
        client.records.suiteql(
            f"SELECT id, lastmodifieddate FROM item WHERE id = {item} ORDER BY id"
        )
    )
    return rows[0]["lastmodifieddate"]


def test_every_item_has_a_level_at_every_location_answered_as_text(client):
    rows = levels(client)
    assert len(rows) == 30 * 12
    first = rows[0]
    assert (first["item"], first["location"]) == ("1", "1")
    # Numbers come as text; a zero is left out of the row, as NetSuite leaves out nulls.
    assert first["quantityonhand"] == "10"
    assert first["quantitycommitted"] == "1"
    assert first["quantityavailable"] == "9"
    assert "quantitybackordered" not in first


def test_a_fulfilment_moves_stock_and_its_stamp_but_not_the_item(admin, client):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    before = item_stamp(client, "5")
    moved = admin.move_stock(ACCOUNT, item=5, location=2, kind="fulfillment", quantity=3)
    # Item 5 at location 2 held (5*7 + 2*3) % 50 = 41 with 5 % 3 = 2 committed.
    assert moved["quantityonhand"] == "38"
    assert "quantitycommitted" not in moved
    assert moved["quantityavailable"] == "38"
    found = levels(client, f"lastquantityavailablechange >= {suiteql_timestamp(since)}")
    assert [(r["item"], r["location"], r["quantityonhand"]) for r in found] == [("5", "2", "38")]
    assert item_stamp(client, "5") == before
    assert not list(
        client.records.suiteql(
            f"SELECT id FROM item WHERE lastmodifieddate >= {suiteql_timestamp(since)} ORDER BY id"
        )
    )


def test_moves_the_simulator_refuses(admin, client):
    for move in (
        {"item": 5, "location": 2, "kind": "theft", "quantity": 1},
        {"item": 5, "location": 2, "kind": "fulfillment", "quantity": -1},
        {"item": 5, "location": 2, "kind": "receipt", "quantity": "lots"},
        {"item": 999, "location": 2, "kind": "adjustment", "quantity": 1},
    ):
        with pytest.raises(SimulatorAdminError):
            admin.move_stock(ACCOUNT, **move)


def test_an_adjustment_below_what_is_committed_backorders(admin, client):
    moved = admin.move_stock(ACCOUNT, item=1, location=1, kind="adjustment", quantity="-10.5")
    # 10 on hand, 1 committed: -0.5 on hand leaves 1.5 back ordered and nothing available.
    assert moved["quantityonhand"] == "-0.5"
    assert moved["quantitybackordered"] == "1.5"
    assert "quantityavailable" not in moved


def test_the_table_is_strict(sim, client):
    for query in (
        "SELECT item, nosuchcolumn FROM aggregateitemlocation ORDER BY item, location",
        "SELECT item FROM aggregateitemlocation WHERE lastquantityavailablechange >= "
        "'2026-01-01' ORDER BY item, location",
        "SELECT item FROM aggregateitemlocation WHERE quantityonhand >= "
        "TO_TIMESTAMP_TZ('2026-01-01 00:00:00 +00:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM') "
        "ORDER BY item, location",
    ):
        with pytest.raises(NetSuiteError) as caught:
            list(client.records.suiteql(query, unique_columns=("location",)))
        assert caught.value.status == 400, query
    # A role without the permission finds no such table, as in NetSuite.
    consumer = next(iter(sim.state.integrations))
    sim.update_integration(consumer, denied_records={"aggregateitemlocation"})
    with pytest.raises(NetSuiteError) as caught:
        levels(client)
    assert "Record 'aggregateitemlocation' was not found" in str(caught.value.detail)


def test_an_account_elsewhere_reads_literals_without_an_offset_in_its_own_zone(sim, admin, client):
    admin.configure(time_zone="America/Los_Angeles")
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    admin.move_stock(ACCOUNT, item=7, location=3, kind="fulfillment", quantity=1)
    with_offset = levels(client, f"lastquantityavailablechange >= {suiteql_timestamp(moment)}")
    assert [(r["item"], r["location"]) for r in with_offset] == [("7", "3")]
    # The same UTC wall time without its offset means Los Angeles time, 7 or 8 hours
    # later: the move five minutes ago is before it, and a client assuming UTC misses it.
    utc_text = moment.strftime("%Y-%m-%d %H:%M:%S")
    for literal in (
        f"TO_TIMESTAMP('{utc_text}', 'YYYY-MM-DD HH24:MI:SS')",
        f"TO_DATE('{utc_text}', 'YYYY-MM-DD HH24:MI:SS')",
    ):
        assert levels(client, f"lastquantityavailablechange >= {literal}") == []
    # Written as Los Angeles wall time it finds the move again.
    local = moment.astimezone(sim.state.zone()).strftime("%Y-%m-%d %H:%M:%S")
    found = levels(
        client, f"lastquantityavailablechange >= TO_TIMESTAMP('{local}', 'YYYY-MM-DD HH24:MI:SS')"
    )
    assert [(r["item"], r["location"]) for r in found] == [("7", "3")]


def test_plain_date_columns_come_back_in_the_accounts_display_format(sim, admin, client):
    admin.configure(time_zone="America/Los_Angeles")
    moved_at = dt.datetime.now(dt.UTC)
    admin.move_stock(ACCOUNT, item=2, location=1, kind="receipt", quantity=4)
    rows = list(
        client.records.suiteql(
            "SELECT item, location, lastquantityavailablechange FROM aggregateitemlocation "
            "WHERE item = 2 AND location = 1 ORDER BY item, location",
            unique_columns=("location",),
        )
    )
    shown = rows[0]["lastquantityavailablechange"]
    assert DISPLAY.match(shown), shown
    local = moved_at.astimezone(sim.state.zone())
    assert shown.startswith(f"{local.month}/{local.day}/{local.year} {local.hour % 12 or 12}:")
    # An ISO reader would take it for something else entirely.
    with pytest.raises(ValueError):
        dt.datetime.fromisoformat(shown)


def test_the_time_zone_setting_is_checked(admin):
    assert admin.configure()["time_zone"] == "UTC"
    with pytest.raises(SimulatorAdminError):
        admin.configure(time_zone="Mars/Olympus_Mons")
