"""What /metrics reads from the database when scraped (``metrics.StateCollector``): the job
queue, and each subscription's certificate expiry and latest connection test.

Read at scrape time rather than counted by the processes that change them: any process can
answer a scrape, a worker that died leaves no stale number, and each is a single query
whatever the number of jobs or subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from ..models import Job, Subscription
from .health import with_certificate_expiry, with_health_rank

# with_health_rank's numbers: failing 0, interrupted 1, not tested 2, healthy 3.
_PASSING = {0: 0, 1: 0, 3: 1}


@dataclass(frozen=True)
class QueueRow:
    kind: str
    queued: int
    running: int
    oldest_queued_seconds: float


@dataclass(frozen=True)
class SubscriptionState:
    id: int
    certificate_days: float | None  # None without an active certificate
    test_passing: int | None  # None when never tested


def job_queue() -> list[QueueRow]:
    """Every kind of job, with zeros for a kind nobody queued (so a graph reads 0, not
    nothing). A job's wait starts when it was queued or, queued again (resumed, retried),
    when it last ran: the row keeps no other moment."""
    queued = Q(status=Job.Status.QUEUED)
    rows = {
        row["kind"]: row
        for row in Job.objects.filter(status__in=Job.ACTIVE)
        .order_by()
        .values("kind")
        .annotate(
            queued=Count("id", filter=queued),
            running=Count("id", filter=Q(status=Job.Status.RUNNING)),
            since=Min(
                Greatest("created_at", Coalesce("heartbeat_at", "created_at")), filter=queued
            ),
        )
    }
    now = timezone.now()
    found = []
    for kind in Job.Kind.values:
        row = rows.get(kind, {})
        since = row.get("since")
        found.append(
            QueueRow(
                kind=kind,
                queued=row.get("queued", 0),
                running=row.get("running", 0),
                oldest_queued_seconds=max(0.0, (now - since).total_seconds()) if since else 0.0,
            )
        )
    return found


def subscription_states() -> list[SubscriptionState]:
    """Each subscription's certificate expiry in days and whether its latest test passed."""
    rows = (
        with_certificate_expiry(with_health_rank(Subscription.objects.without_secrets()))
        .order_by("pk")
        .values_list("pk", "certificate_expires", "health_rank")
    )
    now = timezone.now()
    return [
        SubscriptionState(
            id=pk,
            certificate_days=(expires - now).total_seconds() / 86400 if expires else None,
            test_passing=_PASSING.get(rank),
        )
        for pk, expires, rank in rows
    ]
