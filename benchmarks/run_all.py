"""`make bench`: run every benchmarks/bench_*.py in turn and write benchmarks/RESULTS.md.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--output PATH]

Timings live here, never in the test suite: the machines are shared and noisy, so the
figures are for people to compare, not for asserts to trip on.

Each bench reports its figures through benchmarks/results.py (value, unit, goal, met, why
missed); RESULTS.md gathers them in one table, then each bench's own output. A bench that does
not report through results.py yet still runs: its output goes in as it printed it. ``--quick``
gives each bench the arguments in its module-level ``QUICK_ARGS`` list (read from the source,
so a bench is never imported here); a bench without one runs in full.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from results import RESULTS_FILE_VARIABLE, Result, format_value  # noqa: E402

# bench_inbound's default, and the server the others use when DATABASE_URL names PostgreSQL.
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def quick_args(script: Path) -> list[str] | None:
    """The bench's ``QUICK_ARGS = [...]``, or None when it has none."""
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "QUICK_ARGS" for target in node.targets
        ):
            return [str(arg) for arg in ast.literal_eval(node.value)]
    return None


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def own_database(name: str):
    """With DATABASE_URL naming PostgreSQL, a new database for this bench only (as each gets
    its own SQLite file otherwise: several refuse a database that holds another's rows),
    dropped afterwards; yields the environment's DATABASE_URL for it, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    parts = urlsplit(url)
    database = f"{parts.path.lstrip('/') or 'bench'}_{name}"[:63]
    admin = parts._replace(path="/postgres", query="").geturl()

    def drop(conn) -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    with psycopg.connect(admin, autocommit=True) as conn:
        drop(conn)
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield parts._replace(path=f"/{database}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop(conn)


def run_bench(script: Path, args: list[str], timeout: float) -> dict:
    """Run one bench, echoing its output as it comes; its figures, output, time and exit."""
    with (
        tempfile.NamedTemporaryFile("r", suffix=".jsonl", prefix="bench-") as figures,
        own_database(script.stem) as database_url,
    ):
        env = dict(os.environ, **{RESULTS_FILE_VARIABLE: figures.name}, PYTHONUNBUFFERED="1")
        if database_url:
            env["DATABASE_URL"] = database_url
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(script), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group, so that stopping it also stops what it started (gunicorn,
            # load generators).
            start_new_session=True,
        )
        output = []
        # A bench that hangs without printing must be stopped too, hence a timer, not a check
        # between lines.
        stopper = threading.Timer(timeout, _stop, [process])
        stopper.start()
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                output.append(line)
            returncode = process.wait()
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            stopped = not stopper.is_alive()
            stopper.cancel()
        if stopped:
            output.append(f"\n(stopped after {timeout:.0f} s: --timeout)\n")
        rows = [json.loads(line) for line in figures if line.strip()]
    return {
        "name": script.stem,
        "args": args,
        "seconds": time.perf_counter() - started,
        # Shared machines: what else ran says how far to trust the timings.
        "load": (load, os.getloadavg()[0]),
        "returncode": returncode,
        "output": "".join(output),
        "figures": [
            Result(**{key: row[key] for key in Result.__dataclass_fields__}) for row in rows
        ],
        "context": next((row["context"] for row in rows if row.get("context")), ""),
    }


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line.strip()
    except OSError:
        pass
    return ""


def _postgres_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - the machine section says what it could not see
        return f"not reachable ({type(exc).__name__})"


def _server_database(url: str) -> str:
    """The server's own ``postgres`` database: DATABASE_URL's may not exist (each bench gets
    its own)."""
    return urlsplit(url)._replace(path="/postgres", query="").geturl()


def _redis_version() -> str:
    try:
        import redis

        return redis.Redis(socket_connect_timeout=1).info("server")["redis_version"]
    except Exception as exc:  # noqa: BLE001 - as above
        return f"not reachable ({type(exc).__name__})"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> list[tuple[str, str]]:
    cpu = _first_line("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    usable = _usable_cpus()
    memory = _first_line("/proc/meminfo", "MemTotal")
    if memory.endswith("kB"):
        memory = f"{int(memory.split()[0]) / 2**20:.1f} GiB"
    os_name = _first_line("/etc/os-release", "PRETTY_NAME=") or platform.platform()
    if "=" in os_name:
        os_name = os_name.split("=", 1)[1]
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        database = (
            f"PostgreSQL {_postgres_version(_server_database(database_url))} "
            "(DATABASE_URL's server, a new "
            "database per bench)"
        )
    else:
        database = (
            f"SQLite {sqlite3.sqlite_version} (a throwaway file per bench); bench_inbound on "
            f"PostgreSQL {_postgres_version(DEFAULT_POSTGRES)}"
        )
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} logical CPUs ({usable} usable by this run)"),
        ("memory", memory or "unknown"),
        ("OS", f"{os_name.strip(chr(34))}, kernel {platform.release()}"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("database", database),
        ("Redis", _redis_version()),
        ("code", commit),
        ("load average at start (1/5/15 min)", load),
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def results_markdown(
    runs: list[dict],
    about: list[tuple[str, str]],
    quick: bool,
    started: dt.datetime,
    seconds: float,
    load_at_start: float,
) -> str:
    mode = (
        "quick (`make bench QUICK=1`: smaller sizes, see each bench's arguments)"
        if quick
        else "full (`make bench`)"
    )
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (benchmarks/run_all.py); each goal and the reason it is missed",
        "live in the bench module next to the code that measures it. Shared, noisy machines:",
        "compare figures, don't assert on them.",
        "",
        f"- run: {mode}, {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min in all",
    ]
    out += [f"- {label}: {value}" for label, value in about]
    cpus = _usable_cpus()
    # Before the first bench, the load is other work's alone; during the run it also counts
    # the benches' own processes (servers, workers, load generators), and a 1-minute average
    # carries one bench's into the next one's start.
    if load_at_start >= cpus / 2:
        out += [
            "",
            f"**The machine was busy**: a load average of {load_at_start:.1f} on {cpus} CPUs "
            "before the first bench (other work than the benches). Every figure of time is "
            "inflated by it, so a time goal missed here says little; counts (calls, queries, "
            "429s, events lost, memory) do not depend on it.",
        ]
    else:
        out += [
            "",
            f"A quiet machine: a load average of {load_at_start:.1f} on {cpus} CPUs before the "
            "first bench. The loads beside each bench below include the benches' own processes "
            "(servers, workers, load generators), the one before's too for a minute.",
        ]
    out += ["", "## Runs", "", "| bench | result | seconds | load average (1 min) start → end |"]
    out += ["| --- | --- | ---: | --- |"]
    for run in runs:
        status = "ok" if run["returncode"] == 0 else f"**exit {run['returncode']}**"
        start, end = run["load"]
        out.append(f"| {run['name']} | {status} | {run['seconds']:.0f} | {start:.1f} → {end:.1f} |")
    figures = [(run, figure) for run in runs for figure in run["figures"]]
    goals = [figure for _, figure in figures if figure.met is not None]
    met = sum(1 for figure in goals if figure.met)
    out += ["", "## Every figure", "", f"{met} of {len(goals)} goals met.", ""]
    out += [
        "| bench | figure | value | goal | verdict | note |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for run, figure in figures:
        value = f"{format_value(figure.value)} {figure.unit}".strip()
        verdict = {None: "-", True: "met", False: "**missed**"}[figure.met]
        out.append(
            f"| {run['name']} | {_cell(figure.name)} | {value} | "
            f"{_cell(figure.goal) or '-'} | {verdict} | {_cell(figure.note)} |"
        )
    silent = [run["name"] for run in runs if not run["figures"]]
    if silent:
        out += [
            "",
            "Reporting no figures through results.py (their output is below): "
            + ", ".join(silent)
            + ".",
        ]
    for run in runs:
        status = "ok" if run["returncode"] == 0 else f"**exit {run['returncode']}**"
        args = " ".join(run["args"]) or "(defaults)"
        out += [
            "",
            f"## {run['name']}",
            "",
            f"`python benchmarks/{run['name']}.py {args}`: {status}, "
            f"{run['seconds']:.0f} s, load {run['load'][0]:.1f} → {run['load'][1]:.1f}"
            + (f"; {run['context']}" if run["context"] else ""),
            "",
            "<details><summary>its output</summary>",
            "",
            run["output"].rstrip(),
            "",
            "</details>",
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="each bench with its QUICK_ARGS (a few minutes in all)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        default=[],
        help="only these benches (e.g. pages or bench_pages)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--benches", type=Path, default=HERE, help="the folder of bench_*.py (default: this one)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600,
        help="seconds before a bench is stopped (default 3600)",
    )
    args = parser.parse_args(argv)

    wanted = {name if name.startswith("bench_") else f"bench_{name}" for name in args.only}
    scripts = [s for s in sorted(args.benches.glob("bench_*.py")) if not wanted or s.stem in wanted]
    unknown = wanted - {s.stem for s in scripts}
    if unknown:
        print(f"no such bench: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    load_at_start = os.getloadavg()[0]
    about = machine()
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    runs = []
    for script in scripts:
        bench_args = (quick_args(script) or []) if args.quick else []
        print(f"\n## {script.stem} {' '.join(bench_args)}\n", flush=True)
        runs.append(run_bench(script, bench_args, args.timeout))
    seconds = time.perf_counter() - clock
    args.output.write_text(
        results_markdown(runs, about, args.quick, started, seconds, load_at_start),
        encoding="utf-8",
    )
    failed = [run["name"] for run in runs if run["returncode"] != 0]
    missed = [
        f"{run['name']}: {figure.name}"
        for run in runs
        for figure in run["figures"]
        if figure.met is False
    ]
    print(f"\nwrote {args.output} in {seconds / 60:.1f} min; goals missed: {len(missed)}")
    for line in missed:
        print(f"  missed  {line}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
