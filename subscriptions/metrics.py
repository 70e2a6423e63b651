"""What an operator's Prometheus scrapes from ``/metrics``: the metrics, the code that moves
them, and the exposition (docs/metrics.md lists every one with its labels and alert rules).

Counters and histograms are moved where things happen: :class:`RequestMetricsMiddleware`
(every request, by its URL's name), :func:`netsuite_observer` (every NetSuite call, through
the ``observer`` the plain ``netsuite`` client reports to), :func:`counted_slots` (a
subscription's slots held right now), the jobs, inbound and monitoring services. What the
database already knows (the queue, certificate expiry, the latest connection test) is read at
scrape time by :class:`StateCollector`, so it is true whichever process answers the scrape.

Several processes (gunicorn's workers, ``db_worker``, ``run_scheduler``) each count their
own. With ``PROMETHEUS_MULTIPROC_DIR`` set (before Python starts: the client decides at
import) each writes its values to files there and a scrape sums them all
(``MultiProcessCollector``); gunicorn's ``child_exit`` hook (``ipaas_admin/gunicorn_conf.py``)
and this module's exit handler drop a dead process's live gauges. Without it each process
keeps its own registry, which is right only for a single process (``runserver``, tests).

Labels are bounded and never secret: a URL's name, never its path; a subscription's ID (as
many as there are subscriptions), never an account ID or anything a caller typed; an error's
class name, never its message.
"""

from __future__ import annotations

import atexit
import contextlib
import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from netsuite.transport import CallReport

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# --- requests ---------------------------------------------------------------------------------

