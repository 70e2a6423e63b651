"""A scheduler tick with many polls due costs the same queries as one with a few: the polls
are decided, locked and queued in chunks (one INSERT of the jobs, one of their audit events,
one of their tasks), so a thousand subscriptions do not make a tick a thousand transactions.

Counted with Django's CaptureQueriesContext, never timed (timings: benchmarks/bench_scale.py).
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from subscriptions import audit
from subscriptions.actors import SCHEDULER
from subscriptions.models import AuditEvent, Job, Subscription
from subscriptions.services import polling, scheduler
from tests.factories import unsaved_subscription


def add_polled(start: int, stop: int) -> None:
    Subscription.objects.bulk_create(
        [
            unsaved_subscription(i, inventory_polling_enabled=True, inventory_polling_minutes=5)
            for i in range(start, stop)
        ]
    )


def counted_tick(capture) -> tuple[scheduler.Tick, int]:
    # The tasks are enqueued when the tick's transactions commit: counted with the tick.
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        tick = scheduler.scheduler_tick(now=timezone.now())
        tick.line()  # what the scheduler prints names every job's subscription
    return tick, len(queries.captured_queries)


def test_a_ticks_queries_do_not_grow_with_the_polls_due(db, django_capture_on_commit_callbacks):
    # A first tick: what a process reads once (the audit keying record) is read here.
    add_polled(0, 1)
    counted_tick(django_capture_on_commit_callbacks)

    add_polled(1, 11)
    few, few_queries = counted_tick(django_capture_on_commit_callbacks)
    assert len(few.polls) == 10 and not few.failed

    # Those queued already are not due, so only the next 200 are.
    add_polled(11, 211)
    many, many_queries = counted_tick(django_capture_on_commit_callbacks)
    assert len(many.polls) == 200 and not many.failed
    assert many_queries == few_queries

    polls = Job.objects.filter(kind=Job.Kind.INVENTORY_POLL)
    assert polls.count() == 211
    assert polls.values("subscription_id").distinct().count() == 211
    assert set(polls.values_list("actor_name", flat=True)) == {SCHEDULER.name}
    assert DBTaskResult.objects.count() == 211
    started = AuditEvent.objects.filter(action="job.started")
    assert sorted(int(pk) for pk in started.values_list("target_id", flat=True)) == sorted(
        polls.values_list("pk", flat=True)
    )
    # Stored in one INSERT, chained in order.
    assert audit.verify_chain().intact


def test_each_chunk_is_decided_again_on_its_locked_rows(db, django_capture_on_commit_callbacks):
    """Queued in chunks: more due than a chunk are all queued, each once, and a second
    scheduler at the same moment finds nothing left."""
    add_polled(0, polling.ENQUEUE_CHUNK + 7)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        first = polling.polling_enqueue_due(now=now)
        again = polling.polling_enqueue_due(now=now)
    assert len(first) == polling.ENQUEUE_CHUNK + 7
    assert again == []
    assert len({job.subscription_id for job in first}) == len(first)
    assert DBTaskResult.objects.count() == len(first)
