"""Stored inventory levels for the Inventory page: searched, filtered, sorted numerically,
with the names of their items and locations; a constant number of queries per page.

Names come from the records polling and initialization stored (``inventoryitem`` and
``location``); a level whose item or location was never read shows its internal ID alone.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import BigIntegerField, F, Q, QuerySet
from django.db.models.functions import Cast

from ..models import QUANTITY_FIELDS, InventoryLevel, Job, Record, Subscription

PAGE_SIZE = 50
ITEM_TYPE = "inventoryitem"
LOCATION_TYPE = "location"
# Sort key -> the columns ordered by (the item and location break ties, so pages are stable).
SORTS = {
    "item": ("item_id", "location_id"),
    "location": ("location_id", "item_id"),
    **{name: (name, "item_id", "location_id") for name in QUANTITY_FIELDS},
}


def last_poll(subscription: Subscription) -> Job | None:
    """The newest inventory poll that succeeded: what "changed in the last poll" means."""
    return (
        Job.objects.filter(
            subscription=subscription, kind=Job.Kind.INVENTORY_POLL, status=Job.Status.SUCCEEDED
        )
        .only("pk", "finished_at", "params", "counts")
        .order_by("-finished_at", "-pk")
        .first()
    )


def _ids_named(subscription: Subscription, record_type: str, text: str):
    return (
        Record.objects.filter(subscription=subscription, record_type=record_type)
        .filter(
            Q(name__icontains=text) | Q(fields__displayname__icontains=text)
            if record_type == ITEM_TYPE
            else Q(name__icontains=text)
        )
        .annotate(number=Cast("internal_id", BigIntegerField()))
        .values("number")
    )


def _matching(subscription: Subscription, record_type: str, column: str, text: str) -> Q:
    """Levels whose item (or location) has ``text`` as its ID or in its name."""
    wanted = Q(**{f"{column}__in": _ids_named(subscription, record_type, text)})
    if text.isdigit():
        wanted |= Q(**{column: int(text)})
    return wanted


def inventory_levels(
    subscription: Subscription,
    *,
    query: str = "",
    location: str = "",
    changed_in: int | None = None,
    sort: str = "item",
    descending: bool = False,
) -> QuerySet[InventoryLevel]:
    levels = InventoryLevel.objects.filter(subscription=subscription)
    query, location = query.strip(), location.strip()
    if query:
        levels = levels.filter(_matching(subscription, ITEM_TYPE, "item_id", query))
    if location:
        levels = levels.filter(_matching(subscription, LOCATION_TYPE, "location_id", location))
    if changed_in is not None:
        levels = levels.filter(changed_in_poll=changed_in)
    columns = SORTS.get(sort, SORTS["item"])
    first = F(columns[0])
    first = first.desc(nulls_last=True) if descending else first.asc(nulls_first=True)
    return levels.order_by(first, *columns[1:])


def _shown(value: Decimal | None) -> str | None:
    # "600", "2.5": the stored six decimals without their trailing zeros, never "6E+2".
    return None if value is None else format(value.normalize(), "f")


def names(subscription: Subscription, levels: list[InventoryLevel]) -> list[dict]:
    """The page's levels with their item's and location's names (two queries)."""
    wanted = {
        ITEM_TYPE: {str(level.item_id) for level in levels},
        LOCATION_TYPE: {str(level.location_id) for level in levels},
    }
    found: dict[str, dict[str, Record]] = {}
    for record_type, ids in wanted.items():
        found[record_type] = {
            r.internal_id: r
            for r in Record.objects.filter(
                subscription=subscription, record_type=record_type, internal_id__in=ids
            ).only("internal_id", "name", "fields")
        }
    rows = []
    for level in levels:
        item = found[ITEM_TYPE].get(str(level.item_id))
        place = found[LOCATION_TYPE].get(str(level.location_id))
        rows.append(
            {
                "level": level,
                "item_name": item.name if item else "",
                "item_display": (item.fields or {}).get("displayname", "") if item else "",
                "location_name": place.name if place else "",
                "quantities": [_shown(getattr(level, name)) for name in QUANTITY_FIELDS],
            }
        )
    return rows
