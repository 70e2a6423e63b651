"""What retention may delete: each kind's rows older than its cut-off, less the rows a page
still reads whatever their age, as querysets that ``services/retention.py`` deletes from in
small batches (and ``manage.py prune --dry-run`` counts).

Kept whatever their age, so a quiet subscription's pages still show something:

- jobs: the newest job of each subscription and kind (the Jobs section, and the scheduler's
  "last poll queued", which decides when the next poll is due) and the newest that succeeded
  (the polling card's "last successful poll"); queued and running jobs always;
- connection tests: per subscription's own key, and per staged certificate, the newest test,
  the newest finished one (the health badge, the setup checklist, a staged pair's clearance
  for activation) and the newest passed one (monitoring counts a run of failures from it).

Inbound events go by age alone: they are deliveries, not state, and the audit trail keeps
its own frozen copy of anything it mentions. Records are data and keep no old versions
(``models/records.py`` overwrites a record in place), so there is nothing of them to prune.
The audit trail is never pruned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_tasks_db.models import DBTaskResult

from ..models import ConnectionTest, InboundEvent, Job

JOB_FINISHED = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)


@dataclass(frozen=True)
class Kind:
    key: str  # the name in the audit event, the command's output and the benchmark
    label: str
    setting: str  # the days it is kept (settings, from the environment)
    timestamp: str  # the column its age is read from (indexed, migration 0021)


KINDS = (
    Kind("inbound_events", "inbound events", "RETAIN_INBOUND_DAYS", "received_at"),
    Kind("jobs", "finished jobs", "RETAIN_JOBS_DAYS", "finished_at"),
    # django-tasks-db's row of each run of a job: a finished one is of no use once its job
    # has gone, and it goes with the jobs' setting.
    Kind("task_results", "finished task results", "RETAIN_JOBS_DAYS", "finished_at"),
    Kind("connection_tests", "connection tests", "RETAIN_CONNECTION_TESTS_DAYS", "started_at"),
)


def retention_cutoffs(now: dt.datetime) -> dict[str, dt.datetime | None]:
    """Each kind's cut-off: rows older than it may go; ``None`` when kept forever (0 days)."""
    cutoffs = {}
    for kind in KINDS:
        days = getattr(settings, kind.setting)
        cutoffs[kind.key] = now - dt.timedelta(days=days) if days > 0 else None
    return cutoffs


def _newer(queryset: QuerySet, timestamp: str) -> QuerySet:
    """Rows of ``queryset`` newer than the outer row: later, or as late and added after."""
    return queryset.filter(
        Q(**{f"{timestamp}__gt": OuterRef(timestamp)})
        | Q(**{timestamp: OuterRef(timestamp), "pk__gt": OuterRef("pk")})
    )


def _not_the_newest(newer: QuerySet, field: str, value, *, kept_when: Q) -> Q:
    """Not the newest of the group, nor the newest of it whose ``field`` is ``value``."""
    return Q(Exists(newer)) & (~kept_when | Q(Exists(newer.filter(**{field: value}))))


def _jobs(cutoff: dt.datetime) -> QuerySet:
    newer = _newer(
        Job.objects.filter(subscription_id=OuterRef("subscription_id"), kind=OuterRef("kind")),
        "created_at",
    )
    succeeded = Job.Status.SUCCEEDED
    return Job.objects.filter(status__in=JOB_FINISHED, finished_at__lt=cutoff).filter(
        _not_the_newest(newer, "status", succeeded, kept_when=Q(status=succeeded))
    )


def _tests_kept_out(newer: QuerySet) -> Q:
    running, passed = ConnectionTest.Outcome.RUNNING, ConnectionTest.Outcome.PASSED
    finished = newer.exclude(outcome=running)
    return (
        _not_the_newest(newer, "outcome", passed, kept_when=Q(outcome=passed))
        & (Q(outcome=running) | Q(Exists(finished)))
    )


def _connection_tests(cutoff: dt.datetime) -> QuerySet:
    own = _newer(
        ConnectionTest.objects.filter(
            subscription_id=OuterRef("subscription_id"), staged_certificate__isnull=True
        ),
        "started_at",
    )
    staged = _newer(
        ConnectionTest.objects.filter(staged_certificate_id=OuterRef("staged_certificate_id")),
        "started_at",
    )
    return ConnectionTest.objects.filter(started_at__lt=cutoff).filter(
        (Q(staged_certificate__isnull=True) & _tests_kept_out(own))
        | (Q(staged_certificate__isnull=False) & _tests_kept_out(staged))
    )


def prunable(kind: Kind, cutoff: dt.datetime) -> QuerySet:
    """The rows of ``kind`` retention may delete at ``cutoff``, oldest first."""
    if kind.key == "inbound_events":
        rows = InboundEvent.objects.filter(received_at__lt=cutoff)
    elif kind.key == "jobs":
        rows = _jobs(cutoff)
    elif kind.key == "task_results":
        rows = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff)
    elif kind.key == "connection_tests":
        rows = _connection_tests(cutoff)
    else:
        raise ValueError(f"no such kind of row to prune: {kind.key}")
    # Oldest first along the timestamp's index, so a batch's LIMIT stops early.
    return rows.order_by(kind.timestamp, "pk")


def retention_due(now: dt.datetime) -> dict[str, int]:
    """How many rows of each kind retention would delete at ``now`` (kinds kept forever: 0)."""
    cutoffs = retention_cutoffs(now)
    return {
        kind.key: prunable(kind, cutoffs[kind.key]).count() if cutoffs[kind.key] else 0
        for kind in KINDS
    }
