"""A connection test against its protocol floor, with the simulator's latency at 0 and 100 ms.

The floor is what NetSuite itself makes the test wait for: one fresh token and the three calls
(REST record list, Webhook Manager GET, governanceLimits), made with a client whose key is
already loaded. The connection test adds what the dashboard does around them: loading the
subscription, checking its key and certificate, saving each step and the audit event. The
goal (issue 8) is a test within 1.1x of the floor; before the stored key stopped being
re-validated on every use, loading an RSA 3072 key twice cost about 300 ms of every test.
At 0 ms latency the goal is 1.3x (issue 19): a test run in one go (this bench, the command
line, the scheduler) saved each of its six steps in a transaction of its own, plus a durable
insert of the row first; it now saves them together with the outcome and the audit event
(steps still saved as they go once one has taken a second, and the page's own one-step-per-
request test unchanged), reads its credentials once, and prunes the history in one DELETE.
Then (this stop) the subscription, its encrypted key and its active certificate come in one
query, and that read, the insert of the test, the audit event's insert and chain head, and the
prune are compiled once per process (``subscriptions/compiled.py``, ``bulk_sql.insert_one``):
Django compiled each of them again on every test, which cost more than the database's own
answer (1.3 ms against 0.4 ms for the subscription's read). The floor and the test are now
taken in turns, so a change of load meanwhile weighs on both, and the bench also reports what
the issue asks in its own words: the test's own database statements (its statements' time less
what the floor's calls spent in the throttle store) against a third of the floor.

The figures depend on the throttle store, whose statements the floor's calls make too: with
the database's (this bench's default, as ``make run``) at four statements of a round trip each
(stop 17; before, each its own transaction) the floor is as short as with Redis (CACHE_URL, a
deployment): on PostgreSQL, 2 shared CPUs, 10.0 ms floor and 14.4 ms test with the database's,
10.1 ms and 15.4 ms with Redis, where at stop 16 the database's floor was 23.0 ms. The test's
own work (about 4.4 ms: the subscription's read, the closing transaction with its BEGIN and
durable COMMIT, building the client) did not shrink with it, so the ratio at 0 ms grew.

Stop 18: the closing transaction is pipelined on PostgreSQL (``bulk_sql.pipelined``): the
BEGIN (psycopg waits for it), then the prune, the audit chain's lock and its head in one round
trip, then the test's and the audit event's inserts with the COMMIT in one more; seven round
trips before, three now. The subscription's read makes its instance with converters worked
out once per connection (a raw query set worked them out on every call, 0.47 to 0.28 ms of
CPU), the certificate is parsed and described once per process, and those statements and the
advisory lock are bound on the server (``bulk_sql.bound_cursor``), so psycopg prepares them
and the server plans them once. Measured in turns against the previous code on the same
minutes (2 shared CPUs, a noisy host): 1.29-1.50x before, 1.23-1.33x after; the test's own
statements 2.9-4.5 ms before the pipeline, 1.3-1.6 ms after.

    python benchmarks/bench_connection_test.py [--runs 15] [--latencies 0 0.1]
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, report  # noqa: E402

ACCOUNT = "1234567"
GOAL = 1.1
# At 0 ms NetSuite costs next to nothing, so the dashboard's own work shows: its database
# work is held under a third of the floor (issue 19).
GOAL_AT_ONCE = 1.3
WHY_MISSED = (
    "the dashboard's own work around the calls: one read of the subscription with its key "
    "and certificate, checking them, building the client, and one transaction at the end "
    "with the test, the audit event (its chain lock) and the pruned history (three round "
    "trips to the database on PostgreSQL), each waiting for a CPU under load"
)
WITHIN_FLOOR = Goal.at_most(GOAL, f"<= {GOAL}x the floor", why_missed=WHY_MISSED)
WITHIN_FLOOR_AT_ONCE = Goal.at_most(
    GOAL_AT_ONCE, f"<= {GOAL_AT_ONCE}x the floor at 0 ms", why_missed=WHY_MISSED
)
# The issue's own words for it: the test's database work under a third of the floor.
DATABASE_WITHIN_THIRD = Goal.at_most(
    1 / 3,
    "< 1/3 of the floor",
    why_missed="each statement is a round trip to a database that shares the CPUs",
)
QUICK_ARGS = ["--runs", "5"]


def floor_once(subscription) -> tuple[float, float]:
    """The protocol alone: a fresh token and the test's three calls, key already loaded; its
    time and the part spent in the database's statements (the throttle store's, when it is
    the database)."""
    from subscriptions.integration import client_for

    with client_for(subscription) as client:
        client.build_assertion()  # loads the key: the floor excludes it
        with database_time() as spent:
            started = time.perf_counter()
            client.fetch_token(force=True)
            client.records.list_page("customrecord_otg_ipaas_auth_details", limit=10)
            client.webhooks.list_deployments()
            client.records.governance_limits()
            elapsed = time.perf_counter() - started
        return elapsed, spent[0]


@contextlib.contextmanager
def database_time():
    """Seconds spent in the database's statements meanwhile (Django's ``execute_wrapper``
    around each, from the call to its answer; a COMMIT is not a statement, so it is not in
    it), in the list it yields."""
    from django.db import connection

    spent = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started

    with connection.execute_wrapper(timed):
        yield spent


def test_once(subscription) -> tuple[float, float]:
    """The test's time, and the part of it spent in the database's statements."""
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.services.connection import connection_test_run

    with database_time() as spent:
        started = time.perf_counter()
        test = connection_test_run(subscription=subscription, actor=COMMAND_LINE)
        elapsed = time.perf_counter() - started
    if test.outcome != "passed":
        raise SystemExit(f"the connection test failed: {test.failed_step}")
    return elapsed, spent[0]


def run(args) -> int:
    from django.conf import settings
    from django.core.cache import cache

    from netsuite import certificates as nscert
    from netsuite.simulator import Simulator
    from subscriptions.actors import COMMAND_LINE
    from tests.factories import active_certificate, make_subscription

    rows = []
    # RSA 3072, as `make run` and most customers use: the key type whose loading costs most.
    key_pem, cert_pem = nscert.generate_key_and_certificate("rsa3072", days=365)
    for latency in args.latencies:
        with Simulator(port=0, latency=latency) as sim:
            settings.NETSUITE_BASE_URL = sim.base_url
            settings.NETSUITE_SIMULATOR = True
            cache.clear()
            consumer_id = sim.create_integration(ACCOUNT)
            certificate_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
            subscription, _key = make_subscription(
                COMMAND_LINE,
                # A new name per run: a kept database (DATABASE_URL) holds earlier runs'.
                name=f"Bench {latency} {secrets.token_hex(3)}",
                account_id=ACCOUNT,
                api_url=f"https://{ACCOUNT}.suitetalk.api.netsuite.com/services/rest/record/v1",
                consumer_id=consumer_id,
                certificate_id=certificate_id,
                private_key=key_pem,
                api_throttle_limit=100_000,
            )
            active_certificate(subscription, cert_pem, certificate_id)
            test_once(subscription)  # warm-up: imports, first connections
            floors, tests, database = [], [], []
            # Interleaved, so that a change of the machine's load meanwhile weighs on both.
            for _ in range(args.runs):
                floor, floor_spent = floor_once(subscription)
                full, spent = test_once(subscription)
                floors.append(floor)
                tests.append(full)
                # The test's own: what its calls spent in the throttle store is the floor's.
                database.append(max(0.0, spent - floor_spent))
        floor, full = statistics.median(floors), statistics.median(tests)
        rows.append((latency, floor, full, statistics.median(database)))

    print(
        f"Connection test (6 steps, RSA 3072 key) against the simulator, median of "
        f"{args.runs} runs each. Floor = one fresh token + the three calls, key already "
        f"loaded. Goal: within {GOAL}x of the floor ({GOAL_AT_ONCE}x at 0 ms).\n"
    )
    print(
        "| simulated latency | floor (ms) | connection test (ms) | ratio | goal "
        "| its own database statements (ms) |"
    )
    print("| ---: | ---: | ---: | ---: | --- | ---: |")
    figures = []
    for latency, floor, full, database in rows:
        goal = WITHIN_FLOOR_AT_ONCE if latency == 0 else WITHIN_FLOOR
        figure = goal.figure(
            f"connection test / floor at {latency * 1000:g} ms latency",
            full / floor,
            "x",
            note=f"floor {floor * 1000:.1f} ms, test {full * 1000:.1f} ms",
        )
        figures.append(figure)
        print(
            f"| {latency * 1000:g} ms | {floor * 1000:.1f} | {full * 1000:.1f} "
            f"| {figure.value:.2f}x | {figure.verdict()} | {database * 1000:.1f} |"
        )
        if latency == 0:
            figures.append(
                DATABASE_WITHIN_THIRD.figure(
                    "the test's own database statements / floor at 0 ms latency",
                    database / floor,
                    "x",
                    note=f"{database * 1000:.1f} ms of statements, floor {floor * 1000:.1f} ms",
                )
            )
    report(figures, context=f"RSA 3072 key, median of {args.runs} runs")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.1])
    return run_in_throwaway_database(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
