"""``python -m netsuite.simulator --port 8765``: run the simulated NetSuite until interrupted.

``--provision ACCOUNT`` creates an integration, a key and a certificate for that account at
start-up and writes the resulting credentials (private key included) as JSON to
``--credentials-out`` (mode 0600), for the demo and for manual tries with the dashboard.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .server import Simulator
from .state import SimulatorError


def _records(text: str) -> dict[str, int]:
    counts = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"{item!r}: use TYPE=COUNT, e.g. customercategory=50,location=20"
            )
        counts[name.strip().lower()] = int(number)
    return counts


def _fault(text: str) -> dict:
    spec: dict = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(
                f"{item!r}: use KEY=VALUE pairs, e.g. kind=record,status=503,count=3"
            )
        key = key.strip().replace("-", "_")
        if key in ("status", "count"):
            spec[key] = int(value)
        elif key == "delay":
            spec[key] = float(value)
        elif key in ("kind", "path_prefix", "method", "action"):
            spec[key] = value.strip()
        else:
            raise argparse.ArgumentTypeError(f"unknown fault field {key!r}")
    return spec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m netsuite.simulator", description="A local NetSuite for tests and demos."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds from a governed call's arrival to its answer, the simulator's work included",
    )
    parser.add_argument(
        "--concurrency-limit", type=int, default=5, help="account concurrency limit (default 5)"
    )
    parser.add_argument(
        "--records", type=_records, default={}, help="record counts, e.g. customercategory=50"
    )
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds")
    parser.add_argument(
        "--expires-in-format", choices=("string", "number"), default="string",
        help="how expires_in is sent (NetSuite sends a string)",
    )
    parser.add_argument(
        "--fault", type=_fault, action="append", default=[],
        help="inject a fault, e.g. kind=record,status=503,count=3 (repeatable)",
    )
    parser.add_argument("--provision", metavar="ACCOUNT", help="create credentials at start")
    parser.add_argument(
        "--key-type", default="ec-p256", help="key type for --provision (default ec-p256)"
    )
    parser.add_argument("--credentials-out", metavar="FILE", help="where --provision writes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    simulator = Simulator(
        args.host,
        args.port,
        latency=args.latency,
        concurrency_limit=args.concurrency_limit,
        record_counts=args.records,
        token_ttl=args.token_ttl,
        expires_in_format=args.expires_in_format,
    )
    try:
        for spec in args.fault:
            simulator.add_fault(**spec)
    except SimulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    simulator.start()
    print(f"NetSuite simulator listening on {simulator.base_url}", flush=True)
    if args.provision:
        try:
            credentials = simulator.provision(args.provision, key_type=args.key_type)
        except (SimulatorError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            simulator.stop()
            return 2
        data = {
            "account_id": credentials.account_id,
            "consumer_id": credentials.consumer_id,
            "certificate_id": credentials.certificate_id,
            "private_key_pem": credentials.private_key_pem,
            "base_url": simulator.base_url,
        }
        if args.credentials_out:
            fd = os.open(args.credentials_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=2)
            print(f"credentials for {credentials.account_id} written to "
                  f"{args.credentials_out}", flush=True)
        else:
            print(f"provisioned {credentials.account_id}: consumer_id={credentials.consumer_id} "
                  f"certificate_id={credentials.certificate_id} (use --credentials-out to save "
                  "the private key)", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
