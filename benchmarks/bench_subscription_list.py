"""The subscription list at 100 and at 100,000 subscriptions: SQL queries and page time.

    python benchmarks/bench_subscription_list.py [--rows 100000] [--requests 20]

Uses a throwaway SQLite file under /tmp (or DATABASE_URL, which must hold no subscriptions).
The list must run the same number of queries whatever the row count, and never decrypt. The
rows are the test suite's (tests/factories.py).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

QUICK_ARGS = ["--rows", "10000", "--requests", "5"]


def no_more_queries_than(count: int) -> Goal:
    """Issue 2: the list runs as many queries at 100,000 subscriptions as at 100."""
    return Goal.at_most(
        count,
        f"as at 100 subscriptions ({count})",
        why_missed="a query per row crept in (a related object or a decryption per row)",
    )


def add_subscriptions(start: int, stop: int):
    from django.db import transaction

    from subscriptions.models import Subscription
    from tests.factories import unsaved_subscription

    with transaction.atomic():
        for first in range(start, stop, 5000):
            Subscription.objects.bulk_create(
                [unsaved_subscription(i) for i in range(first, min(first + 5000, stop))]
            )


def measure(client, url, repeat):
    from django.db import connection

    # Counted at the driver: unlike the debug query log, request signals cannot reset it.
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
    return len(executed), statistics.median(samples), max(samples)


def run(args):
    from django.urls import reverse

    from subscriptions.models import Role, Subscription
    from tests.factories import logged_in_client, make_user

    if Subscription.objects.exists():
        print("The database already holds subscriptions; give an empty one.", file=sys.stderr)
        return 2
    client = logged_in_client(make_user("bench-list-admin", Role.ADMINISTRATOR))
    url = reverse("subscriptions:list")
    results = {}
    add_subscriptions(1, 101)
    results[100] = {
        "first page": measure(client, url, args.requests),
        "last page": measure(client, f"{url}?page=2", args.requests),
    }
    add_subscriptions(101, args.rows + 1)
    last = (args.rows + 49) // 50
    results[args.rows] = {
        "first page": measure(client, url, args.requests),
        "last page": measure(client, f"{url}?page={last}", args.requests),
    }
    print(f"Subscription list, 50 per page, median and max of {args.requests} requests\n")
    print("| subscriptions | page | SQL queries | median ms | max ms |")
    print("|---:|---|---:|---:|---:|")
    for rows, pages in results.items():
        for page, (count, median, worst) in pages.items():
            print(f"| {rows:,} | {page} | {count} | {median:.1f} | {worst:.1f} |")
    figures = []
    for page in ("first page", "last page"):
        small, large = results[100][page], results[args.rows][page]
        goal = no_more_queries_than(small[0])
        figures.append(goal.figure(f"SQL queries, {page}, {args.rows:,} subscriptions", large[0]))
        figures.append(
            info(
                f"{page} at {args.rows:,} subscriptions, median",
                large[1],
                "ms",
                note=f"max {large[2]:.1f} ms",
            )
        )
    report(figures, context=f"{args.requests} requests per page")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    return run_in_throwaway_database(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
