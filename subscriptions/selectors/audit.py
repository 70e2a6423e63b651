"""Reads for the audit trail.

The audit table grows without bound, so every read here is shaped for an index: equality
filters on the indexed columns, keyset pages (never OFFSET), no COUNT(*), and the distinct
lists come from skip scans instead of scanning the table. The cost of a page does not depend
on how many events there are or how deep the page is (benchmarks/bench_pages.py).
"""

import datetime as dt
from dataclasses import dataclass, field, replace

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from ..models import AuditEvent, Subscription

PAGE_SIZE = 50
EXPORT_BATCH = 2000

# What each action reads as for people; the stored code stays the filter value and the CSV's
# "action" column. An action missing here reads as its code made readable (action_label).
ACTION_LABELS = {
    "api_token.created": "API token made",
    "api_token.revoked": "API token revoked",
    "audit.exported": "Audit trail exported",
    "auth_details.update_failed": "Auth Details change refused by NetSuite",
    "auth_details.updated": "Auth Details changed",
    "certificate.activated": "Certificate activated",
    "certificate.discarded": "Staged certificate discarded",
    "certificate.id_set": "Certificate ID set",
    "certificate.installed": "Certificate installed",
    "certificate.revoke_failed": "Certificate revocation refused by NetSuite",
    "certificate.revoked_in_netsuite": "Certificate revoked in NetSuite",
    "certificate.staged": "Certificate staged",
    "certificate.upload_to_netsuite_failed": "Certificate upload refused by NetSuite",
    "certificate.uploaded_to_netsuite": "Certificate uploaded to NetSuite",
    "connection_test.failed": "Connection test failed",
    "connection_test.passed": "Connection test passed",
    "encryption.keys_rotated": "Encryption keys rotated",
    "governance.detect_failed": "Governance detection failed",
    "governance.detected": "Governance limits detected",
    "job.cancelled": "Job cancelled",
    "job.failed": "Job failed",
    "job.resumed": "Job resumed",
    "job.retried": "Job retried",
    "job.started": "Job started",
    "lockout.lifted": "Login lockout of an address lifted",
    "login": "Logged in",
    "login_failed": "Login failed",
    "logout": "Logged out",
    "manual_sync.failed": "Manual sync failed",
    "manual_sync.fetched": "Manual sync fetched",
    "polling.settings_changed": "Inventory polling settings changed",
    "retention.pruned": "Old rows pruned (retention)",
    "monitoring.settings_changed": "Scheduled connection tests changed",
    "notice.acknowledged": "Notice acknowledged",
    "notice.certificate_expiry": "Certificate expiry notice",
    "notice.connection_failing": "Connection failing notice",
    "notice.connection_recovered": "Connection recovered notice",
    "notice.emailed": "Notice emailed",
    "setup_check.completed": "Setup check run",
    "subscription.created": "Subscription created",
    "subscription.deleted": "Subscription deleted",
    "subscription.updated": "Subscription changed",
    "subscription.webhook_key_regenerated": "Webhook API Key regenerated",
    "user.activated": "Person activated",
    "user.created": "Person created",
    "user.deactivated": "Person deactivated",
    "user.invited": "Person invited",
    "user.mfa_enrolled": "Second factor set up",
    "user.mfa_failed": "Second factor code refused",
    "user.mfa_recovery_code_used": "Recovery code used",
    "user.mfa_recovery_codes_regenerated": "Recovery codes replaced",
    "user.mfa_reset": "Second factor reset",
    "user.password_link_sent": "Password link sent",
    "user.password_set": "Password set",
    "user.role_changed": "Role changed",
    "user.sso_created": "Person created by single sign-on",
    "user.sso_login": "Signed in with single sign-on",
    "user.sso_refused": "Single sign-on refused",
    "user.unlocked": "Login lockout lifted",
    "webhook.bulk_failed": "Webhook bulk change failed",
    "webhook.set": "Webhook changed",
    "webhook.set_failed": "Webhook change refused by NetSuite",
}

# Names in `changes` that are not Subscription fields (those read as the form's labels).
FIELD_LABELS = {
    "active": "Access",
    "email": "Email address",
    "filters": "Filters",
    "message": "Message",
    "monitoring_minutes": "Scheduled connection test every (minutes)",
    "notice": "Notice",
    "password": "Password",
    "role": "Role",
    "step": "Step",
    "username": "Username",
    "via": "Via",
    "webhook_api_key": "Webhook API Key",
}


