"""Whether this process can do its work now, part by part, for ``/readyz``.

A load balancer or an orchestrator asks every second or so, so the whole report costs a
handful of queries at most (a ``SELECT 1``, one aggregate over the heartbeats, and the
scheduler's lease only when no scheduler beat lately), a Redis ping when the cache is Redis,
and never a NetSuite call. The migration check reads every migration file, so it runs until
it first passes and is then remembered by the process (a deployment migrates before it
starts the new code; a process never sees its migrations go back).

Nothing in the report is secret or names a host: a failure is the exception's type (a
database driver's message names the server and sometimes the user), and the heartbeats are
counted, not named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max, Q
from django.utils import timezone

from ..models import ThrottleLease, WorkerHeartbeat
from ..models.heartbeats import SCHEDULER_TURN_SCOPE
from ..throttling import CACHE_ALIAS, _redis_client, store_name

READY, NOT_READY = "ready", "not ready"
_migrated: set[str] = set()  # database aliases whose migrations were all applied


def _failure(exc: BaseException) -> dict:
    return {"ok": False, "error": type(exc).__name__}


def _checked(check: Callable[[], dict]) -> dict:
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 (any failure is "not ready", said by its type)
        return _failure(exc)


def database_check(connection=None) -> dict:
    """The database answers, and every migration this code knows is applied."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    if connection.alias not in _migrated:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            return {"ok": False, "migrated": False, "unapplied_migrations": len(unapplied)}
        _migrated.add(connection.alias)
    return {"ok": True, "migrated": True}


def store_check(database: dict) -> dict:
    """The shared store of the NetSuite caps (``throttling``) answers: a ping when the cache
    is Redis (the cache and the store share it), the database's own state when the store is
    the database."""
    name = store_name()
    client = _redis_client(caches[CACHE_ALIAS])
    if client is not None:
        return {"ok": bool(client.ping()), "store": name, "backend": "redis"}
    if name == "database":
        return {"ok": database["ok"], "store": name, "backend": "database"}
    return {"ok": True, "store": name, "backend": "local"}


def processes_check(now: dt.datetime) -> tuple[dict, dict]:
    """The job workers and schedulers whose heartbeat is fresh, in one query; the
    scheduler's lease is read only when no scheduler beat lately (a long tick)."""
    worker_after = now - dt.timedelta(seconds=settings.READY_WORKER_SECONDS)
    scheduler_after = now - dt.timedelta(seconds=settings.READY_SCHEDULER_SECONDS)
    worker, scheduler = WorkerHeartbeat.Kind.WORKER, WorkerHeartbeat.Kind.SCHEDULER
    found = WorkerHeartbeat.objects.aggregate(
        workers=Count("id", filter=Q(kind=worker, seen_at__gte=worker_after)),
        worker_seen=Max("seen_at", filter=Q(kind=worker)),
        schedulers=Count("id", filter=Q(kind=scheduler, seen_at__gte=scheduler_after)),
        scheduler_seen=Max("seen_at", filter=Q(kind=scheduler)),
    )

    def age(seen: dt.datetime | None) -> float | None:
        return None if seen is None else round(max(0.0, (now - seen).total_seconds()), 1)

    workers = {
        "ok": found["workers"] > 0,
        "fresh": found["workers"],
        "last_seen_seconds_ago": age(found["worker_seen"]),
        "limit_seconds": settings.READY_WORKER_SECONDS,
    }
    ticking = found["schedulers"] > 0 or (
        ThrottleLease.objects.filter(scope=SCHEDULER_TURN_SCOPE, expires_at__gt=now).exists()
    )
    schedulers = {
        "ok": ticking,
        "fresh": found["schedulers"],
        "last_seen_seconds_ago": age(found["scheduler_seen"]),
        "limit_seconds": settings.READY_SCHEDULER_SECONDS,
    }
    return workers, schedulers


def readiness_report(*, now: dt.datetime | None = None) -> dict:
    """``{"status": "ready" | "not ready", "checks": {part: {"ok": ..., ...}}}``. A part
    with ``"required": false`` is reported but does not decide the status."""
    now = now or timezone.now()
    database = _checked(database_check)
    checks = {"database": database, "cache": _checked(lambda: store_check(database))}
    if database["ok"]:
        try:
            worker, scheduler = processes_check(now)
        except Exception as exc:  # noqa: BLE001 (the database went away meanwhile)
            worker = scheduler = _failure(exc)
    else:
        worker = scheduler = {"ok": False, "error": "the database did not answer"}
    checks["worker"] = {**worker, "required": settings.READY_REQUIRE_WORKER}
    checks["scheduler"] = {**scheduler, "required": settings.READY_REQUIRE_SCHEDULER}
    ready = all(check["ok"] for check in checks.values() if check.get("required", True))
    return {"status": READY if ready else NOT_READY, "checks": checks}
