"""Reads for the audit trail and the people page.

The audit table grows without bound, so every read here is shaped for an index: equality
filters on the indexed columns, keyset pages by id (never OFFSET), no COUNT(*), and the
distinct lists come from skip scans instead of scanning the table.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from .models import AuditEvent, Role, Subscription

PAGE_SIZE = 50
EXPORT_BATCH = 2000


@dataclass(frozen=True)
class AuditFilters:
    subscription_id: int | None = None
    actor: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_dict(self) -> dict:
        """The filters that are set, as plain strings (for the audit record of an export)."""
        values = {
            "subscription": self.subscription_id,
            "person": self.actor,
            "action": self.action,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _start_of_day(day: dt.date) -> dt.datetime:
    # Dates are the operator's calendar days (TIME_ZONE), not UTC days.
    midnight = dt.datetime.combine(day, dt.time.min)
    return timezone.make_aware(midnight, timezone.get_default_timezone())


def audit_events(filters: AuditFilters | None = None):
    """Events matching the filters, unordered (callers order by id)."""
    qs = AuditEvent.objects.all()
    if filters is None:
        return qs
    if filters.subscription_id is not None:
        qs = qs.filter(subscription_id=filters.subscription_id)
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of_day(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of_day(filters.date_to + dt.timedelta(days=1)))
    return qs


@dataclass
class AuditPage:
    events: list = field(default_factory=list)
    has_newer: bool = False
    has_older: bool = False
    # Where "Newer" starts when this page is empty (a cursor past the oldest match).
    empty_after: int | None = None

    @property
    def newer_cursor(self):
        return self.events[0].pk if self.events else self.empty_after

    @property
    def older_cursor(self):
        return self.events[-1].pk if self.events else None


def audit_page(
    filters: AuditFilters | None = None,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page, newest first. `before` pages towards older events, `after` towards newer.

    One query for the rows (one extra row tells whether more follow in that direction) and
    one indexed EXISTS for the other direction: the cost is the same on page 1 and page 20,000.
    """
    qs = audit_events(filters)
    if after is not None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        more = len(rows) > size
        events = list(reversed(rows[:size]))
        page = AuditPage(events, has_newer=more)
        page.has_older = bool(events) and qs.filter(id__lt=events[-1].pk).exists()
        if not events:
            # Nothing newer than the cursor: show the newest page instead of an empty one.
            return audit_page(filters, size=size)
        return page
    if before is not None:
        qs_page = qs.filter(id__lt=before)
    else:
        qs_page = qs
    rows = list(qs_page.order_by("-id")[: size + 1])
    events = rows[:size]
    page = AuditPage(events, has_older=len(rows) > size)
    if before is not None and events:
        page.has_newer = qs.filter(id__gt=events[0].pk).exists()
    elif before is not None:
        page.has_newer = qs.filter(id__gte=before).exists()
        page.empty_after = before - 1
    return page


def audit_event(pk: int) -> AuditEvent:
    return AuditEvent.objects.get(pk=pk)


# Distinct values by a skip scan: each step is one index seek for the next larger value, so
# the cost grows with the number of distinct values, not with the number of events. Both
# SQLite and PostgreSQL run this form unchanged.
_DISTINCT_ACTIONS = """
WITH RECURSIVE seen(value) AS (
    SELECT MIN(action) FROM {table}
    UNION ALL
    SELECT (SELECT MIN(action) FROM {table} WHERE action > seen.value)
    FROM seen WHERE seen.value IS NOT NULL
)
SELECT value FROM seen WHERE value IS NOT NULL
"""

_DISTINCT_SUBSCRIPTIONS = """
WITH RECURSIVE seen(value) AS (
    SELECT MIN(subscription_id) FROM {table}
    UNION ALL
    SELECT (SELECT MIN(subscription_id) FROM {table} WHERE subscription_id > seen.value)
    FROM seen WHERE seen.value IS NOT NULL
)
SELECT value FROM seen WHERE value IS NOT NULL
"""


def _run(sql: str) -> list[tuple]:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table))
        return cursor.fetchall()


def audit_actions() -> list[str]:
    return [row[0] for row in _run(_DISTINCT_ACTIONS)]


def audit_subscription_choices() -> list[tuple[int, str]]:
    """Existing subscriptions by name, then ids seen only in events (deleted subscriptions)."""
    existing = list(Subscription.objects.values_list("id", "name"))  # Meta: by lower(name)
    known = {pk for pk, _ in existing}
    gone = [row[0] for row in _run(_DISTINCT_SUBSCRIPTIONS) if row[0] not in known]
    if not gone:
        return existing
    # The deletion event keeps the name the subscription had when it was deleted.
    names = dict(
        AuditEvent.objects.filter(action="subscription.deleted", subscription_id__in=gone)
        .order_by("id")
        .values_list("subscription_id", "target_repr")
    )
    return existing + [
        (pk, f"{names.get(pk) or 'subscription'} (deleted, id {pk})") for pk in gone
    ]


def audit_person_names() -> list[str]:
    """People who can act, offered as suggestions; the filter itself takes any name."""
    return list(get_user_model().objects.order_by("username").values_list("username", flat=True))


def audit_export_rows(filters: AuditFilters | None = None, *, batch: int = EXPORT_BATCH):
    """Every matching event in id order as tuples, fetched in keyset batches.

    Memory stays at one batch whatever the table size: no .all() into a list, no server-side
    cursor held across the response (which SQLite does not have anyway).
    """
    qs = audit_events(filters).order_by("id")
    columns = (
        "id",
        "created_at",
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
    last_id = 0
    while True:
        rows = list(qs.filter(id__gt=last_id).values_list(*columns)[:batch])
        if not rows:
            return
        yield from rows
        last_id = rows[-1][0]


def subscription_exists(pk: int | None) -> bool:
    return pk is not None and Subscription.objects.filter(pk=pk).exists()


# People ---------------------------------------------------------------------------------


@dataclass
class Person:
    user: object
    role: str  # Role value, or "" when the user holds none
    role_label: str


def people() -> list[Person]:
    """Every user with their role: two queries whatever the number of people."""
    labels = {r.label: r for r in Role}
    result = []
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    for user in users:
        role = next((labels[g.name] for g in user.groups.all() if g.name in labels), None)
        result.append(
            Person(user, role.value if role else "", role.label if role else "(no role)")
        )
    return result
