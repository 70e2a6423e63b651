"""Inventory polling of stock levels against the simulator: the second poll reads only the
levels that moved.

    python benchmarks/bench_inventory.py [--items 10000] [--locations 5] [--changed 100]
        [--latency-ms 20]

The simulator holds ``--items`` inventory items at ``--locations`` locations (a level each).
A first poll reads every item and level; then ``--changed`` fulfilments move stock at as
many item-locations (the items themselves untouched), and a second poll, with Inventory
Search Days 0, must find exactly those by their change stamp in ⌈changed/1000⌉ SuiteQL pages
of levels plus one of items (none changed), not by reading the catalogue again. The calls are
counted by the simulator itself (its stats); the polls run in this process (the job runner
a worker would call), on a throwaway SQLite file unless DATABASE_URL names a database.
Nothing asserts on time: the figures are for people.
"""

from __future__ import annotations

import argparse
import math
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

ACCOUNT = "1234567"
PAGE = 1000
QUICK_ARGS = ["--items", "2000", "--locations", "5", "--changed", "100"]
# The item query's one (empty) page, and a page more should the levels' total grow meanwhile.
EXTRA_CALLS = 2


def poll_once(subscription) -> tuple[object, float]:
    from django.db import close_old_connections

    from subscriptions.actors import COMMAND_LINE
    from subscriptions.services.jobs import job_execute
    from subscriptions.services.polling import polling_start
    from subscriptions.tasks import RUNNERS

    job = polling_start(subscription=subscription, actor=COMMAND_LINE)
    started = time.perf_counter()
    job_execute(job_id=job.pk, runners=RUNNERS, worker="bench-inventory")
    seconds = time.perf_counter() - started
    close_old_connections()
    job.refresh_from_db()
    if job.status != "succeeded":
        raise SystemExit(f"poll {job.pk} {job.status}: {job.error}")
    return job, seconds


def run(args) -> int:
    from netsuite.simulator import Simulator
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.models import InventoryLevel
    from tests import factories

    sim = Simulator(
        latency=args.latency_ms / 1000,
        record_counts={"inventoryitem": args.items, "location": args.locations},
    ).start()
    from django.conf import settings

    # The client of a simulator-mode deployment: every call to the simulator, none elsewhere.
    settings.NETSUITE_BASE_URL = sim.base_url
    settings.NETSUITE_SIMULATOR = True
    try:
        credentials = sim.provision(ACCOUNT)
        subscription, _key = factories.make_subscription(
            COMMAND_LINE,
            name=f"Inventory benchmark {secrets.token_hex(3)}",
            consumer_id=credentials.consumer_id,
            account_id=ACCOUNT,
            certificate_id=credentials.certificate_id,
            api_url=factories.api_url(ACCOUNT),
            private_key=credentials.private_key_pem,
            concurrent_connections=5,
            inventory_search_days=0,
            api_throttle_limit=100_000,
            api_throttle_seconds=1,
        )
        sim.reset_stats()
        first, first_seconds = poll_once(subscription)
        first_calls = sim.stats()["calls"].get("suiteql", 0)
        levels = args.items * args.locations
        # Spread the moves over the catalogue: every k-th item, cycling through locations.
        step = max(1, args.items // args.changed)
        moved = set()
        for n in range(args.changed):
            item, location = 1 + (n * step) % args.items, 1 + n % args.locations
            sim.move_stock(
                ACCOUNT, item=str(item), location=str(location), kind="fulfillment", quantity=1
            )
            moved.add((item, location))
        sim.reset_stats()
        second, second_seconds = poll_once(subscription)
        second_calls = sim.stats()["calls"].get("suiteql", 0)
    finally:
        sim.stop()
    changed = InventoryLevel.objects.filter(
        subscription=subscription, changed_in_poll=second.pk
    ).count()
    counts = second.counts["inventorylevel"]
    print(
        f"{args.items:,} items x {args.locations} locations = {levels:,} levels; "
        f"{len(moved)} moved between the polls; simulator latency {args.latency_ms:g} ms\n"
    )
    print("| poll | SuiteQL calls | levels read | changed | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| first (every level) | {first_calls} | {first.counts['inventorylevel']['read']:,} "
        f"| {levels:,} | {first_seconds:.2f} |"
    )
    print(
        f"| second (days 0) | {second_calls} | {counts['read']:,} | {changed} "
        f"| {second_seconds:.2f} |"
    )
    ideal = math.ceil(len(moved) / PAGE)
    figures = [
        Goal.at_most(
            ideal + EXTRA_CALLS,
            f"<= ⌈{len(moved)}/1000⌉ + {EXTRA_CALLS}",
            why_missed="the poll read levels that did not move (the catalogue, not the window)",
        ).figure(
            f"SuiteQL calls of a poll after {len(moved)} moves among {levels:,} levels",
            second_calls,
            note=f"{counts['read']} levels read, {changed} stored as changed",
        ),
        Goal.at_most(
            0, "0", why_missed="a moved level was not found, or an unmoved one counted changed"
        ).figure(
            "moved levels missed or extra",
            abs(changed - len(moved)) + abs(counts["read"] - len(moved)),
        ),
        info(
            f"first poll: SuiteQL calls for {levels:,} levels and {args.items:,} items",
            first_calls,
            note=f"⌈levels/1000⌉ + ⌈items/1000⌉ = "
            f"{math.ceil(levels / PAGE) + math.ceil(args.items / PAGE)}",
        ),
        info("first poll time", round(first_seconds, 2), "s"),
        info("second poll time", round(second_seconds, 2), "s"),
    ]
    report(
        figures, context=f"{args.items:,} items x {args.locations} locations, {len(moved)} moved"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()
    return run_in_throwaway_database(run, args)


if __name__ == "__main__":
    sys.exit(main())
