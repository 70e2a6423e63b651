"""The caps hold across real OS processes, as between a web process and its workers.

Each test starts several ``python -c`` processes with Django set up against this test run's
database (a file on SQLite, the test database on PostgreSQL) and, for the Redis store, this
run's Redis key prefix. They call the simulator over HTTP at once; the simulator counts what
reached it. The local-memory cache store is the control: shared by nobody, it lets the
processes past the account's limit, which is what the shared stores must prevent.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from netsuite.simulator import Simulator
from subscriptions.integration import account_scope
from subscriptions.models import ThrottleLease
from subscriptions.throttling import (
    ConcurrencyLimiter,
    DatabaseStore,
    LocalWaitError,
    RedisStore,
)
from tests import factories
from tests.subscriptions.conftest import SimHelper

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PROCESSES = 4
# Each process's own wait: long enough for every call of every process to get its turn.
SLOT_WAIT = 20

CALLER = """
import sys, threading
import os
import django
from django.conf import settings
# CACHE_URL cannot carry a key prefix; this run's keys must not meet another run's.
settings.CACHES["default"]["KEY_PREFIX"] = os.environ.get("TEST_CACHE_KEY_PREFIX", "")
django.setup()
from django.db import connections
from netsuite.errors import NetSuiteError
from subscriptions.integration import client_for
from subscriptions.models import Subscription

subscription = Subscription.objects.get(pk=int(sys.argv[1]))
threads, calls = int(sys.argv[2]), int(sys.argv[3])
connections.close_all()
print("ready", flush=True)
sys.stdin.readline()
done, refused = [], []

def work():
    try:
        with client_for(subscription) as client:
            for _ in range(calls):
                try:
                    client.records.list_page("customrecord_otg_ipaas_auth_details", limit=5)
                    done.append(1)
                except NetSuiteError as exc:
                    refused.append(exc.code)
    finally:
        connections.close_all()

workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print("done", len(done), ",".join(refused), flush=True)
"""

HOLDER = """
import sys
import os
import django
from django.conf import settings
# CACHE_URL cannot carry a key prefix; this run's keys must not meet another run's.
settings.CACHES["default"]["KEY_PREFIX"] = os.environ.get("TEST_CACHE_KEY_PREFIX", "")
django.setup()
from subscriptions.throttling import ConcurrencyLimiter, new_owner
limiter = ConcurrencyLimiter(sys.argv[1], 1, hold_seconds=1, wait_seconds=5)
limiter.take(new_owner())
print("held", flush=True)
sys.stdin.readline()  # never comes: this process is killed holding its slot
"""


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database_url() -> str:
    """This run's test database, for the processes to open themselves."""
    info = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{info['NAME']}"
    user = info.get("USER") or "postgres"
    password = f":{info['PASSWORD']}" if info.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{info['HOST']}:{info['PORT'] or 5432}/{info['NAME']}"


@pytest.fixture(params=["database", "redis", "cache"])
def store_env(request, settings, transactional_db):
    """The environment the processes run with, and the store that reads their leases here."""
    # Per test: the rate window of subscription 1 must not be the previous test's.
    prefix = f"test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipaas_admin.settings",
        "DJANGO_TESTING": "true",
        "DATABASE_URL": _database_url(),
        "NETSUITE_THROTTLE_STORE": request.param,
        "NETSUITE_SLOT_WAIT": str(SLOT_WAIT),
        "NETSUITE_THROTTLE_WAIT": "0",
        "NETSUITE_RETRY_MAX_ATTEMPTS": "2",
        "NETSUITE_RETRY_BASE_DELAY": "0.01",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CACHE_URL", None)
    here = None
    if request.param == "database":
        here = DatabaseStore()
    elif request.param == "redis":
        if not _redis_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI needs it for this test.")
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        env["CACHE_URL"] = REDIS_URL
        env["TEST_CACHE_KEY_PREFIX"] = prefix
        settings.CACHES = {
            **settings.CACHES,
            "procs": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
            },
        }
        here = RedisStore("procs")
    yield request.param, env, here
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.fixture
def limited_sim(settings):
    """A simulator that allows two calls in flight per account, each taking 50 ms."""
    simulator = Simulator(port=0, concurrency_limit=2, latency=0.05).start()
    factories.point_at_simulator(settings, simulator)
    try:
        yield SimHelper(simulator)
    finally:
        simulator.stop()


