"""The dashboard scaled out, as deployed: every piece a real process on PostgreSQL and Redis.

A NetSuite simulator (its own process, an account concurrency limit of 3, some latency), two
gunicorn servers, two ``db_worker`` processes and the scheduler share one PostgreSQL database
and keep their NetSuite caps in one Redis. Then, all at once: an administrator and a support
person (sessions over HTTP with CSRF, spread over both servers) and a support person in
Chromium switch webhook flags (different flags of the same deployments at the same moment)
and run connection tests; three subscriptions of the same NetSuite account initialize while the
scheduler queues an inventory poll of one of them (and runs its monitoring); a load generator
posts inbound events with the Webhook API Key, some of them twice.

What must hold: NetSuite never saw more than its limit (the simulator's own counters: no 429,
no RESTlet request-limit error), every flag set is the one NetSuite has, every job succeeded
with every record once, every event answered 202 is stored exactly once, and the audit chain
written by all those processes verifies (``manage.py verify_audit_chain``).

The processes run as two machines would, for Prometheus (README, "17. Metrics"): each
gunicorn with a ``db_worker`` (the first also with the scheduler) shares a fresh
``PROMETHEUS_MULTIPROC_DIR`` of its own, and each machine's ``/metrics`` is scraped as a
target. Without the ``METRICS_TOKEN`` a scrape is refused; with it, each machine's sums are
exactly what its own processes did (requests by view, deliveries, jobs by the worker's pid),
NetSuite was called with no 429, and the two add up to the whole journey.

Runs on PostgreSQL only (CI's second run); elsewhere it skips and says why. Under CI a missing
Redis, gunicorn or Chromium fails it instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import socket
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from netsuite import certificates as nscert
from netsuite.alternate_ids import ALTERNATE_ID_TYPES
from netsuite.bundle import MODULES
from netsuite.simulator.admin import SimulatorAdmin
from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, ConnectionTest, InboundEvent, Job, Record, Role
from subscriptions.services.initialization import DATA_TYPES
from subscriptions.services.polling import polling_settings_set
from tests import factories
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path
from tests.processes import ROOT, ProcessGroup, db_worker, django_env, free_port, in_ci, manage

pytestmark = [pytest.mark.scaled, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ACCOUNT = "1234567"
SIM_LIMIT = 3
LATENCY = 0.05
RECORDS = {
    "customercategory": 2500,
    "location": 1200,
    "paymentmethod": 40,
    "shipitem": 30,
    "inventoryitem": 1200,
}
FIRST_DEPLOYMENT = 245  # the simulator's deployments: one per module, in MODULES order
EVENT_THREADS = 4
EVENTS_PER_THREAD = 60
GUNICORN = Path(sys.executable).with_name("gunicorn")
# Each driver's requests, as the URL's name and method /metrics counts them by.
VIEWS = {
    "initialize": ("subscriptions:initialization_start", "POST"),
    "toggle": ("subscriptions:webhook_toggle", "POST"),
    "browser toggle": ("subscriptions:webhook_toggle", "POST"),
    "connection test": ("subscriptions:connection_test", "POST"),
    "event": ("subscriptions:inbound_webhook", "POST"),
}


def deployment_of(slug: str) -> int:
    return FIRST_DEPLOYMENT + [s for s, _ in MODULES].index(slug)


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def needs():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the scaled-out run needs PostgreSQL (as deployed): run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test, as CI's second run does"
        )
    missing = []
    if not redis_answers():
        missing.append(f"Redis at {REDIS_URL} (TEST_REDIS_URL)")
    if not GUNICORN.exists():
        missing.append(f"gunicorn at {GUNICORN} (make install)")
    if chromium_path() is None:
        missing.append("Debian's Chromium (apt-get install chromium)")
    if missing:
        message = "the scaled-out run needs " + " and ".join(missing)
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Stack:
    group: ProcessGroup
    sim: SimulatorAdmin
    env: dict
    servers: list[str]  # one per machine
    metrics_token: str

    def scrape(self, machine: int) -> dict:
        """The machine's ``/metrics`` as Prometheus reads it: ``(name, labels)`` to value."""
        http = requests.Session()
        http.trust_env = False
        answer = http.get(
            f"{self.servers[machine]}/metrics",
            headers={"Authorization": f"Bearer {self.metrics_token}"},
            timeout=30,
        )
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
        }


