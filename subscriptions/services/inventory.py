"""Inventory levels: NetSuite's stock per item and location, read by an inventory poll and
stored one row per (item, location).

The levels come from SuiteQL's ``aggregateItemLocation`` (docs/inventory.md says why that
table and what the role needs). A poll reads the levels whose ``lastquantityavailablechange``
falls in its window, because stock moves through transactions that never touch the item's
``lastmodifieddate``; the first poll reads every level. SuiteQL answers numbers as text and
leaves a zero or empty quantity out, so every quantity is parsed to a ``Decimal`` here (text
compared as text would call "6" and "6.0" different stock).

A level read with the same quantities as stored only has ``read_at`` moved; a new or
different one is written with ``changed_in_poll`` = the poll's job, which is what the
Inventory page's "changed in the last poll" filter means.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from netsuite.errors import UnexpectedResponseError
from netsuite.records import suiteql_timestamp

from ..bulk_sql import insert_rows
from ..models import QUANTITY_FIELDS, InventoryLevel
from .initialization import DataType

# SuiteQL column -> model field, in the order of QUANTITY_FIELDS.
QUANTITY_COLUMNS = {
    "quantityonhand": "on_hand",
    "quantityavailable": "available",
    "quantitycommitted": "committed",
    "quantityonorder": "on_order",
    "quantitybackordered": "backordered",
}
STAMP_COLUMN = "lastquantityavailablechange"
INVENTORY_LEVEL_KEY = "inventorylevel"


def quantity(value: Any) -> Decimal | None:
    """A SuiteQL quantity ("6", "6.0", 6, "" or absent) as a Decimal; ``None`` for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UnexpectedResponseError(f"NetSuite sent a quantity that is not a number: {value!r}.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise UnexpectedResponseError(
            f"NetSuite sent a quantity that is not a number: {value!r}."
        ) from None
    if not number.is_finite():
        raise UnexpectedResponseError(f"NetSuite sent a quantity that is not a number: {value!r}.")
    return number


def _internal_id(row: dict, column: str) -> int:
    value = row.get(column)
    usable = isinstance(value, str | int) and not isinstance(value, bool)
    text = str(value).strip() if usable else ""
    if not text.isdigit():
        raise UnexpectedResponseError(
            f"NetSuite sent an inventory level whose {column} is not an internal ID: {value!r}."
        )
    return int(text)


def level_row(data_type: DataType, row: dict) -> tuple:
    """(item, location, on hand, available, committed, on order, back ordered)."""
    return (
        _internal_id(row, "item"),
        _internal_id(row, "location"),
        *(quantity(row.get(column)) for column in QUANTITY_COLUMNS),
    )


def levels_store(
    subscription_id: int, key: str, rows: list[tuple], *, job_id: int
) -> dict[str, int]:
    """Upsert a page of levels; new and changed ones are marked as changed by ``job_id``."""
    if not rows:
        return {"read": 0, "created": 0, "updated": 0, "unchanged": 0}
    wanted = {(r[0], r[1]): r[2:] for r in rows}
    stored = {
        (level.item_id, level.location_id): level
        for level in InventoryLevel.objects.filter(
            subscription_id=subscription_id, item_id__in={item for item, _ in wanted}
        ).only("pk", "item_id", "location_id", *QUANTITY_FIELDS)
    }
    now = timezone.now()
    writes, unchanged = [], []
    for (item, location), quantities in wanted.items():
        level = stored.get((item, location))
        same = level is not None and all(
            getattr(level, name) == value
            for name, value in zip(QUANTITY_FIELDS, quantities, strict=True)
        )
        if same:
            unchanged.append(level.pk)
            continue
        writes.append((subscription_id, item, location, *quantities, now, now, job_id))
    insert_rows(InventoryLevel, _LEVEL_COLUMNS, writes, conflict=_LEVEL_KEY, update=_LEVEL_UPDATED)
    if unchanged:
        InventoryLevel.objects.filter(pk__in=unchanged).update(read_at=now)
    created = sum(1 for w in writes if (w[1], w[2]) not in stored)
    return {
        "read": len(wanted),
        "created": created,
        "updated": len(writes) - created,
        "unchanged": len(unchanged),
    }


_LEVEL_KEY = ("subscription_id", "item_id", "location_id")
_LEVEL_UPDATED = (*QUANTITY_FIELDS, "read_at", "changed_at", "changed_in_poll")
_LEVEL_COLUMNS = (*_LEVEL_KEY, *_LEVEL_UPDATED)

INVENTORY_LEVEL = DataType(
    INVENTORY_LEVEL_KEY,
    "Inventory level",
    ("item", "location", *QUANTITY_COLUMNS),
    table="aggregateitemlocation",
    order_by=("item", "location"),
    row=level_row,
)


def inventory_level_type(window_from: dt.datetime | None, job_id: int) -> DataType:
    """The levels a poll reads: those whose quantities moved since ``window_from`` (every
    level when ``None``), stored as changed by the poll ``job_id``."""

    def store(subscription_id: int, key: str, rows: list[tuple]) -> dict[str, int]:
        return levels_store(subscription_id, key, rows, job_id=job_id)

    where = "" if window_from is None else f"{STAMP_COLUMN} >= {suiteql_timestamp(window_from)}"
    return dataclasses.replace(INVENTORY_LEVEL, where=where, store=store)
