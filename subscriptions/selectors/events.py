"""Read queries for inbound webhook events: the webhook endpoint's key check, the events page
and the webhook table's "last event received" column."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from ..models import InboundEvent, Subscription

EVENT_COLUMNS = (
    "id",
    "module",
    "event",
    "scope",
    "external_id",
    "event_id",
    "received_at",
    "source",
    "remote_addr",
    "request_id",
)


@dataclass(frozen=True)
class InboundTarget:
    """What the webhook endpoint needs of a subscription: no secret, no decryption."""

    id: int
    key_digest: str
    throttle_limit: int
    throttle_seconds: int


def inbound_target(subscription_id: int) -> InboundTarget | None:
    """One query by primary key; ``None`` for an unknown subscription."""
    row = (
        # No ORDER BY: one row by its key needs none (the model orders by LOWER(name)).
        Subscription.objects.filter(pk=subscription_id)
        .order_by()
        .values_list(
            "id", "webhook_api_key_digest", "ipaas_throttle_limit", "ipaas_throttle_seconds"
        )
        .first()
    )
    return InboundTarget(*row) if row else None


def last_events(subscription: Subscription) -> dict[tuple[str, str], dt.datetime]:
    """``{(module, event): newest received_at}`` in one query (the module/event index).

    For the webhook table: ``last_events(s).get((row.module, "updated"))`` per cell.
    """
    rows = (
        InboundEvent.objects.filter(subscription=subscription)
        .order_by()
        .values_list("module", "event")
        .annotate(newest=Max("received_at"))
    )
    return {(module, event): newest for module, event, newest in rows}


def event_list(
    subscription: Subscription,
    *,
    module: str = "",
    event: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet:
    """The subscription's events, newest first, as dicts for a page (slice it to paginate)."""
    events = InboundEvent.objects.filter(subscription=subscription)
    if module:
        events = events.filter(module=module)
    if event:
        events = events.filter(event=event)
    if since is not None:
        events = events.filter(received_at__gte=since)
    if until is not None:
        events = events.filter(received_at__lt=until)
    return events.order_by("-received_at", "-id").values(*EVENT_COLUMNS)
