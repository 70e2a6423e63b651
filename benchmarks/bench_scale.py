"""A thousand subscriptions, and ten thousand: the scheduler's tick, the queue's lag with two
workers, scheduled connection tests, and the pages, against the simulator as a process.

    python benchmarks/bench_scale.py [--sizes 1000 10000] [--accounts 50] [--latency-ms 5]

Every subscription polls its inventory every 5 minutes and is connection-tested every hour;
they are spread over ``--accounts`` simulated NetSuite accounts (``python -m
netsuite.simulator``, its concurrency limit per account), so no account's pool is what is
measured. The subscriptions are made with bulk inserts.

1. The tick (``scheduler_tick``) with every poll due, at each size: its time and its SQL
   queries (counted at the driver), which must not grow with the number due (the polls are
   queued in chunks of 500: one INSERT of jobs, audit events and tasks each). Asked again at
   the same moment it queues nothing; asked five minutes later it queues each poll again,
   once. The audit chain the bulk inserts wrote is verified.
2. At the first size, two real ``manage.py db_worker`` processes run the polls that tick
   queued: the queue's lag (started_at - created_at) p50 and p99, every poll run once (one
   attempt, succeeded), and none starved: every poll started within its interval and one
   tick (6 minutes) of being queued, so the next round finds it polled.
3. Scheduled connection tests: hourly tests spread over the hour leave 1/60 of the
   subscriptions due at a tick; that monitoring step must end within the tick's minute.
4. The subscription list, the jobs page and /readyz (when the project has it) at 100
   subscriptions and at the largest size: SQL queries (must not grow) and median time.

A throwaway SQLite file, or DATABASE_URL (an empty database: nothing is cleaned up). The
throttle store is Redis db 14 when it answers, else the database. At the full sizes the run
took 151 s on 2 busy cores (load 5 to 8; well under 10 minutes; most of it the workers' 1,000
polls and the tick at 10,000); ``--quick`` sizes (100 and 1,000) under a minute. Nothing
asserts on time: the figures are for people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_inbound import redis_answers  # noqa: E402
from bench_initialization import stop  # noqa: E402
from bench_pages import setup_django, throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

QUICK_ARGS = ["--sizes", "100", "1000", "--requests", "5"]
REDIS_URL = "redis://127.0.0.1:6379/14"
POLL_MINUTES = 5
TEST_MINUTES = 60
PAGES_SMALL = 100
FIRST_ACCOUNT = 7_100_000


# A chunk of 500 polls is one transaction of fixed statements: lock, decide again, the jobs'
# INSERT, the audit chain's lock and head, the events' INSERT, the tasks' INSERT, and the
# transaction's own; 9 on SQLite, 10 on PostgreSQL (its advisory lock).
CHUNK_QUERIES = 10


def same_queries(count: int, at: str, extra_chunks: int = 0) -> Goal:
    limit = count + extra_chunks * CHUNK_QUERIES
    more = f" + {CHUNK_QUERIES} per further chunk of 500" if extra_chunks else ""
    return Goal.at_most(
        limit,
        f"as at {at} ({count}){more}",
        why_missed="a query per subscription (or per due poll) crept in",
    )


STARVED = Goal.at_most(0, "0", why_missed="two workers cannot run a round within its interval")
RUN_ONCE = Goal.at_most(0, "0", why_missed="a poll was queued twice or run more than once")
WITHIN_TICK = Goal.at_most(
    60,
    "<= 60 s (one tick)",
    why_missed="the scheduled tests run in the tick, MONITORING_TEST_THREADS at a time "
    "(one after another on SQLite)",
)
PAGE_TIME = Goal.at_most(100, "<= 100 ms median", why_missed="see the queries beside it")


# -- processes -------------------------------------------------------------------------------


def start_simulator(args) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "netsuite.simulator", "--port", "0",
            "--latency", str(args.latency_ms / 1000),
            "--concurrency-limit", str(args.account_limit),
            "--records", "inventoryitem=20",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline().decode() if ready else ""
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        stop(process)
        raise SystemExit(f"the simulator did not start: {line!r}")
    return process, found.group(1)


def start_worker(name: str) -> subprocess.Popen:
    from tests.processes import db_worker

    env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        db_worker(name), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )


# -- subscriptions ---------------------------------------------------------------------------


def provision(base_url: str, accounts: int) -> list[dict]:
    """One integration and certificate per simulated account, all with one key."""
    from netsuite.simulator.admin import SimulatorAdmin
    from tests import factories

    key = factories.ec_key()
    pem, certificate = factories.key_pem(key), factories.certificate_pem(key)
    made = []
    with SimulatorAdmin(base_url) as admin:
        for n in range(accounts):
            account = str(FIRST_ACCOUNT + n)
            consumer = admin.create_integration(account, name=f"bench {n}")["consumer_id"]
            made.append(
                {
                    "account_id": account,
                    "consumer_id": consumer,
                    "certificate_id": admin.register_certificate(account, consumer, certificate),
                    "private_key": pem,
                    "private_key_type": "EC P-256",
                    "private_key_fingerprint": factories.fingerprint(key),
                }
            )
    return made


def grow_to(total: int, accounts: list[dict], test_base: dt.datetime) -> None:
    """Subscriptions up to ``total``, polled every 5 minutes and tested every hour; the i-th
    was last claimed for a test ``i % 60`` minutes after ``test_base`` - 1 hour, so 1/60 of
    them is due at any minute of the hour."""
    from django.db import transaction

    from subscriptions.models import MonitoringSettings, Subscription
    from tests import factories

    start = Subscription.objects.count()
    with transaction.atomic():
        for first in range(start, total, 1000):
            rows = range(first, min(first + 1000, total))
            made = Subscription.objects.bulk_create(
                [
                    factories.unsaved_subscription(
                        i,
                        **(account := accounts[i % len(accounts)]),
                        api_url=factories.api_url(account["account_id"]),
                        inventory_polling_enabled=True,
                        inventory_polling_minutes=POLL_MINUTES,
                        concurrent_connections=2,
                        api_throttle_limit=100_000,
                        api_throttle_seconds=1,
                    )
                    for i in rows
                ]
            )
            MonitoringSettings.objects.bulk_create(
                [
                    MonitoringSettings(
                        subscription_id=s.pk,
                        monitoring_minutes=TEST_MINUTES,
                        last_scheduled_at=test_base
                        - dt.timedelta(minutes=TEST_MINUTES - i % TEST_MINUTES),
                    )
                    for i, s in zip(rows, made, strict=True)
                ]
            )


# -- measuring -------------------------------------------------------------------------------


class Counted:
    """The SQL statements run inside the block, counted at the driver."""

    def __enter__(self):
        from django.db import connection

        self.count = 0
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        self.started = time.perf_counter()
        return self

    def _count(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self._wrapper.__exit__(*exc)


def no_tests_due(at: dt.datetime) -> None:
    """Every scheduled test claimed just now: the tick measured is the polls' alone."""
    from subscriptions.models import MonitoringSettings

    MonitoringSettings.objects.update(last_scheduled_at=at)


