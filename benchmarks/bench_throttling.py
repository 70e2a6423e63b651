"""What the shared caps cost: take + release per call in each store, and throughput at the cap.

Every NetSuite call takes a concurrency slot and counts against the rate window, so the
store's round trips are added to every call. The stores: the local-memory cache (one
process only, the floor), the database (a throwaway SQLite file, or DATABASE_URL's
PostgreSQL) and Redis (REDIS_URL, default redis://127.0.0.1:6379/15, keys under a prefix
of their own, removed afterwards).

Throughput at the cap: ``--threads`` callers, each on its own database connection, share
``--cap`` slots and hold each for ``--hold-ms`` (a NetSuite call's latency); the ideal is
cap / hold. What the store loses is the time between one caller giving a slot back and a
waiting one noticing (waiters poll, up to 25 ms apart).

    python benchmarks/bench_throttling.py [--calls 2000] [--cap 5] [--hold-ms 50]
        [--threads 10] [--per-thread 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import setup_django, throwaway_database  # noqa: E402
from results import Goal, report  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
QUICK_ARGS = ["--calls", "300", "--per-thread", "10"]
# The issues set no figure for these; the goals below are this bench's own. A throttle that
# costs more than a twentieth of the call it guards is felt on every call.
COST_SHARE = 0.05
WHY = {
    "database": (
        "each take is a read plus one INSERT ... ON CONFLICT, each release a DELETE, each rate "
        "count one upsert, each in autocommit (four round trips); on SQLite every commit also "
        "waits for the disk. Production with more than one process should count in Redis "
        "(CACHE_URL)"
    ),
    "redis": "a Lua script per take, a ZREM per release: one round trip each to Redis",
    "cache": "the local-memory cache's lock",
}


def why(label: str) -> str:
    return next(text for kind, text in WHY.items() if label.startswith(kind))


def cost_goal(hold_ms: float, label: str) -> Goal:
    limit = COST_SHARE * hold_ms * 1000
    return Goal.at_most(
        limit,
        f"<= {COST_SHARE:.0%} of a {hold_ms:g} ms call ({limit:,.0f} µs)",
        why_missed=why(label),
    )


def throughput_goal(hold_ms: float, label: str) -> Goal:
    from subscriptions.throttling import MAX_PAUSE

    # Waiters poll: a freed slot may idle up to MAX_PAUSE before one notices, so the design's
    # own floor is hold / (hold + pause) of the ideal.
    poll_ms = MAX_PAUSE * 1000
    share = 100 * hold_ms / (hold_ms + poll_ms)
    return Goal.at_least(
        share,
        f">= {share:.0f} % of cap/hold (hold / (hold + {poll_ms:g} ms poll))",
        why_missed=f"take and release are slow at this store: {why(label)}",
    )


def peak_goal(cap: int) -> Goal:
    return Goal.at_most(
        cap, f"<= the cap ({cap})", why_missed="the store let more callers in than the cap"
    )


def stores():
    """(label, store) for each store that can run here."""
    import redis
    from django.conf import settings
    from django.db import connection

    from subscriptions.throttling import CacheStore, DatabaseStore, RedisStore

    found = [("cache (local memory)", CacheStore("default"))]
    found.append((f"database ({connection.vendor})", DatabaseStore()))
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        print(f"(Redis not reachable at {REDIS_URL}: skipped)")
    else:
        settings.CACHES["bench"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"bench-{os.getpid()}",
        }
        found.append(("redis", RedisStore("bench")))
    return found


def per_call(store, calls: int) -> tuple[float, float]:
    """Median microseconds of one slot (take + release) and of one rate count."""
    from subscriptions.throttling import ConcurrencyLimiter, RateLimiter

    slots = ConcurrencyLimiter("bench-slot", 5, hold_seconds=60, wait_seconds=5, store=store)
    rate = RateLimiter("bench-rate", 10**9, 86_400, wait_seconds=5, store=store)
    slot_times, rate_times = [], []
    for _ in range(calls):
        started = time.perf_counter()
        with slots.slot():
            pass
        slot_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        rate.wait()
        rate_times.append(time.perf_counter() - started)
    return statistics.median(slot_times) * 1e6, statistics.median(rate_times) * 1e6


def at_the_cap(store, cap: int, hold: float, threads: int, per_thread: int):
    """Calls per second with ``threads`` callers sharing ``cap`` slots, and the peak seen."""
    from django.db import connections

    from subscriptions.throttling import ConcurrencyLimiter

    limiter = ConcurrencyLimiter(
        f"bench-cap-{time.monotonic_ns()}", cap, hold_seconds=60, wait_seconds=60, store=store
    )
    inside, peak, lock = [0], [0], threading.Lock()

    def work():
        try:
            for _ in range(per_thread):
                with limiter.slot():
                    with lock:
                        inside[0] += 1
                        peak[0] = max(peak[0], inside[0])
                    time.sleep(hold)
                    with lock:
                        inside[0] -= 1
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return threads * per_thread / elapsed, peak[0]


def run(args) -> int:
    import redis

    found = stores()
    hold = args.hold_ms / 1000
    ideal = args.cap / hold
    print(
        f"Per call: median of {args.calls} (single caller). At the cap: {args.threads} "
        f"threads x {args.per_thread} calls, {args.cap} slots, each held {args.hold_ms:g} ms "
        f"(ideal {ideal:.0f} calls/s).\n"
    )
    print(
        "| store | slot take+release (µs) | rate count (µs) | calls/s at the cap "
        "| of ideal | peak in flight |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    figures = []
    for label, store in found:
        slot_us, rate_us = per_call(store, args.calls)
        rate, peak = at_the_cap(store, args.cap, hold, args.threads, args.per_thread)
        print(
            f"| {label} | {slot_us:.0f} | {rate_us:.0f} | {rate:.0f} | {rate / ideal:.0%} "
            f"| {peak} |"
        )
        figures += [
            cost_goal(args.hold_ms, label).figure(
                f"{label}: slot take+release + rate count, per call",
                slot_us + rate_us,
                "µs",
                note=f"slot {slot_us:.0f} µs, rate count {rate_us:.0f} µs",
            ),
            throughput_goal(args.hold_ms, label).figure(
                f"{label}: throughput at the cap",
                100 * rate / ideal,
                "% of ideal",
                note=f"{rate:.0f} of {ideal:.0f} calls/s",
            ),
            peak_goal(args.cap).figure(f"{label}: peak in flight", peak),
        ]
    report(
        figures,
        context=f"{args.threads} threads x {args.per_thread} calls, {args.cap} slots held "
        f"{args.hold_ms:g} ms",
    )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(f"bench-{os.getpid()}:*"):
            client.delete(key)
    except redis.RedisError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cap", type=int, default=5)
    parser.add_argument("--hold-ms", type=float, default=50)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--per-thread", type=int, default=20)
    args = parser.parse_args()
    with throwaway_database() as db_file:
        setup_django(db_file)
        if os.environ.get("DATABASE_URL", "").startswith("postgres"):
            from subscriptions.models import ThrottleLease, ThrottleWindow

            ThrottleLease.objects.filter(scope__startswith="bench-").delete()
            ThrottleWindow.objects.filter(scope__startswith="bench-").delete()
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
