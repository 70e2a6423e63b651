"""Monitoring reads: which subscriptions are due for a scheduled test, the runs of failed
tests, the certificates close to their end, who gets the emails, and the notices shown.

Each is a constant number of queries whatever the number of subscriptions: the scheduler
asks them on every tick, the list page for 50 rows at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import (
    EXPIRY_NOTICE_DAYS,
    SECRET_FIELDS,
    Certificate,
    ConnectionTest,
    MonitoringNotice,
    MonitoringSettings,
    Role,
    Subscription,
)
from ..models.certificates import MAX_VALIDITY_DAYS
from .connection_tests import finished_own_tests
from .health import object_pk

# A tick that comes a little before the interval has fully elapsed still counts, so a test
# every 5 minutes under a scheduler ticking every minute runs every 5 minutes, not every 6.
DUE_GRACE = dt.timedelta(seconds=30)
RECENT_SHOWN = 5


def monitoring_settings(subscription: Subscription) -> MonitoringSettings:
    """The subscription's settings, or unsaved defaults (off) when never set."""
    try:
        return MonitoringSettings.objects.get(subscription_id=subscription.pk)
    except MonitoringSettings.DoesNotExist:
        return MonitoringSettings(subscription_id=subscription.pk)


def monitored_subscription_ids() -> list[int]:
    return list(
        MonitoringSettings.objects.filter(monitoring_minutes__gt=0).values_list(
            "subscription_id", flat=True
        )
    )


def due_for_test(now: dt.datetime) -> list[MonitoringSettings]:
    """Settings rows whose interval has elapsed since the subscription's last own test (by
    anyone, running ones included: a person testing right now is not tested over) and since
    a scheduler last claimed it; one query."""
    last_test = (
        ConnectionTest.objects.filter(
            subscription_id=OuterRef("subscription_id"), staged_certificate__isnull=True
        )
        .order_by("-started_at", "-id")
        .values("started_at")[:1]
    )
    rows = MonitoringSettings.objects.filter(monitoring_minutes__gt=0).annotate(
        last_test_at=Subquery(last_test)
    )
    due = []
    for row in rows:
        seen = [at for at in (row.last_test_at, row.last_scheduled_at) if at is not None]
        elapsed_since = max(seen) if seen else None
        interval = dt.timedelta(minutes=row.monitoring_minutes)
        if elapsed_since is None or elapsed_since <= now - interval + DUE_GRACE:
            due.append(row)
    return due


@dataclass(frozen=True)
class FailureRun:
    """The failed tests since a subscription's last passed one (own tests, finished)."""

    count: int
    first_pk: int
    last_pk: int


def failure_runs(subscription_ids) -> tuple[dict[int, FailureRun], dict[int, int]]:
    """``(runs, last_passes)``: the run of failures after the last passed test of each
    subscription that has one, and the id of each one's last passed test; two queries.

    Tests are ordered by id (the order they started in): interrupted tests count neither
    way, and staged-certificate tests say nothing about the subscription's own connection."""
    ids = list(subscription_ids)
    if not ids:
        return {}, {}
    passed = ConnectionTest.Outcome.PASSED
    last_passes = dict(
        finished_own_tests()
        .filter(subscription_id__in=ids, outcome=passed)
        .values("subscription_id")
        .annotate(last=Max("pk"))
        .values_list("subscription_id", "last")
    )
    last_pass = (
        finished_own_tests()
        .filter(subscription_id=OuterRef("subscription_id"), outcome=passed)
        .order_by("-pk")
        .values("pk")[:1]
    )
    rows = (
        finished_own_tests()
        .filter(subscription_id__in=ids, outcome=ConnectionTest.Outcome.FAILED)
        .annotate(after=Coalesce(Subquery(last_pass), Value(0)))
        .filter(pk__gt=F("after"))
        .values("subscription_id")
        .annotate(n=Count("pk"), first=Min("pk"), last=Max("pk"))
    )
    runs = {row["subscription_id"]: FailureRun(row["n"], row["first"], row["last"]) for row in rows}
    return runs, last_passes


def expiring_certificates(now: dt.datetime) -> list[Certificate]:
    """Active certificates that NetSuite stops accepting within the widest warning period
    (or already has), with their subscription's name; one query."""
    horizon = now + dt.timedelta(days=max(EXPIRY_NOTICE_DAYS))
    cut_horizon = horizon - dt.timedelta(days=MAX_VALIDITY_DAYS)
    return list(
        Certificate.objects.with_subscription()
        .filter(status=Certificate.Status.ACTIVE)
        # effective_not_after = min(not_after, not_before + MAX_VALIDITY_DAYS) < horizon
        .filter(Q(not_after__lt=horizon) | Q(not_before__lt=cut_horizon))
        .defer("private_key", "certificate_pem")
    )


def stored_conditions(pairs) -> set[tuple[int, str]]:
    """Which of these ``(subscription id, condition)`` pairs already have a notice; one
    query."""
    pairs = list(pairs)
    if not pairs:
        return set()
    found = MonitoringNotice.objects.filter(
        subscription_id__in={pk for pk, _ in pairs}, condition__in={c for _, c in pairs}
    ).values_list("subscription_id", "condition")
    return set(found) & set(pairs)


def administrators_to_email():
    """Active people holding the Administrator role who have an email address."""
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.ADMINISTRATOR.label, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("username")
    )


def unresolved_notices(*, kind: str, subscription_ids=None):
    notices = MonitoringNotice.objects.unresolved().filter(kind=kind)
    if subscription_ids is not None:
        notices = notices.filter(subscription_id__in=list(subscription_ids))
    return notices


def notices_to_email(max_attempts: int) -> list[MonitoringNotice]:
    return list(
        MonitoringNotice.objects.filter(emailed_at__isnull=True, email_attempts__lt=max_attempts)
        .select_related("subscription")
        .defer(*(f"subscription__{name}" for name in SECRET_FIELDS))
        .order_by("pk")
    )


def shown_notices_map(subscriptions) -> dict[int, list[MonitoringNotice]]:
    """The notices each subscription (instances or ``values()`` rows) shows, worst first;
    one query."""
    ids = [pk for pk in (object_pk(item) for item in subscriptions) if pk is not None]
    shown: dict[int, list[MonitoringNotice]] = {pk: [] for pk in ids}
    if not ids:
        return shown
    for notice in MonitoringNotice.objects.shown().filter(subscription_id__in=ids):
        shown[notice.subscription_id].append(notice)
    worst = {MonitoringNotice.Level.BAD: 0, MonitoringNotice.Level.WARN: 1}
    for notices in shown.values():
        notices.sort(key=lambda n: worst.get(n.level, 2))
    return shown


@dataclass(frozen=True)
class SubscriptionNotices:
    shown: list[MonitoringNotice]
    recent: list[MonitoringNotice]


def subscription_notices(subscription: Subscription) -> SubscriptionNotices:
    """What the subscription's page shows: the open notices, and the last few others (good
    news, acknowledged or resolved ones); one query."""
    notices = list(
        MonitoringNotice.objects.filter(subscription_id=subscription.pk).order_by(
            "-created_at", "-id"
        )[:50]
    )
    shown = [n for n in notices if n.resolved_at is None and n.acknowledged_at is None]
    recent = [n for n in notices if n not in shown][:RECENT_SHOWN]
    return SubscriptionNotices(shown=shown, recent=recent)
