"""Retention at 100,000 old inbound events: rows pruned per second and the longest single
delete transaction, while a writer keeps inserting new events.

    python benchmarks/bench_retention.py [--rows 100000] [--batch-size 1000]

Uses a throwaway SQLite file under /tmp (or DATABASE_URL, e.g. a PostgreSQL database of its
own). The old rows are written by one INSERT per 5,000 (bulk_sql), 31 days old against
RETAIN_INBOUND_DAYS=30; then ``retention_prune`` runs as the scheduler calls it (its default
budget per call) until nothing is due, while a thread inserts one new event per transaction,
as the inbound endpoint does, and times each. On SQLite the prune pauses after each batch so
waiting writers get the one write lock (services/retention.py): the rate includes those
pauses. Nothing here asserts on time: the figures are for people.
"""

import argparse
import datetime as dt
import hashlib
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

QUICK_ARGS = ["--rows", "20000"]

NAMES = ("subscription_id", "module", "event", "scope", "external_id", "event_id", "dedup_key",
         "received_at", "source", "remote_addr", "request_id", "user_agent", "payload")

# A delete transaction holds its locks (on SQLite the database's one write lock) this long at
# most, so an inbound delivery waiting behind it still answers well inside a sender's timeout.
LONGEST_DELETE = Goal.at_most(
    250, "<= 250 ms", why_missed="a batch too large for this disk; lower the batch size"
)


def event_row(subscription_id: int, tag: str, received_at):
    return (subscription_id, "customer", "updated", "customer/updated", tag, "",
            hashlib.sha256(tag.encode()).hexdigest(), received_at, "webhook", "", "", "",
            {"scope": "customer/updated", "external_id": tag})


def add_old_events(subscription_id: int, rows: int, received_at) -> None:
    from subscriptions import bulk_sql
    from subscriptions.models import InboundEvent

    for first in range(0, rows, 5000):
        bulk_sql.insert_rows(InboundEvent, NAMES, [
            event_row(subscription_id, f"old-{i}", received_at)
            for i in range(first, min(first + 5000, rows))
        ])


def writer(subscription_id: int, stop: threading.Event, latencies: list[float]) -> None:
    """New events, one per transaction, as the inbound endpoint stores them, each timed."""
    from django.db import connection
    from django.utils import timezone

    from subscriptions import bulk_sql
    from subscriptions.models import InboundEvent

    try:
        i = 0
        while not stop.is_set():
            began = time.perf_counter()
            bulk_sql.insert_rows(
                InboundEvent, NAMES, [event_row(subscription_id, f"new-{i}", timezone.now())]
            )
            latencies.append(time.perf_counter() - began)
            i += 1
            time.sleep(0.005)
    finally:
        connection.close()


def run(args):
    from django.conf import settings
    from django.utils import timezone

    from subscriptions.actors import SYSTEM
    from subscriptions.models import InboundEvent
    from subscriptions.services.retention import retention_prune
    from tests.factories import make_subscription

    settings.RETAIN_INBOUND_DAYS = 30
    subscription, _key = make_subscription(SYSTEM, name=f"Retention bench {os.getpid()}")
    t0 = time.perf_counter()
    add_old_events(subscription.pk, args.rows, timezone.now() - dt.timedelta(days=31))
    loaded = time.perf_counter() - t0
    print(f"{args.rows:,} old events written in {loaded:.1f} s")

    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=writer, args=(subscription.pk, stop, latencies))
    thread.start()
    calls, deleted, longest, batches = 0, 0, 0.0, 0
    began = time.perf_counter()
    try:
        while True:
            pruned = retention_prune(now=timezone.now(), batch_size=args.batch_size)
            calls += 1
            deleted += pruned.counts["inbound_events"]
            batches += pruned.batches
            longest = max(longest, pruned.longest_batch_seconds)
            if pruned.done:
                break
    finally:
        elapsed = time.perf_counter() - began
        stop.set()
        thread.join()
    left = InboundEvent.objects.filter(
        subscription=subscription, external_id__startswith="old-"
    ).count()
    new = InboundEvent.objects.filter(
        subscription=subscription, external_id__startswith="new-"
    ).count()
    assert left == 0 and deleted == args.rows, (left, deleted)
    assert new == len(latencies), (new, len(latencies))
    load = os.getloadavg()[0]
    print(f"{deleted:,} pruned in {elapsed:.1f} s: {calls} calls, {batches} batches of "
          f"{args.batch_size}; longest delete transaction {longest * 1000:.0f} ms; "
          f"{len(latencies)} new events meanwhile, max wait {max(latencies) * 1000:.0f} ms; "
          f"load {load:.1f}")
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    figures = [
        info(f"rows pruned per second ({args.rows:,} old inbound events)",
             deleted / elapsed, "rows/s",
             note=f"{calls} scheduler-sized calls, {batches} batches; load {load:.1f}"),
        LONGEST_DELETE.figure(
            f"longest single delete transaction ({args.batch_size:,} rows)", longest * 1000, "ms",
            note=f"load {load:.1f}"),
        info("a concurrent writer's insert while pruning, median",
             statistics.median(latencies) * 1000, "ms",
             note=f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} inserts"),
    ]
    report(figures, context=f"{vendor}, {args.rows:,} rows, batches of {args.batch_size:,}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    return run_in_throwaway_database(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
