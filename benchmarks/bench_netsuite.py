"""Reading N records of one type: SuiteQL against list-then-get, through the simulator.

The REST record API lists only IDs, so reading N full records costs ceil(N/1000) list calls
plus N gets; SuiteQL returns up to 1000 full rows per call, ceil(N/1000) calls in all, which
is the ideal. Every call pays the simulated latency, as every call to NetSuite pays a round
trip and a slot of the account's concurrency pool.

    python benchmarks/bench_netsuite.py [--records 10000] [--latency 0.002] [--workers 5]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Goal, info, report  # noqa: E402

from netsuite.client import NetSuiteClient  # noqa: E402
from netsuite.simulator import Simulator  # noqa: E402
from netsuite.transport import LocalConcurrencyLimiter  # noqa: E402

RECORD_TYPE = "customercategory"
ACCOUNT = "1234567_SB1"
QUICK_ARGS = ["--records", "2000"]
NO_429 = Goal.at_most(
    0, "0", why_missed="more callers than the account's concurrency limit reached NetSuite"
)


def ideal_calls(ideal: int) -> Goal:
    return Goal.at_most(
        ideal,
        f"ideal ⌈N/1000⌉ = {ideal}",
        why_missed="SuiteQL paged in fewer than 1000 rows per call",
    )


def suiteql(client: NetSuiteClient) -> int:
    rows = client.records.suiteql(f"SELECT * FROM {RECORD_TYPE} ORDER BY id")
    return len({row["id"] for row in rows})


def list_then_get(client: NetSuiteClient) -> int:
    ids = list(client.records.list_ids(RECORD_TYPE))
    return len({client.records.get(RECORD_TYPE, i)["id"] for i in ids})


def list_then_get_parallel(client: NetSuiteClient, workers: int) -> int:
    ids = list(client.records.list_ids(RECORD_TYPE))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = pool.map(lambda i: client.records.get(RECORD_TYPE, i)["id"], ids)
        return len(set(rows))


def measure(sim: Simulator, client: NetSuiteClient, name: str, run, records: int) -> dict:
    sim.reset_stats()
    started = time.perf_counter()
    read = run(client)
    elapsed = time.perf_counter() - started
    stats = sim.stats()
    if read != records:
        raise SystemExit(f"{name} read {read} distinct records, expected {records}")
    calls = stats["requests"] - stats["calls"].get("token", 0)
    return {
        "name": name,
        "calls": calls,
        "seconds": elapsed,
        "rejected": stats["rejected_429"],
        "max_in_flight": stats["max_in_flight"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.002, help="seconds per call")
    parser.add_argument(
        "--workers",
        type=int,
        default=5,
        help="parallel callers for list-then-get (the account limit)",
    )
    parser.add_argument(
        "--skip-sequential",
        action="store_true",
        help="leave out the slowest row (sequential list-then-get)",
    )
    args = parser.parse_args(argv)

    ideal = math.ceil(args.records / 1000)
    with Simulator(
        latency=args.latency,
        concurrency_limit=args.workers,
        record_counts={RECORD_TYPE: args.records},
    ) as sim:
        credentials = sim.provision(ACCOUNT)
        limiter = LocalConcurrencyLimiter(args.workers)
        with NetSuiteClient(credentials, base_url=sim.base_url, limiter=limiter) as client:
            client.fetch_token()
            rows = [measure(sim, client, "SuiteQL, 1000 rows per call", suiteql, args.records)]
            rows.append(
                measure(
                    sim,
                    client,
                    f"list then get, {args.workers} in parallel",
                    lambda c: list_then_get_parallel(c, args.workers),
                    args.records,
                )
            )
            if not args.skip_sequential:
                rows.append(
                    measure(
                        sim, client, "list then get, one at a time", list_then_get, args.records
                    )
                )

    print(
        f"Reading {args.records:,} `{RECORD_TYPE}` records from the NetSuite simulator, "
        f"{args.latency * 1000:g} ms simulated latency per call, account concurrency limit "
        f"{args.workers}; ideal = ⌈N/1000⌉ = {ideal} calls.\n"
    )
    print("| strategy | calls | calls / ideal | wall time (s) | records/s | max in flight | 429s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['name']} | {row['calls']:,} | {row['calls'] / ideal:,.1f}× "
            f"| {row['seconds']:.2f} | {args.records / row['seconds']:,.0f} "
            f"| {row['max_in_flight']} | {row['rejected']} |"
        )
    suiteql_row, *others = rows
    figures = [
        ideal_calls(ideal).figure("SuiteQL: NetSuite calls", suiteql_row["calls"]),
        info("SuiteQL: wall time", suiteql_row["seconds"], "s"),
    ]
    for row in others:
        figures.append(
            info(
                f"{row['name']}: NetSuite calls",
                row["calls"],
                note="the REST record API lists IDs only: one get per record",
            )
        )
        figures.append(info(f"{row['name']}: wall time", row["seconds"], "s"))
    figures.append(NO_429.figure("429s, all strategies", sum(row["rejected"] for row in rows)))
    report(
        figures,
        context=f"{args.records:,} records, {args.latency * 1000:g} ms latency, "
        f"account limit {args.workers}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
