"""/metrics at scale: what counting costs a request, and what a scrape costs with many
subscriptions and queued jobs, in the multiprocess mode production runs.

    python benchmarks/bench_metrics.py [--subscriptions 1000] [--jobs 1000] [--processes 8]

Sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory before anything imports the client, on
a throwaway SQLite file (or DATABASE_URL). Per request: what ``RequestMetricsMiddleware``
does (a counter and a histogram) plus the inbound delivery counter, timed over many rounds.
Per scrape: ``metrics.exposition()`` (the files of ``--processes`` processes summed, and the
two scrape-time queries over the subscriptions, each with an active certificate and a
connection test, and the queued jobs). Nothing here asserts on time: the figures are for people.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
METRICS_DIR = tempfile.mkdtemp(prefix="ipaas-bench-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR

from bench_pages import run_in_throwaway_database  # noqa: E402
from results import Goal, info, report  # noqa: E402

QUICK_ARGS = ["--subscriptions", "200", "--jobs", "200", "--processes", "4"]

# A scrape every 15-30 s must stay far from Prometheus's default 10 s timeout.
SCRAPE = Goal.at_most(500, "<= 500 ms", why_missed="the scrape-time queries at this size")
# Counting must stay small beside the inbound endpoint's ~1 ms of CPU per delivery.
PER_REQUEST = Goal.at_most(50, "<= 50 µs", why_missed="the multiprocess client's file writes")

# A process that counts what a web worker would, then exits (its files stay to be summed).
CHILD = """
from subscriptions import metrics
for i in range(200):
    metrics.REQUESTS.labels("subscriptions:detail", "GET", "200").inc()
    metrics.REQUEST_SECONDS.labels("subscriptions:detail").observe(0.02)
"""


def populate(subscriptions: int, jobs: int) -> None:
    from django.utils import timezone

    from netsuite import certificates as nscert
    from subscriptions.actors import SYSTEM
    from subscriptions.models import Certificate, ConnectionTest, Job, Subscription
    from tests import factories

    first, _key = factories.make_subscription(SYSTEM, name="Metrics 0")
    rows = []
    for i in range(1, subscriptions):
        row = Subscription.objects.get(pk=first.pk)
        row.pk = None
        row.name = f"Metrics {i}"
        row.consumer_id = f"consumer-{i}"
        rows.append(row)
    Subscription.objects.bulk_create(rows, batch_size=500)
    ids = list(Subscription.objects.values_list("pk", flat=True))
    now = timezone.now()
    _key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256", days=365)
    template = factories.active_certificate(first, cert_pem, "cert-0")
    certificates = []
    for pk in ids:
        if pk == first.pk:
            continue
        cert = Certificate.objects.get(pk=template.pk)
        cert.pk = None
        cert.subscription_id = pk
        certificates.append(cert)
    Certificate.objects.bulk_create(certificates, batch_size=500)
    ConnectionTest.objects.bulk_create(
        [ConnectionTest(subscription_id=pk, outcome=ConnectionTest.Outcome.PASSED,
                        actor_name="bench", finished_at=now) for pk in ids],
        batch_size=500,
    )
    Job.objects.bulk_create(
        [Job(kind=Job.Kind.INVENTORY_POLL, subscription_id=ids[i % len(ids)],
             actor_name="bench") for i in range(jobs)],
        batch_size=500,
    )


def run(args) -> int:
    from subscriptions import metrics

    populate(args.subscriptions, args.jobs)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(args.processes):
        subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + CHILD],
                       cwd=ROOT, env=env, check=True)

    rounds = 20_000
    began = time.perf_counter()
    for _ in range(rounds):
        metrics.REQUESTS.labels("subscriptions:inbound_webhook", "POST", "202").inc()
        metrics.REQUEST_SECONDS.labels("subscriptions:inbound_webhook").observe(0.001)
        metrics.INBOUND_DELIVERIES.labels("accepted").inc()
    per_request = (time.perf_counter() - began) / rounds * 1e6

    scrapes = []
    for _ in range(7):
        began = time.perf_counter()
        body, _type = metrics.exposition()
        scrapes.append((time.perf_counter() - began) * 1000)
    load = os.getloadavg()[0]
    report(
        [
            PER_REQUEST.figure("metrics per request (middleware + inbound counter)",
                               round(per_request, 1), "µs"),
            SCRAPE.figure(
                f"scrape, {args.subscriptions} subscriptions, {args.jobs} queued jobs, "
                f"{args.processes + 1} processes' files",
                round(statistics.median(scrapes), 1), "ms", note=f"max {max(scrapes):.1f} ms",
            ),
            info("exposition size", len(body) // 1024, "KiB"),
            info("load average (1 min) during the run", round(load, 2)),
        ],
        context=f"multiprocess mode, SQLite, load {load:.2f}",
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    try:
        return run_in_throwaway_database(run, args)
    finally:
        for path in Path(METRICS_DIR).glob("*.db"):
            path.unlink()
        os.rmdir(METRICS_DIR)


if __name__ == "__main__":
    sys.exit(main())