def action_label(action: str) -> str:
    """ "subscription.updated" -> "Subscription changed"; an unknown code made readable."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.replace(".", ": ").replace("_", " ").capitalize()


def field_label(name: str) -> str:
    """The label people saw on the form for a name in an event's changes."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        verbose = Subscription._meta.get_field(name).verbose_name
    except FieldDoesNotExist:
        return name[:1].upper() + name[1:].replace("_", " ") if "_" in name else name
    return str(verbose)


def _readable(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value or "(empty)"
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)} {_readable(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_readable(v) for v in value)
    return str(value)


def changes_text(changes) -> str:
    """An event's changes as one line a person reads: "Inventory Search Days: 0 → 7; ..."."""
    if not changes:
        return ""
    if not isinstance(changes, dict):
        return _readable(changes)
    parts = []
    for name, value in changes.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            parts.append(f"{field_label(name)}: {_readable(value[0])} → {_readable(value[1])}")
        else:
            parts.append(f"{field_label(name)}: {_readable(value)}")
    return "; ".join(parts)


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


def _date_bounds(filters: AuditFilters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) instants of the inclusive day range."""
    start = _start_of_day(filters.date_from) if filters.date_from else None
    end = _start_of_day(filters.date_to + dt.timedelta(days=1)) if filters.date_to else None
    return start, end


def audit_events(filters: AuditFilters | None = None):
    """Events matching the filters, unordered (callers choose the order)."""
    qs = AuditEvent.objects.all()
    if filters is None:
        return qs
    if filters.subscription_id is not None:
        qs = qs.filter(subscription_id=filters.subscription_id)
    if filters.actor:
        qs = qs.filter(actor_name__in=audit_actor_names(filters.actor))
    if filters.action:
        qs = qs.filter(action=filters.action)
    start, end = _date_bounds(filters)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs


@dataclass
class AuditPage:
    events: list = field(default_factory=list)
    has_newer: bool = False
    has_older: bool = False
    # The cursor given could not be used (an id that is not in the trail).
    cursor_unknown: bool = False

    @property
    def newer_cursor(self):
        return self.events[0].pk if self.events else None

    @property
    def older_cursor(self):
        return self.events[-1].pk if self.events else None


def _is_dated(filters: AuditFilters | None) -> bool:
    return filters is not None and bool(filters.date_from or filters.date_to)


def _past(filters: AuditFilters | None, pk: int, created_at, *, older: bool, inclusive=False):
    """Matching events past one event in page order (or from it on, when inclusive)."""
    by_id = {
        (True, False): "id__lt",
        (True, True): "id__lte",
        (False, False): "id__gt",
        (False, True): "id__gte",
    }[(older, inclusive)]
    if not _is_dated(filters):
        return audit_events(filters).filter(**{by_id: pk})
    # Exactly one lower and one upper bound on created_at, the tighter of the date filter and
    # the cursor: given both, SQLite seeks with the first pair it sees and filters the rest,
    # reading from the end of the date range instead of from the cursor.
    qs = audit_events(replace(filters, date_from=None, date_to=None))
    start, end = _date_bounds(filters)
    tie = Q(**{by_id: pk})
    if older:
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None and created_at >= end:
            return qs.filter(created_at__lt=end)
        return qs.filter(Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | tie))
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    if start is not None and created_at < start:
        return qs.filter(created_at__gte=start)
    return qs.filter(Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | tie))


def page_order(filters: AuditFilters | None) -> tuple[str, ...]:
    """The columns a page is ordered by (descending for newest first); see audit_page."""
    return ("created_at", "id") if _is_dated(filters) else ("id",)


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

    Newest first means by id, except with a date filter: then by (time, id), which the
    created_at index yields already sorted. In id order the database would have to sort every
    event in the date range for each page (a year of a million events: over a second on
    SQLite). The two orders are the same unless the server's clock stepped back.
    """
    dated = _is_dated(filters)
    keys = page_order(filters)
    cursor = after if after is not None else before
    cursor_at = None
    if cursor is not None and dated:
        cursor_at = (
            AuditEvent.objects.filter(pk=cursor).values_list("created_at", flat=True).first()
        )
        if cursor_at is None:
            page = audit_page(filters, size=size)
            page.cursor_unknown = True
            return page

    if after is not None:
        rows = list(_past(filters, after, cursor_at, older=False).order_by(*keys)[: size + 1])
        if not rows:
            # Nothing newer than the cursor: show the newest page instead of an empty one.
            return audit_page(filters, size=size)
        events = list(reversed(rows[:size]))
        oldest = events[-1]
        return AuditPage(
            events,
            has_newer=len(rows) > size,
            has_older=_past(filters, oldest.pk, oldest.created_at, older=True).exists(),
        )

    if before is not None:
        qs = _past(filters, before, cursor_at, older=True)
    else:
        qs = audit_events(filters)
    rows = list(qs.order_by(*[f"-{k}" for k in keys])[: size + 1])
    events = rows[:size]
    page = AuditPage(events, has_older=len(rows) > size)
    if before is not None and events:
        newest = events[0]
        page.has_newer = _past(filters, newest.pk, newest.created_at, older=False).exists()
    elif before is not None:
        page.has_newer = _past(filters, before, cursor_at, older=False, inclusive=True).exists()
    return page


def audit_event(pk: int) -> AuditEvent:
    return AuditEvent.objects.get(pk=pk)


# Distinct values by a skip scan: each step is one index seek for the next larger value, so
# the cost grows with the number of distinct values, not with the number of events. Both
# SQLite and PostgreSQL run this form unchanged.
_SKIP_SCAN = """
WITH RECURSIVE seen(value) AS (
    SELECT MIN({column}) FROM {table}
    UNION ALL
    SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > seen.value)
    FROM seen WHERE seen.value IS NOT NULL
)
SELECT value FROM seen WHERE value IS NOT NULL
"""


def _distinct(column: str) -> list:
    """The distinct values of an indexed column of the audit table, in order."""
    quote = connection.ops.quote_name
    sql = _SKIP_SCAN.format(
        table=quote(AuditEvent._meta.db_table),
        column=quote(AuditEvent._meta.get_field(column).column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def audit_actions() -> list[str]:
    return _distinct("action")


def audit_actor_names(part: str) -> list[str]:
    """The recorded names containing ``part`` in any case: "ali" finds "Alice-Admin", "system"
    every "system (...)". Matched among the distinct names (a skip scan, as the other lists),
    so the trail itself is still read by an equality seek on the actor index, never by a
    LIKE over every event."""
    wanted = part.strip().casefold()
    return [name for name in _distinct("actor_name") if wanted in name.casefold()]


def audit_subscription_choices() -> list[tuple[int, str]]:
    """Existing subscriptions by name, then ids seen only in events (deleted subscriptions)."""
    existing = list(Subscription.objects.values_list("id", "name"))  # Meta: by lower(name)
    known = {pk for pk, _ in existing}
    gone = [pk for pk in _distinct("subscription_id") if pk not in known]
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


_EXPORT_FIELDS = (
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


def audit_export_rows(filters: AuditFilters | None = None, *, batch: int = EXPORT_BATCH):
    """Every matching event in id order as tuples, fetched in keyset batches by id.

    Memory stays at one batch whatever the table size: no .all() into a list, no server-side
    cursor held across the response (which SQLite does not have anyway).

    A date range is first turned into the span of ids it covers (one pass over the created_at
    index); the batches then walk that id span and the exact time test runs here. Asking the
    database for "in this date range, ordered by id" batch after batch would make it sort the
    whole range again for every batch.
    """
    last_id, high_id, keep = 0, None, None
    if _is_dated(filters):
        in_range = audit_events(AuditFilters(date_from=filters.date_from, date_to=filters.date_to))
        span = in_range.aggregate(low=Min("id"), high=Max("id"))
        if span["low"] is None:
            return
        last_id, high_id = span["low"] - 1, span["high"]
        start, end = _date_bounds(filters)
        filters = replace(filters, date_from=None, date_to=None)

        def keep(row):
            return (start is None or row[1] >= start) and (end is None or row[1] < end)

    qs = audit_events(filters)
    if high_id is not None:
        qs = qs.filter(id__lte=high_id)
    while True:
        rows = list(qs.filter(id__gt=last_id).order_by("id").values_list(*_EXPORT_FIELDS)[:batch])
        if not rows:
            return
        yield from (rows if keep is None else filter(keep, rows))
        last_id = rows[-1][0]


def subscription_exists(pk: int | None) -> bool:
    return pk is not None and Subscription.objects.filter(pk=pk).exists()