def start_simulator(group: ProcessGroup) -> str:
    records = ",".join(f"{name}={count}" for name, count in RECORDS.items())
    process = group.start(
        "simulator",
        [
            sys.executable,
            "-m",
            "netsuite.simulator",
            "--port",
            "0",
            "--latency",
            str(LATENCY),
            "--concurrency-limit",
            str(SIM_LIMIT),
            "--records",
            records,
        ],
        {**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline().decode() if ready else ""
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        raise AssertionError(f"the simulator did not start: {line!r} {group.said('simulator')}")
    return found.group(1)


@pytest.fixture
def stack(needs, transactional_db, tmp_path):
    """Every process of the deployment; all of them stopped (process groups) whatever
    happens, before the test database is flushed."""
    prefix = f"scaled-{os.getpid()}-{secrets.token_hex(4)}"
    group = ProcessGroup(tmp_path / "logs")
    try:
        base_url = start_simulator(group)
        settings = dict(
            NETSUITE_BASE_URL=base_url,
            NETSUITE_SIMULATOR="1",
            CACHE_URL=REDIS_URL,
            CACHE_KEY_PREFIX=prefix,
            NETSUITE_THROTTLE_STORE="redis",
            # Web actions wait for a slot as long as a person would; jobs longer.
            NETSUITE_SLOT_WAIT="30",
            NETSUITE_TIMEOUT_READ="10",
            JOB_HEARTBEAT_SECONDS="0.5",
            JOB_STALE_SECONDS="20",
            METRICS_TOKEN=secrets.token_urlsafe(32),
        )
        # Two machines: each one's processes share a directory, new (as emptied before the
        # start) and its own, so each gunicorn's scrape sums its machine and nothing more.
        envs = []
        for n in range(2):
            directory = tmp_path / f"prometheus-{n}"
            directory.mkdir()
            envs.append(django_env(**settings, PROMETHEUS_MULTIPROC_DIR=str(directory)))
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            group.start(
                f"gunicorn-{n}",
                [
                    str(GUNICORN),
                    "-c",
                    "python:ipaas_admin.gunicorn_conf",
                    "ipaas_admin.wsgi",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    "2",
                    "--threads",
                    "4",
                    "--worker-class",
                    "gthread",
                    "--log-level",
                    "warning",
                    "--graceful-timeout",
                    "5",
                ],
                envs[n],
            )
        for n in range(2):
            group.start(f"worker-{n}", db_worker(f"scaled-worker-{n}"), envs[n])
        # A tick a second: the polls and the monitoring's tests it starts join the load.
        group.start("scheduler", manage("run_scheduler", "--interval", "1"), envs[0])
        stack = Stack(
            group,
            SimulatorAdmin(base_url),
            envs[0],
            [f"http://127.0.0.1:{port}" for port in ports],
            settings["METRICS_TOKEN"],
        )
        yield stack
        stack.sim.close()
    finally:
        group.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


# --- the drivers ---------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What the drivers saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    served: Counter = field(default_factory=Counter)  # (server, what, status)
    toggles: list = field(default_factory=list)  # (subscription pk, deployment, flag, value)
    accepted: set = field(default_factory=set)
    errors: list = field(default_factory=list)

    def note(self, what: str, status: int, url: str) -> None:
        server = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        with self.lock:
            self.statuses[(what, status)] += 1
            self.served[(server, what, status)] += 1


class Session:
    """A person logged in through the real login form, posting forms with the CSRF token
    to both servers in turn, as a load balancer would spread them."""

    def __init__(self, servers: list[str], user) -> None:
        self.servers = servers
        self.turn = 0
        self.http = requests.Session()
        self.http.trust_env = False
        first = servers[0]
        self.http.get(f"{first}/login/", timeout=20).raise_for_status()
        answer = self.http.post(
            f"{first}/login/",
            data={
                "username": user.username,
                "password": factories.PASSWORD,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=20,
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])

    def post(self, path: str, data: dict) -> requests.Response:
        server = self.servers[self.turn % len(self.servers)]
        self.turn += 1
        return self.http.post(
            f"{server}{path}",
            data={**data, "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=60,
        )


def toggle(session: Session, outcomes: Outcomes, subscription, slug: str, flag: str, value: bool):
    sdid = deployment_of(slug)
    data = {"deployment": str(sdid), "flag": flag}
    if value:
        data[flag] = "on"
    answer = session.post(f"/subscriptions/{subscription.pk}/webhooks/toggle/", data)
    outcomes.note("toggle", answer.status_code, answer.url)
    with outcomes.lock:
        outcomes.toggles.append((subscription.pk, sdid, flag, value))


def person_driver(session: Session, outcomes: Outcomes, subscriptions, flag: str):
    """One flag of every module's deployment, then a connection test of each subscription."""
    first = subscriptions[0]
    for slug, _label in MODULES:
        toggle(session, outcomes, first, slug, flag, True)
    for subscription in subscriptions:
        answer = session.post(f"/subscriptions/{subscription.pk}/connection-test/", {})
        outcomes.note("connection test", answer.status_code, answer.url)


def browser_driver(server: str, user, subscription, outcomes: Outcomes):
    """A support person in Chromium switches two flags on the webhook table."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(base_url=server)
            page.set_default_timeout(45_000)
            page.goto("/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(factories.PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/login/" not in url)
            page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
            for slug, label in (("kit_item", "Kit Item"), ("location", "Location")):
                box = page.get_by_label(f"{label} delete")
                with page.expect_response(lambda r: "/webhooks/toggle/" in r.url) as answer:
                    box.click()
                outcomes.note("browser toggle", answer.value.status, answer.value.url)
                expect(page.locator(".htmx-request")).to_have_count(0)
                expect(page.get_by_label(f"{label} delete")).to_be_checked()
                expect(page.locator(f"#webhook-{slug}-{deployment_of(slug)}")).to_contain_text(
                    f"set by {user.username}"
                )
                with outcomes.lock:
                    outcomes.toggles.append((subscription.pk, deployment_of(slug), "delete", True))
        finally:
            browser.close()


def event_driver(servers: list[str], subscription, key: str, thread: int, outcomes: Outcomes):
    """Inbound events with unique ids; every tenth sent again, as a retrying sender would,
    to the other server."""
    http = requests.Session()
    http.trust_env = False
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    path = f"/hooks/netsuite/{subscription.pk}/"
    for n in range(EVENTS_PER_THREAD):
        event_id = f"scaled-{thread}-{n}"
        body = json.dumps(
            {
                "notifications": [
                    {
                        "scope": "customer/updated",
                        "external_id": str(1000 + n),
                        "event_id": event_id,
                    }
                ]
            }
        )
        sends = 2 if n % 10 == 0 else 1
        for attempt in range(sends):
            server = servers[(n + attempt + thread) % len(servers)]
            answer = http.post(f"{server}{path}", data=body, headers=headers, timeout=30)
            outcomes.note("event", answer.status_code, answer.url)
            if answer.status_code == 202:
                with outcomes.lock:
                    outcomes.accepted.add(event_id)


def run(outcomes: Outcomes, target, *args):
    try:
        target(*args)
    except Exception as exc:  # noqa: BLE001 (every driver's failure is reported at the end)
        with outcomes.lock:
            outcomes.errors.append(f"{target.__name__}: {exc!r}")


# --- the run -------------------------------------------------------------------------------


def make_subscriptions(sim: SimulatorAdmin, count: int):
    made = []
    for n in range(count):
        key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
        consumer_id = sim.create_integration(ACCOUNT)["consumer_id"]
        certificate_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
        subscription, webhook_key = factories.make_subscription(
            SYSTEM,
            name=f"Scaled {n + 1}",
            inventory_search_days=0,
            consumer_id=consumer_id,
            account_id=ACCOUNT,
            certificate_id=certificate_id,
            api_url=factories.api_url(ACCOUNT),
            private_key=key_pem,
            # The account's real limit: all three share it, with every process.
            concurrent_connections=SIM_LIMIT,
            api_throttle_limit=100_000,
            api_throttle_seconds=60,
            ipaas_throttle_limit=100_000,
            ipaas_throttle_seconds=60,
        )
        factories.active_certificate(subscription, cert_pem, certificate_id)
        made.append((subscription, webhook_key))
    return made


def wait_until_served(stack: Stack) -> None:
    def answers(server):
        try:
            return requests.get(f"{server}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    stack.group.wait_for(lambda: all(answers(s) for s in stack.servers), 60, "both gunicorns")


def by_labels(samples: dict, name: str, *labels: str) -> Counter:
    """The samples of metric ``name`` summed by the values of ``labels``, zeros left out."""
    sums = Counter()
    for (found, pairs), value in samples.items():
        if found == name and value:
            values = dict(pairs)
            sums[tuple(values[label] for label in labels)] += value
    return sums


def test_the_dashboard_scaled_out_keeps_netsuites_limit_and_loses_nothing(stack):
    admin = factories.make_user("scaled-admin", Role.ADMINISTRATOR)
    support = factories.make_user("scaled-support", Role.SUPPORT)
    made = make_subscriptions(stack.sim, 3)
    subscriptions = [s for s, _ in made]
    first, first_key = made[0]
    polled = subscriptions[-1]
    # The scheduler queues this one's first poll at its next tick, among everything else.
    polling_settings_set(subscription=polled, actor=SYSTEM, enabled=True, minutes=5)
    wait_until_served(stack)
    stack.sim.reset_stats()
    connection.close()  # the drivers' threads open their own

    outcomes = Outcomes()
    admin_session = Session(stack.servers, admin)
    support_session = Session(stack.servers[::-1], support)
    for subscription in subscriptions:
        answer = admin_session.post(f"/subscriptions/{subscription.pk}/initialize/", {})
        outcomes.note("initialize", answer.status_code, answer.url)
    drivers = [
        (person_driver, admin_session, outcomes, subscriptions, "update"),
        (person_driver, support_session, outcomes, subscriptions, "create"),
        (browser_driver, stack.servers[1], support, first, outcomes),
        *[
            (event_driver, stack.servers, first, first_key, t, outcomes)
            for t in range(EVENT_THREADS)
        ],
    ]
    with ThreadPoolExecutor(len(drivers)) as pool:
        for target, *args in drivers:
            pool.submit(run, outcomes, target, *args)
    assert not outcomes.errors, outcomes.errors

    def jobs_ended():
        jobs = list(Job.objects.filter(subscription__in=subscriptions))
        kinds = Counter(job.kind for job in jobs)
        return (
            kinds[Job.Kind.INITIALIZATION] == len(subscriptions)
            and kinds[Job.Kind.INVENTORY_POLL] >= 1
            and not any(job.is_active for job in jobs)
        )

    stack.group.wait_for(jobs_ended, 120, "every initialization and the first poll to end")
    stack.group.check_running()

    # -- what each request was answered ---------------------------------------------------
    toggles = 2 * len(MODULES)
    assert dict(outcomes.statuses) == {
        ("initialize", 302): len(subscriptions),
        ("toggle", 302): toggles,
        ("browser toggle", 200): 2,
        ("connection test", 302): 2 * len(subscriptions),
        ("event", 202): EVENT_THREADS * (EVENTS_PER_THREAD + EVENTS_PER_THREAD // 10),
    }

    # -- NetSuite's limit held across every process (its own counters) -------------------
    stats = stack.sim.stats()
    assert stats["rejected_429"] == 0, stats
    assert stats["restlet_limit_errors"] == 0, stats
    assert stats["accounts"][ACCOUNT]["max_in_flight"] <= SIM_LIMIT, stats
    # The limit was reached: the caps were tested, not merely never approached.
    assert stats["accounts"][ACCOUNT]["max_in_flight"] == SIM_LIMIT, stats
    assert stats["calls"]["suiteql"] >= len(subscriptions) * 7, stats

    # -- every flag set is the one NetSuite has, set once each ---------------------------
    flags = stack.sim.webhook_flags(ACCOUNT)
    wanted = {(sdid, flag): value for _pk, sdid, flag, value in outcomes.toggles}
    got = {(sdid, flag): flags[sdid][flag] for sdid, flag in wanted}
    assert got == wanted
    assert AuditEvent.objects.filter(action="webhook.set").count() == len(outcomes.toggles)
    assert not AuditEvent.objects.filter(action="webhook.set_failed").exists()

    # -- connection tests passed, jobs succeeded with every record once --------------------
    # The people's tests, and any the monitoring ran on its own meanwhile.
    people = [admin.username, support.username]
    assert ConnectionTest.objects.filter(actor_name__in=people).count() == 2 * len(subscriptions)
    outcomes_of_tests = Counter(ConnectionTest.objects.values_list("outcome", flat=True))
    assert set(outcomes_of_tests) == {ConnectionTest.Outcome.PASSED}, outcomes_of_tests
    for job in Job.objects.filter(subscription__in=subscriptions):
        assert job.status == Job.Status.SUCCEEDED, (job.kind, job.error, job.log)
    initialized = {"alternateidtype": len(ALTERNATE_ID_TYPES)}
    initialized.update({key: RECORDS[key] for key in DATA_TYPES if key in RECORDS})
    for subscription in subscriptions:
        stored = Counter(
            Record.objects.filter(subscription=subscription).values_list("record_type", flat=True)
        )
        expected = dict(initialized)
        if subscription == polled:
            expected["inventoryitem"] = RECORDS["inventoryitem"]
        assert stored == expected, subscription.name

    # -- every accepted event stored exactly once ---------------------------------------
    sent = {f"scaled-{t}-{n}" for t in range(EVENT_THREADS) for n in range(EVENTS_PER_THREAD)}
    assert outcomes.accepted == sent
    stored_ids = Counter(
        InboundEvent.objects.filter(subscription=first).values_list("event_id", flat=True)
    )
    assert set(stored_ids) == sent
    assert set(stored_ids.values()) == {1}

    # -- the chain every process wrote verifies -------------------------------------------
    verified = subprocess.run(
        manage("verify_audit_chain"),
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("intact,"), verified.stdout

    # -- each machine's /metrics, scraped as Prometheus would -----------------------------
    http = requests.Session()
    http.trust_env = False
    for server in stack.servers:
        for headers in ({}, {"Authorization": "Bearer " + "x" * 43}):
            refused = http.get(f"{server}/metrics", headers=headers, timeout=30)
            assert refused.status_code == 403, (server, refused.status_code)
    finished = Counter(Job.objects.exclude(status__in=Job.ACTIVE).values_list("kind", "status"))

    def scraped_every_job():
        # A worker counts a job just after its row says it ended.
        machines = [stack.scrape(n) for n in range(len(stack.servers))]
        counted = sum(
            by_labels(m, "ipaas_jobs_finished_total", "kind", "outcome").total() for m in machines
        )
        return machines if counted >= finished.total() else None

    machines = stack.group.wait_for(scraped_every_job, 30, "the workers' job counters")
    host = socket.gethostname()
    # Prometheus's sums over both targets (``sum(...)`` in a query).
    requests_summed, jobs_summed, attempts_summed, minted_summed = (Counter() for _ in range(4))
    for n, (server, samples) in enumerate(zip(stack.servers, machines, strict=True)):
        served_here = Counter()
        for (answered_by, what, status), count in outcomes.served.items():
            if answered_by == server:
                served_here[(*VIEWS[what], str(status))] += count
        requests_here = by_labels(samples, "ipaas_http_requests_total", "view", "method", "status")
        assert {key: requests_here[key] for key in served_here} == served_here, server
        assert requests_here[("metrics", "GET", "403")] == 2, server
        requests_summed.update(requests_here)
        # One notification a body; a retried one is counted again, though stored once.
        accepted_here = served_here[(*VIEWS["event"], "202")]
        deliveries = by_labels(samples, "ipaas_inbound_deliveries_total", "result")
        assert deliveries == {("accepted",): accepted_here}, server
        notifications = by_labels(
            samples, "ipaas_inbound_notifications_accepted_total", "subscription"
        )
        assert notifications == {(str(first.pk),): accepted_here}, server
        # A job is counted by the machine whose worker ran it: the row names the worker's pid.
        worker = f"{host}:{stack.group.started[f'worker-{n}'].pid}"
        ran_here = Job.objects.filter(worker=worker).exclude(status__in=Job.ACTIVE)
        jobs_here = by_labels(samples, "ipaas_jobs_finished_total", "kind", "outcome")
        assert jobs_here == Counter(ran_here.values_list("kind", "status")), server
        jobs_summed.update(jobs_here)
        calls = by_labels(samples, "ipaas_netsuite_calls_total", "kind", "status")
        assert calls.total() > 0, server
        assert not [key for key in calls if key[1] == "429"], calls
        assert not by_labels(samples, "ipaas_netsuite_throttled_total", "subscription")
        assert not by_labels(samples, "ipaas_netsuite_slots_in_flight", "subscription")
        for (kind, _status), count in calls.items():
            attempts_summed[(kind,)] += count
        attempts_summed.update(by_labels(samples, "ipaas_netsuite_retries_total", "kind"))
        minted = by_labels(samples, "ipaas_netsuite_tokens_minted_total", "subscription")
        # A person's connection test mints a token on purpose, in the process that served it.
        assert minted.total() >= served_here[(*VIEWS["connection test"], "302")], minted
        minted_summed.update(minted)
        # What the database knows reads the same from either machine.
        passing = by_labels(samples, "ipaas_connection_test_passing", "subscription")
        assert passing == {(str(s.pk),): 1 for s in subscriptions}, server
        expiry = by_labels(samples, "ipaas_certificate_expiry_days", "subscription")
        assert set(expiry) == {(str(s.pk),) for s in subscriptions}, server
        assert min(expiry.values()) > 0, expiry
        # Summed over processes, a process's own metrics would mean nothing: left out.
        assert not [name for name, _ in samples if name.startswith(("process_", "python_gc_"))]

    journey = Counter()
    for (what, status), count in outcomes.statuses.items():
        journey[(*VIEWS[what], str(status))] += count
    assert {key: requests_summed[key] for key in journey} == journey
    assert requests_summed[("login", "POST", "302")] == 3  # two sessions and Chromium
    assert jobs_summed == finished
    # The simulator counts every attempt since the stack was up; the processes count each
    # call and its retries, since they started.
    for kind, count in stats["calls"].items():
        assert attempts_summed[(kind,)] >= count, (kind, attempts_summed, stats)
    assert set(minted_summed) == {(str(s.pk),) for s in subscriptions}, minted_summed
    assert min(minted_summed.values()) >= 2, minted_summed  # each tested by both people