REQUESTS = Counter(
    "ipaas_http_requests",
    "Requests answered, by the URL's name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "ipaas_http_request_duration_seconds",
    "Time to the answer (a streamed body's rows not included), by the URL's name.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A request no URL matched (a 404), or answered by a middleware before the URL was resolved.
NO_VIEW = "none"


class RequestMetricsMiddleware:
    """Counts and times every answer; first in MIDDLEWARE, so a redirect or refusal by any
    other middleware is counted too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        began = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or NO_VIEW
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - began)
        return response


# --- NetSuite ---------------------------------------------------------------------------------

NETSUITE_CALLS = Counter(
    "ipaas_netsuite_calls",
    "NetSuite calls by kind and outcome: the last HTTP status, or the error's class name "
    "when none came.",
    ["kind", "status"],
)
NETSUITE_SECONDS = Histogram(
    "ipaas_netsuite_call_duration_seconds",
    "A NetSuite call from first attempt to last answer, retries and pauses included.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
NETSUITE_RETRIES = Counter(
    "ipaas_netsuite_retries", "Attempts repeated after a 429, a 5xx or no connection.", ["kind"]
)
NETSUITE_THROTTLED = Counter(
    "ipaas_netsuite_throttled",
    "Answers refusing a call for concurrency (429, SSS_REQUEST_LIMIT_EXCEEDED).",
    ["subscription"],
)
TOKENS_MINTED = Counter(
    "ipaas_netsuite_tokens_minted", "Access tokens NetSuite issued.", ["subscription"]
)
SLOTS_IN_FLIGHT = Gauge(
    "ipaas_netsuite_slots_in_flight",
    "Calls holding one of the account's concurrency slots now, by subscription.",
    ["subscription"],
    multiprocess_mode="livesum",
)


def netsuite_observer(subscription_id: int) -> Callable[[CallReport], None]:
    """The ``observer`` a subscription's client reports each call to."""
    subscription = str(subscription_id)

    def observe(report: CallReport) -> None:
        status = str(report.status) if report.status is not None else report.error or "none"
        NETSUITE_CALLS.labels(report.kind, status).inc()
        NETSUITE_SECONDS.labels(report.kind).observe(report.seconds)
        if report.retries:
            NETSUITE_RETRIES.labels(report.kind).inc(report.retries)
        if report.throttled:
            NETSUITE_THROTTLED.labels(subscription).inc(report.throttled)
        if report.kind == "token" and report.status == 200 and not report.error:
            TOKENS_MINTED.labels(subscription).inc()

    return observe


class counted_slots:  # noqa: N801 (reads as what it wraps: a limiter)
    """A concurrency limiter whose held slots show in :data:`SLOTS_IN_FLIGHT`; everything
    else is the wrapped limiter's."""

    def __init__(self, limiter, subscription_id: int) -> None:
        self._limiter = limiter
        self._gauge = SLOTS_IN_FLIGHT.labels(str(subscription_id))

    def __getattr__(self, name):
        return getattr(self._limiter, name)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._limiter.slot():
            self._gauge.inc()
            try:
                yield
            finally:
                self._gauge.dec()


# --- jobs, inbound events, notices --------------------------------------------------------------

JOBS_FINISHED = Counter(
    "ipaas_jobs_finished",
    "Job attempts ended: succeeded, failed, or stopped (cancelled or taken over).",
    ["kind", "outcome"],
)
JOB_SECONDS = Histogram(
    "ipaas_job_duration_seconds",
    "One attempt of a job, from its claim by a worker to its end.",
    ["kind", "outcome"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600),
)


def job_finished(*, kind: str, outcome: str, seconds: float) -> None:
    JOBS_FINISHED.labels(kind, outcome).inc()
    JOB_SECONDS.labels(kind, outcome).observe(seconds)


INBOUND_DELIVERIES = Counter(
    "ipaas_inbound_deliveries",
    "Bodies posted to /hooks/netsuite/<id>/, by result: accepted, or the refusal's reason.",
    ["result"],
)
INBOUND_NOTIFICATIONS = Counter(
    "ipaas_inbound_notifications_accepted",
    "Distinct notifications accepted from NetSuite, by subscription.",
    ["subscription"],
)
# The endpoint's answers (views/inbound.py's docstring) and what each means.
INBOUND_RESULTS = {
    202: "accepted",
    400: "malformed",
    401: "unauthorized",
    405: "wrong_method",
    413: "too_large",
    429: "throttled",
}


def counted_deliveries(view):
    """Count each answer of the inbound webhook by what it means (outermost, so the key
    check's 401 is counted too)."""

    @wraps(view)  # keeps the marks the decorators below it left (csrf_exempt, login, body)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        INBOUND_DELIVERIES.labels(INBOUND_RESULTS.get(response.status_code, "error")).inc()
        return response

    return wrapper


def inbound_accepted(*, subscription_id: int, notifications: int) -> None:
    INBOUND_NOTIFICATIONS.labels(str(subscription_id)).inc(notifications)


NOTICES_RAISED = Counter(
    "ipaas_monitoring_notices_raised", "Monitoring notices raised.", ["kind"]
)
NOTICES_EMAILED = Counter(
    "ipaas_monitoring_notices_emailed",
    "Monitoring notices emailed to the administrators (one per notice).",
    ["kind"],
)
NOTICE_EMAIL_FAILURES = Counter(
    "ipaas_monitoring_notice_email_failures",
    "Attempts to email a notice that the mail server refused (retried next tick).",
    ["kind"],
)


# --- read at scrape time --------------------------------------------------------------------------


class StateCollector:
    """What the database knows, read when scraped: two queries, whatever the number of
    processes. Imported late: this module is loaded by the settings' middleware list."""

    def collect(self):
        from .selectors.metrics import job_queue, subscription_states

        queued = GaugeMetricFamily(
            "ipaas_jobs_queued", "Jobs waiting for a worker.", labels=["kind"]
        )
        running = GaugeMetricFamily(
            "ipaas_jobs_running", "Jobs a worker is running.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "ipaas_jobs_oldest_queued_age_seconds",
            "How long the longest-waiting queued job has waited (since queued or last run).",
            labels=["kind"],
        )
        for row in job_queue():
            queued.add_metric([row.kind], row.queued)
            running.add_metric([row.kind], row.running)
            oldest.add_metric([row.kind], row.oldest_queued_seconds)
        expiry = GaugeMetricFamily(
            "ipaas_certificate_expiry_days",
            "Days until NetSuite stops accepting the active certificate, by subscription.",
            labels=["subscription"],
        )
        passing = GaugeMetricFamily(
            "ipaas_connection_test_passing",
            "1 when the latest connection test passed, 0 when it failed or was interrupted.",
            labels=["subscription"],
        )
        for row in subscription_states():
            if row.certificate_days is not None:
                expiry.add_metric([str(row.id)], row.certificate_days)
            if row.test_passing is not None:
                passing.add_metric([str(row.id)], row.test_passing)
        yield from (queued, running, oldest, expiry, passing)


class _ProcessRegistry:
    """This process's own metrics, as one collector of the scrape's registry."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS_DIR:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(StateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- who may scrape -----------------------------------------------------------------------------


def scrape_configured() -> bool:
    """Whether /metrics exists here at all: a token or an address list is set."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOWED_ADDRESSES)


def scrape_allowed(*, authorization: str, address: str) -> bool:
    """The request carries ``Bearer <METRICS_TOKEN>`` or comes from an allowed network."""
    token = settings.METRICS_TOKEN
    scheme, _, value = authorization.strip().partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket's IPv4 client
    return any(ip in network for network in settings.METRICS_ALLOWED_ADDRESSES)


def _forget_this_process() -> None:
    # A live gauge (slots in flight) of a process that ended must not count on; gunicorn's
    # workers are ended without running this, hence its child_exit hook.
    multiprocess.mark_process_dead(os.getpid())


if MULTIPROCESS_DIR:
    atexit.register(_forget_this_process)
