"""What the dashboard stored, read in pages: inventory levels, records, inbound events.

The same selectors as the Inventory, Records and Events sections, with the same filters;
``limit`` and ``offset`` page them and ``count`` says how many match. Quantities are strings
of the stored decimals ("600", "2.5"), so no float rounds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Query, Router, Schema

from ..models import QUANTITY_FIELDS, InboundEvent
from ..selectors.events import event_list
from ..selectors.inventory import SORTS, inventory_levels, names
from ..selectors.records import record_search
from ..services.polling import RECORD_TYPES
from .auth import token
from .common import (
    Id,
    Limit,
    Offset,
    PageMeta,
    Text,
    aware,
    clean,
    page,
    subscription_or_404,
)
from .errors import responses

router = Router(tags=["stored data"])
VIEW_JOBS = token("view_jobs")


def _choices(model, field: str) -> tuple[str, ...]:
    return tuple(value for value, _label in model._meta.get_field(field).choices)


Sort = Literal[tuple(SORTS)]  # type: ignore[valid-type]
RecordType = Literal[tuple(RECORD_TYPES)]  # type: ignore[valid-type]
Module = Literal[("", *_choices(InboundEvent, "module"))]  # type: ignore[valid-type]
Event = Literal[("", *_choices(InboundEvent, "event"))]  # type: ignore[valid-type]


class LevelOut(Schema):
    item_id: int
    item_name: str
    location_id: int
    location_name: str
    on_hand: str | None
    available: str | None
    committed: str | None
    on_order: str | None
    backordered: str | None
    read_at: dt.datetime
    changed_at: dt.datetime


class LevelPage(PageMeta):
    items: list[LevelOut]


class RecordOut(Schema):
    internal_id: str
    name: str
    inactive: bool
    fields: dict[str, Any]
    fetched_at: dt.datetime


class RecordPage(PageMeta):
    record_type: str
    items: list[RecordOut]


class EventOut(Schema):
    id: int
    module: str
    event: str
    scope: str
    external_id: str
    event_id: str
    received_at: dt.datetime
    source: str
    remote_addr: str
    request_id: str


class EventPage(PageMeta):
    items: list[EventOut]


@router.get(
    "/subscriptions/{subscription_id}/inventory",
    **VIEW_JOBS,
    response=responses({200: LevelPage}),
    url_name="inventory_list",
    summary="Stock per item and location (q: an item's ID or name; location likewise)",
)
def inventory(
    request,
    subscription_id: Id,
    q: Text = "",
    location: Text = "",
    sort: Annotated[Sort, Query()] = "item",
    descending: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
):
    subscription = subscription_or_404(subscription_id)
    levels = inventory_levels(
        subscription, query=clean(q), location=clean(location), sort=sort, descending=descending
    )
    rows, meta = page(levels, limit=limit, offset=offset)
    items = []
    for row in names(subscription, rows):
        level = row["level"]
        items.append(
            {
                "item_id": level.item_id,
                "item_name": row["item_name"],
                "location_id": level.location_id,
                "location_name": row["location_name"],
                **dict(zip(QUANTITY_FIELDS, row["quantities"], strict=True)),
                "read_at": level.read_at,
                "changed_at": level.changed_at,
            }
        )
    return {**meta, "items": items}


@router.get(
    "/subscriptions/{subscription_id}/records/{record_type}",
    **VIEW_JOBS,
    response=responses({200: RecordPage}),
    url_name="record_list",
    summary="Stored records of one data type (q: a name part or an internal ID)",
)
def records(
    request,
    subscription_id: Id,
    record_type: RecordType,
    q: Text = "",
    limit: Limit = 50,
    offset: Offset = 0,
):
    subscription = subscription_or_404(subscription_id)
    rows, meta = page(
        record_search(subscription, record_type, clean(q)), limit=limit, offset=offset
    )
    items = [
        {
            "internal_id": record.internal_id,
            "name": record.name,
            "inactive": record.inactive,
            "fields": record.fields if isinstance(record.fields, dict) else {},
            "fetched_at": record.fetched_at,
        }
        for record in rows
    ]
    return {**meta, "record_type": record_type, "items": items}


@router.get(
    "/subscriptions/{subscription_id}/events",
    **token("view_inbound_events"),
    response=responses({200: EventPage}),
    url_name="event_list",
    summary="Inbound webhook events, newest first",
)
def events(
    request,
    subscription_id: Id,
    module: Annotated[Module, Query()] = "",
    event: Annotated[Event, Query()] = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    subscription = subscription_or_404(subscription_id)
    rows, meta = page(
        event_list(
            subscription, module=module, event=event, since=aware(since), until=aware(until)
        ),
        limit=limit,
        offset=offset,
    )
    return {**meta, "items": rows}
