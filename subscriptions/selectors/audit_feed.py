"""The audit trail as a feed for machines: every event after a given id, in id order.

A SIEM pulls what it has not seen yet (``after`` = the last id it stored) and keeps the hash
chain with each event, so it can check the chain on its side. Keyset reads by the primary
key only: the cost of a pull is the events it returns, however long the trail is.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..models import AuditEvent
from .audit import EXPORT_BATCH, action_label

FEED_FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "remote_addr",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "subscription_id",
    "changes",
    "reason",
    "prev_hash",
    "hash",
)


def _event(row: dict) -> dict:
    return {**row, "action_name": action_label(row["action"])}


def audit_after(*, after: int, limit: int) -> list[dict]:
    """At most ``limit`` events with an id above ``after``, oldest first."""
    rows = AuditEvent.objects.filter(id__gt=after).order_by("id").values(*FEED_FIELDS)[:limit]
    return [_event(row) for row in rows]


def audit_stream(*, after: int, batch: int = EXPORT_BATCH) -> Iterator[dict]:
    """Every event with an id above ``after``, oldest first, read ``batch`` at a time (no
    transaction or cursor held between batches; memory stays at one batch)."""
    while True:
        rows = audit_after(after=after, limit=batch)
        if not rows:
            return
        yield from rows
        after = rows[-1]["id"]
