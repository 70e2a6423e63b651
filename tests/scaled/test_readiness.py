"""``/readyz`` of a real gunicorn, as each piece it depends on goes away and comes back.

Stopping PostgreSQL or Redis for real would stop every other test run on the machine, so the
gunicorn reaches both through TCP forwarders this test starts (``Proxy``) and stops: to the
server it is the same as the database or Redis going away (refused connections, and the open
ones cut). The job worker and the scheduler are stopped for real: the worker with SIGTERM
(its heartbeat row is taken away at once), the scheduler with SIGKILL (its heartbeat goes
stale). Each time /readyz must answer 503 naming the part, within two minutes, and 200 again
once the piece is back.

PostgreSQL and Redis only (marker ``scaled``), like test_scaled_out.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import requests
from django.db import connection

from tests.processes import (
    ProcessGroup,
    database_url,
    db_worker,
    django_env,
    free_port,
    in_ci,
    manage,
)

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
GUNICORN = Path(sys.executable).with_name("gunicorn")
WITHIN = 120  # seconds: the promise to an operator
FRESH = 4  # READY_WORKER_SECONDS / READY_SCHEDULER_SECONDS of this run


class Proxy:
    """A TCP forwarder from a port of its own to ``target``; ``stop`` refuses new
    connections and cuts the open ones, ``start`` serves the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            # shutdown wakes the thread blocked in accept(); a close alone would leave the
            # kernel's listening socket taking connections nobody serves.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self.lock:
            for sock in list(self.open):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                self.open.discard(source)


def through(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def target_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port


@pytest.fixture
def needs():
    if connection.vendor != "postgresql":
        pytest.skip(
            "readiness across real processes runs on PostgreSQL (DATABASE_URL=postgres:...)"
        )
    missing = []
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        missing.append(f"Redis at {REDIS_URL} (TEST_REDIS_URL)")
    if not GUNICORN.exists():
        missing.append(f"gunicorn at {GUNICORN} (make install)")
    if missing:
        message = "the readiness run needs " + " and ".join(missing)
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def stop_one(group: ProcessGroup, name: str, sig: int) -> None:
    process = group.started.pop(name)
    os.killpg(process.pid, sig)
    process.wait(timeout=30)


def test_readyz_follows_the_database_redis_the_worker_and_the_scheduler(needs, tmp_path):
    prefix = f"readyz-{os.getpid()}-{secrets.token_hex(4)}"
    database, cache = Proxy(target_of(database_url())), Proxy(target_of(REDIS_URL))
    database.start()
    cache.start()
    common = {
        "CACHE_KEY_PREFIX": prefix,
        "NETSUITE_THROTTLE_STORE": "redis",
        "READY_REQUIRE_WORKER": "1",
        "READY_REQUIRE_SCHEDULER": "1",
        "READY_WORKER_SECONDS": str(FRESH),
        "READY_SCHEDULER_SECONDS": str(FRESH),
        "WORKER_HEARTBEAT_SECONDS": "0.5",
    }
    direct = django_env(CACHE_URL=REDIS_URL, **common)
    proxied = django_env(
        DATABASE_URL=through(database_url(), database),
        CACHE_URL=through(REDIS_URL, cache),
        **common,
    )
    group = ProcessGroup(tmp_path / "logs")
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    http = requests.Session()
    http.trust_env = False

    def report() -> tuple[int, dict] | None:
        try:
            answer = http.get(f"{server}/readyz", timeout=10)
            return answer.status_code, answer.json()
        except (requests.RequestException, ValueError):
            return None  # not answering, or not with the report: wait_for shows the logs

    def becomes(status: int, part: str | None, what: str):
        def seen():
            got = report()
            if got is None or got[0] != status:
                return None
            if part is not None and got[1]["checks"][part]["ok"]:
                return None
            return got

        return group.wait_for(seen, WITHIN, what)

    worker = db_worker("readyz-worker")
    scheduler = manage("run_scheduler", "--interval", "1")
    try:
        group.start(
            "gunicorn",
            [str(GUNICORN), "ipaas_admin.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
             "--threads", "2", "--worker-class", "gthread", "--log-level", "warning"],
            proxied,
        )
        group.start("worker", worker, direct)
        group.start("scheduler", scheduler, direct)
        _, ready = becomes(200, None, "the first 200")
        assert ready["status"] == "ready"
        assert set(ready["checks"]) == {"database", "cache", "worker", "scheduler"}
        assert ready["checks"]["cache"]["backend"] == "redis"

        for proxy, part in ((database, "database"), (cache, "cache")):
            proxy.stop()
            _, down = becomes(503, part, f"503 with {part} away")
            assert down["status"] == "not ready"
            assert down["checks"][part]["ok"] is False
            proxy.start()
            becomes(200, None, f"200 with {part} back")

        stop_one(group, "worker", signal.SIGTERM)
        _, down = becomes(503, "worker", "503 with the last worker stopped")
        assert down["checks"]["worker"]["fresh"] == 0
        group.start("worker", worker, direct)
        becomes(200, None, "200 with a worker back")

        stop_one(group, "scheduler", signal.SIGKILL)
        becomes(503, "scheduler", "503 with the scheduler killed")
        group.start("scheduler", scheduler, direct)
        _, back = becomes(200, None, "200 with the scheduler back")
        # Nothing secret or naming a host in what a stranger may ask for.
        text = str(back)
        assert "127.0.0.1" not in text and "postgres" not in text and prefix not in text
    finally:
        group.stop()
        database.stop()
        cache.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
