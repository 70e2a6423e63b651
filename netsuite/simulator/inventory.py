"""Stock per item and location in the simulated NetSuite, and the transactions that move it.

NetSuite keeps an inventory item's quantities per location (with Multi-Location Inventory)
and SuiteQL serves them from ``aggregateItemLocation``: on hand, available, committed, on
order, back ordered, and ``lastQuantityAvailableChange``, the moment the quantities last
moved. Stock moves through transactions (a fulfilment, a receipt, an adjustment), which stamp
that column and leave the item's own ``lastModifiedDate`` alone: a poll that watches the item
sees nothing. This module plays those transactions so tests can move stock and find out
whether a client notices.

Quantities are kept as :class:`~decimal.Decimal` and answered as SuiteQL answers numbers:
text ("6", "2.5"), and a zero as no value at all (the column left out of the row), so a
client has to parse them rather than compare strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

ITEM_LOCATION_TABLE = "aggregateitemlocation"
QUANTITY_COLUMNS = (
    "quantityonhand",
    "quantityavailable",
    "quantitycommitted",
    "quantityonorder",
    "quantitybackordered",
)
STAMP_COLUMN = "lastquantityavailablechange"
COLUMNS = ("item", "location", *QUANTITY_COLUMNS, STAMP_COLUMN)
# What each move does to on hand, committed and on order (available is derived).
MOVES = ("fulfillment", "receipt", "adjustment")


def _stamp(moment: dt.datetime) -> str:
    # Whole seconds in UTC, as the other stored moments; answered in the account's format.
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _level(
    item: str, location: str, on_hand: int, committed: int, on_order: int, stamp: str
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "item": item,
        "location": location,
        "quantityonhand": Decimal(on_hand),
        "quantitycommitted": Decimal(committed),
        "quantityonorder": Decimal(on_order),
        "quantitybackordered": Decimal(0),
        STAMP_COLUMN: stamp,
    }
    _derive(row)
    return row


def _derive(row: dict[str, Any]) -> None:
    available = row["quantityonhand"] - row["quantitycommitted"]
    row["quantityavailable"] = max(available, Decimal(0))
    row["quantitybackordered"] = max(-available, Decimal(0))


# Locations that hold stock: the first ones by internal ID. A company with a thousand
# locations (the scaled-out test's) does not stock every item at each, and a level per item and
# location there would be a million rows built whenever an account is made.
STOCKED_LOCATIONS = 12


def seed(
    items: dict[str, dict], locations: dict[str, dict], created: dt.datetime
) -> dict[str, dict]:
    """A level for every inventory item at each stocked location (the first
    :data:`STOCKED_LOCATIONS`), each last moved as long ago as its item was last changed
    (item n: n days and an hour before ``created``)."""
    levels = {}
    stocked = sorted(locations, key=int)[:STOCKED_LOCATIONS]
    for item in items:
        n = int(item)
        stamp = _stamp(created - dt.timedelta(days=n, hours=1))
        for location in stocked:
            m = int(location)
            levels[f"{item}:{location}"] = _level(
                item, location, (n * 7 + m * 3) % 50, n % 3, 5 * (m % 2), stamp
            )
    return levels


def move(
    levels: dict[str, dict], *, item: Any, location: Any, kind: Any, quantity: Any, now: dt.datetime
) -> dict:
    """Move ``quantity`` of ``item`` at ``location`` by a ``kind`` of transaction; stamps
    the level (never the item). Raises ``ValueError`` with a sentence for a bad request."""
    if kind not in MOVES:
        raise ValueError(f"kind is one of {', '.join(MOVES)}.")
    try:
        amount = Decimal(str(quantity))
    except InvalidOperation:
        raise ValueError("quantity is a number.") from None
    if not amount.is_finite() or (kind != "adjustment" and amount <= 0):
        raise ValueError("quantity is a positive number (an adjustment may be negative).")
    key = f"{item}:{location}"
    row = levels.get(key)
    if row is None:
        raise ValueError(f"No inventory level for item {item} at location {location}.")
    if kind == "fulfillment":
        row["quantityonhand"] -= amount
        row["quantitycommitted"] = max(row["quantitycommitted"] - amount, Decimal(0))
    elif kind == "receipt":
        row["quantityonhand"] += amount
        row["quantityonorder"] = max(row["quantityonorder"] - amount, Decimal(0))
    else:
        row["quantityonhand"] += amount
    _derive(row)
    row[STAMP_COLUMN] = _stamp(now)
    return {name: value for name, value in answer(row).items() if value is not None}


def answer(row: dict[str, Any]) -> dict[str, Any]:
    """A level as SuiteQL answers it: quantities as text, a zero left out (null)."""
    out = {}
    for name, value in row.items():
        if isinstance(value, Decimal):
            out[name] = None if value == 0 else format(value.normalize(), "f")
        else:
            out[name] = value
    return out


def empty_row() -> dict[str, Any]:
    """The table's columns with no values: what an empty table still knows."""
    return dict.fromkeys(COLUMNS)
