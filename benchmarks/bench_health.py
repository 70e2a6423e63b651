"""``/readyz`` and ``/healthz``: requests per second through the whole middleware stack, and
the SQL queries one ``/readyz`` costs.

    python benchmarks/bench_health.py [--requests 2000]

A load balancer and an orchestrator each ask every second or so, per process; the answer must
cost a handful of queries at most and no NetSuite call. Measured in one process with Django's
test client (no HTTP server: the figure is the dashboard's own cost), on a throwaway SQLite
file under /tmp (or DATABASE_URL), with a live worker's and scheduler's heartbeat and both
required, the database as the throttle store.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

QUICK_ARGS = ["--requests", "300"]

QUERIES = Goal.at_most(
    3, "<= 3 SQL queries", why_missed="a check reads more than its one query (or the session)"
)
READY_RATE = Goal.at_least(
    100,
    ">= 100 per second in one process",
    why_missed="a probe a second per process would take a noticeable share of a worker",
)


def run(args):
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from subscriptions.models import WorkerHeartbeat
    from subscriptions.services.heartbeats import heartbeat_beat

    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = True
    settings.NETSUITE_THROTTLE_STORE = "database"
    now = timezone.now()
    for name, kind in (("bench-worker", WorkerHeartbeat.Kind.WORKER),
                       ("bench-scheduler", WorkerHeartbeat.Kind.SCHEDULER)):
        heartbeat_beat(name=name, kind=kind, started_at=now)
    client = Client()
    first = client.get("/readyz")
    assert first.status_code == 200, first.content  # the migration check, once
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get("/readyz").status_code == 200
    rates = {}
    for path in ("/readyz", "/healthz"):
        start = time.perf_counter()
        for _ in range(args.requests):
            client.get(path)
        rates[path] = args.requests / (time.perf_counter() - start)
    load = os.getloadavg()[0]
    note = f"load average {load:.1f}"
    report(
        [
            QUERIES.figure("SQL queries per /readyz", len(executed)),
            READY_RATE.figure("/readyz per second", rates["/readyz"], "req/s", note=note),
            info("/healthz per second", rates["/healthz"], "req/s", note=note),
        ],
        context=f"{connection.vendor}, {args.requests} requests each, Django's test client",
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    return run_in_throwaway_database(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