def _start(script: str, env: dict, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expect(process: subprocess.Popen, word: str, timeout: float = 30) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line.startswith(word):
        process.kill()
        raise AssertionError(f"expected {word!r} from the process, got {line!r}: "
                             f"{process.stderr.read()[-3000:]}")
    return line


def _run_callers(env, subscription, threads: int, calls: int) -> list[str]:
    """Start the processes, let them all go at once, and return their last lines."""
    processes = [
        _start(CALLER, env, subscription.pk, threads, calls) for _ in range(PROCESSES)
    ]
    try:
        for process in processes:
            _expect(process, "ready")
        for process in processes:  # all set up: now they call together
            process.stdin.write("go\n")
            process.stdin.flush()
        return [_expect(process, "done", timeout=60).split() for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_processes_together_never_pass_the_accounts_concurrency_limit(
    store_env, limited_sim, ec_pair
):
    name, env, here = store_env
    env["NETSUITE_BASE_URL"] = limited_sim.base_url
    env["NETSUITE_SIMULATOR"] = "true"
    subscription = limited_sim.subscription(
        pair=ec_pair, concurrent_connections=2, api_throttle_limit=100_000
    )
    limited_sim.sim.reset_stats()
    results = _run_callers(env, subscription, threads=2, calls=3)
    stats = limited_sim.stats()
    calls = PROCESSES * 2 * 3
    if name == "cache":
        # The control: each process keeps its own two slots, so together they pass the
        # account's limit, and NetSuite refuses what is over.
        assert stats["rejected_429"] > 0
        return
    assert [int(line[1]) for line in results] == [6] * PROCESSES  # every call went through
    assert stats["rejected_429"] == 0
    assert stats["max_in_flight"] == 2  # the processes did overlap, up to the cap
    assert stats["calls"]["record"] == calls
    # Every process gave its slots back.
    assert here.held(account_scope("1234567", limited_sim.base_url), 2) == 0


def test_the_rate_cap_is_counted_once_for_every_process(store_env, limited_sim, ec_pair):
    name, env, _here = store_env
    if name == "cache":
        pytest.skip("the local-memory cache counts each process's own window")
    env["NETSUITE_BASE_URL"] = limited_sim.base_url
    env["NETSUITE_SIMULATOR"] = "true"
    # Seven calls a day for the subscription, whatever process makes them.
    subscription = limited_sim.subscription(
        pair=ec_pair, concurrent_connections=2, api_throttle_limit=7, api_throttle_seconds=86_400
    )
    limited_sim.sim.reset_stats()
    results = _run_callers(env, subscription, threads=1, calls=4)
    passed = sum(int(line[1]) for line in results)
    refused = [code for line in results if len(line) > 2 for code in line[2].split(",")]
    assert passed == 7
    assert len(refused) == PROCESSES * 4 - 7
    assert set(refused) == {"LOCAL_API_THROTTLE"}
    # NetSuite saw only what the cap let through.
    assert limited_sim.stats()["calls"]["record"] == 7


def test_a_process_killed_holding_a_slot_keeps_it_only_until_its_lease_ends(store_env):
    name, env, here = store_env
    if name == "cache":
        pytest.skip("the local-memory cache dies with its process")
    scope = f"t-killed-{os.getpid()}-{time.monotonic_ns()}"
    holder = _start(HOLDER, env, scope)
    try:
        _expect(holder, "held")
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    finally:
        holder.kill()
    assert holder.returncode == -signal.SIGKILL
    limiter = ConcurrencyLimiter(scope, 1, hold_seconds=10, wait_seconds=0, store=here)
    # The dead process's lease is still there: nobody else gets in at once...
    assert limiter.in_flight() == 1
    with pytest.raises(LocalWaitError):
        limiter.take("impatient")
    # ...but its lease (one second) runs out, and a patient caller takes the slot.
    limiter.wait_seconds = 5
    with limiter.slot():
        assert limiter.in_flight() == 1
        if name == "database":
            lease = ThrottleLease.objects.get(scope=scope)
            assert lease.owner.split(":")[1] == str(os.getpid())  # ours now, not the dead one's
    assert limiter.in_flight() == 0
