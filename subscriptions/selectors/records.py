"""Stored records for the pages: one type of one subscription, searched, and counts per type."""

from __future__ import annotations

from django.db.models import Count, Max, Q
from django.db.models.functions import Length

from ..models import Record, Subscription

PAGE_SIZE = 50


def record_search(subscription: Subscription, record_type: str, query: str = ""):
    records = Record.objects.filter(subscription=subscription, record_type=record_type)
    query = query.strip()
    if query:
        records = records.filter(Q(name__icontains=query) | Q(internal_id=query))
    # Internal IDs in number order (2 before 10): the shorter first, then the text, which for
    # digits without leading zeros is the number's order; SQLite and PostgreSQL alike, and an
    # ID that is not a number (an alternate-id type's code) still has its place.
    return records.only(
        "id", "internal_id", "name", "inactive", "fields", "fetched_at"
    ).order_by(Length("internal_id"), "internal_id")


def record_counts(subscription: Subscription) -> dict[str, dict]:
    """Per type: how many rows are stored and when the newest was read."""
    rows = (
        Record.objects.filter(subscription=subscription)
        .values("record_type")
        .annotate(stored=Count("id"), newest=Max("fetched_at"))
    )
    return {row["record_type"]: row for row in rows}