def measure_tick(now: dt.datetime) -> dict:
    from subscriptions.services.scheduler import scheduler_tick

    with Counted() as counted:
        tick = scheduler_tick(now=now)
        tick.line()
    if tick.failed or not tick.ran:
        raise SystemExit(f"the tick failed: {tick.line()}")
    return {"polls": len(tick.polls), "queries": counted.count, "seconds": counted.seconds}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_workers(args, queued: int, started: float) -> dict:
    """Two workers run the round the tick queued; its lag and its faults."""
    from django.db import close_old_connections

    from subscriptions.models import Job

    workers = [start_worker(f"bench-scale-{n}") for n in range(2)]
    try:
        deadline = time.monotonic() + args.timeout
        polls = Job.objects.filter(kind=Job.Kind.INVENTORY_POLL)
        while True:
            close_old_connections()
            if not polls.filter(status__in=Job.ACTIVE).exists():
                break
            for worker in workers:
                if worker.poll() is not None:
                    raise SystemExit(f"a worker exited with {worker.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the round was not run within {args.timeout:g} s")
            time.sleep(0.5)
        drained = time.perf_counter() - started
    finally:
        for worker in workers:
            stop(worker)
    rows = list(polls.values("subscription_id", "status", "attempts", "created_at", "started_at"))
    lags = [(r["started_at"] - r["created_at"]).total_seconds() for r in rows]
    allowed = (POLL_MINUTES + 1) * 60
    return {
        "jobs": len(rows),
        "subscriptions": len({r["subscription_id"] for r in rows}),
        "not_once": len(rows)
        - queued
        + sum(1 for r in rows if r["status"] != Job.Status.SUCCEEDED or r["attempts"] != 1),
        "p50": percentile(lags, 0.5),
        "p99": percentile(lags, 0.99),
        "max": max(lags),
        "starved": sum(1 for lag in lags if lag > allowed),
        "drained": drained,
    }


def measure_tests(now: dt.datetime) -> dict:
    """The monitoring step of a tick at which 1/60 of the hourly tests are due."""
    from subscriptions.services.monitoring import monitoring_run

    with Counted() as counted:
        counts = monitoring_run(now=now)
    return {"counts": counts, "queries": counted.count, "seconds": counted.seconds}


def measure_pages(client, requests: int) -> dict:
    from django.urls import NoReverseMatch, reverse

    urls = {
        "subscription list": reverse("subscriptions:list"),
        "jobs page": reverse("subscriptions:jobs"),
    }
    try:
        urls["/readyz"] = reverse("readyz")
    except NoReverseMatch:
        pass
    measured = {}
    for name, url in urls.items():
        with Counted() as counted:
            response = client.get(url)
        # /readyz may answer 503 (no worker alive now): still a page to measure.
        if response.status_code not in (200, 503):
            raise SystemExit(f"{url} answered {response.status_code}")
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
        measured[name] = (counted.count, statistics.median(samples), response.status_code)
    return measured


def run(args) -> int:
    from django.utils import timezone

    from subscriptions import audit
    from subscriptions.models import Job, Role, Subscription
    from tests.factories import logged_in_client, make_user

    if Subscription.objects.exists():
        print("The database already holds subscriptions; give an empty one.", file=sys.stderr)
        return 2
    load = os.getloadavg()
    small, large = args.sizes
    accounts = provision(os.environ["NETSUITE_BASE_URL"], args.accounts)
    client = logged_in_client(make_user("bench-scale-admin", Role.ADMINISTRATOR))
    base = timezone.now()

    # The pages at 100 with their polls queued, as the pages at the largest size have theirs.
    grow_to(PAGES_SMALL, accounts, base)
    no_tests_due(base)
    measure_tick(timezone.now())
    pages = {PAGES_SMALL: measure_pages(client, args.requests)}

    # 1 + 2: a round at the first size (the 100 above are still queued, so not due again),
    # run by two workers.
    grow_to(small, accounts, base)
    no_tests_due(base)
    ticks = {small: measure_tick(timezone.now())}
    started = time.perf_counter()
    round_one = run_workers(args, Job.objects.count(), started)

    # 1 again at the largest size, five minutes later: every poll is due again, once.
    grow_to(large, accounts, base)
    no_tests_due(base)
    later = timezone.now() + dt.timedelta(minutes=POLL_MINUTES, seconds=1)
    ticks[large] = measure_tick(later)
    repeated = measure_tick(later)["polls"]
    polls = Job.objects.filter(kind=Job.Kind.INVENTORY_POLL)
    per_subscription = polls.values("subscription_id").distinct().count()
    twice = polls.count() - per_subscription - small  # the first size's are polled twice
    chain = audit.verify_chain()
    pages[large] = measure_pages(client, args.requests)

    # 3: the hourly tests, 1/60 due at this tick.
    from subscriptions.models import MonitoringSettings

    MonitoringSettings.objects.update(last_scheduled_at=base - dt.timedelta(minutes=59))
    for n, pk in enumerate(MonitoringSettings.objects.order_by("pk").values_list("pk", flat=True)):
        if n % TEST_MINUTES == 0:
            MonitoringSettings.objects.filter(pk=pk).update(
                last_scheduled_at=base - dt.timedelta(minutes=TEST_MINUTES)
            )
    tests = measure_tests(base + dt.timedelta(seconds=1))

    print(f"\nSubscriptions over {args.accounts} simulated accounts, polled every {POLL_MINUTES} "
          f"min, tested every {TEST_MINUTES} min; load average at start {load[0]:.2f}\n")
    print("| subscriptions | polls queued by the tick | SQL queries | tick s |")
    print("| ---: | ---: | ---: | ---: |")
    for size, tick in ticks.items():
        print(f"| {size:,} | {tick['polls']:,} | {tick['queries']} | {tick['seconds']:.2f} |")
    print(f"\nTwo workers ran {round_one['jobs']:,} polls in {round_one['drained']:.0f} s: lag p50 "
          f"{round_one['p50']:.1f} s, p99 {round_one['p99']:.1f} s, max {round_one['max']:.1f} s")
    print(f"Monitoring: {tests['counts']} in {tests['seconds']:.1f} s, {tests['queries']} queries")
    print("\n| page | subscriptions | SQL queries | median ms | status |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for size, measured in pages.items():
        for name, (count, median, status) in measured.items():
            print(f"| {name} | {size:,} | {count} | {median:.1f} | {status} |")

    chunks = [-(-ticks[size]["polls"] // 500) for size in (small, large)]
    rate = round_one["jobs"] / round_one["drained"]
    figures = [
        same_queries(
            ticks[small]["queries"], f"{ticks[small]['polls']:,} due", chunks[1] - chunks[0]
        ).figure(f"tick SQL queries, {ticks[large]['polls']:,} polls due", ticks[large]["queries"]),
        info(f"tick time, {ticks[small]['polls']:,} polls due", round(ticks[small]["seconds"], 2),
             "s"),
        info(f"tick time, {ticks[large]['polls']:,} polls due", round(ticks[large]["seconds"], 2),
             "s"),
        RUN_ONCE.figure(
            "polls queued twice at one moment, or not run exactly once",
            repeated + max(twice, 0) + (large - per_subscription) + round_one["not_once"],
            note=f"audit chain {'intact' if chain.intact else 'BROKEN'}",
        ),
        info(f"queue lag p50, {round_one['jobs']:,} polls, 2 workers", round(round_one["p50"], 1),
             "s", note=f"all run in {round_one['drained']:.0f} s"),
        info(f"queue lag p99, {round_one['jobs']:,} polls, 2 workers", round(round_one["p99"], 1),
             "s", note=f"max {round_one['max']:.1f} s"),
        info(
            "polls run per second, 2 workers",
            round(rate, 1),
            note=f"at most ~{rate * POLL_MINUTES * 60:,.0f} subscriptions polled every "
            f"{POLL_MINUTES} min without a backlog; more workers for more",
        ),
        STARVED.figure(
            f"subscriptions starved (not polled within {POLL_MINUTES} min + one tick)",
            round_one["starved"],
        ),
        WITHIN_TICK.figure(
            f"monitoring step with {tests['counts']['tested']} hourly tests due of {large:,}",
            round(tests["seconds"], 1),
            "s",
            note=f"{tests['queries']} queries; {tests['counts']['passed']} passed, "
            f"{tests['counts']['failed']} failed, {tests['counts']['errors']} errors",
        ),
    ]
    for name in pages[large]:
        count_small, _ms, _status = pages[PAGES_SMALL][name]
        count, median, _status = pages[large][name]
        figures.append(
            same_queries(count_small, f"{PAGES_SMALL} subscriptions").figure(
                f"{name} SQL queries, {large:,} subscriptions", count
            )
        )
        figures.append(
            PAGE_TIME.figure(
                f"{name} at {large:,} subscriptions, median", round(median, 1), "ms",
                note=f"{pages[PAGES_SMALL][name][1]:.1f} ms at {PAGES_SMALL}",
            )
        )
    report(
        figures,
        context=f"{args.accounts} simulated accounts, latency {args.latency_ms:g} ms, "
        f"{'PostgreSQL' if 'postgres' in os.environ.get('DATABASE_URL', '') else 'SQLite'}, "
        f"throttle store {os.environ.get('NETSUITE_THROTTLE_STORE', 'auto')}, load "
        f"{load[0]:.2f} at start",
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 10_000])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--account-limit", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=5)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=480, help="seconds for the round")
    args = parser.parse_args()
    if redis_answers():
        os.environ["CACHE_URL"] = REDIS_URL
        os.environ["CACHE_KEY_PREFIX"] = f"bench-scale-{os.getpid()}"
    simulator, base_url = start_simulator(args)
    os.environ.update(NETSUITE_BASE_URL=base_url, NETSUITE_SIMULATOR="1")
    try:
        with throwaway_database() as db_file:
            setup_django(db_file)
            return run(args)
    finally:
        stop(simulator)


if __name__ == "__main__":
    sys.exit(main())
