"""``/healthz`` and ``/readyz``, each check of readiness on its own (SQLite here; the
scaled-out run stops the real pieces: tests/scaled/test_readiness.py), and the heartbeats the
worker and the scheduler write."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading

import pytest
import redis
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscriptions.management.commands.db_worker import beat
from subscriptions.models import Role, WorkerHeartbeat
from subscriptions.models.heartbeats import SCHEDULER_TURN_SCOPE
from subscriptions.selectors import readiness
from subscriptions.services.heartbeats import FORGET_AFTER, heartbeat_beat, heartbeat_forget
from subscriptions.throttling import DatabaseStore, new_owner
from subscriptions.views import health
from tests.factories import logged_in_client
from tests.processes import free_port

pytestmark = pytest.mark.django_db
WORKER, SCHEDULER = WorkerHeartbeat.Kind.WORKER, WorkerHeartbeat.Kind.SCHEDULER


def ready(client) -> tuple[int, dict]:
    answer = client.get(reverse("readyz"))
    assert answer["Content-Type"] == "application/json"
    assert "no-cache" in answer["Cache-Control"]
    return answer.status_code, answer.json()


def beat_at(name: str, kind: str, seconds_ago: float) -> None:
    at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    heartbeat_beat(name=name, kind=kind, started_at=at, now=at)


def test_healthz_answers_without_a_login_a_query_or_a_cookie(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get(reverse("healthz"))
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert not answer.cookies
    assert client.post(reverse("healthz")).status_code == 405


def test_readyz_in_development_is_ready_with_the_database_alone(client, settings):
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = False
    status, report = ready(client)
    assert status == 200 and report["status"] == "ready"
    checks = report["checks"]
    assert set(checks) == {"database", "cache", "worker", "scheduler"}
    assert checks["database"] == {"ok": True, "migrated": True}
    assert checks["cache"]["ok"] is True
    # Reported, not required: nothing beats in this test.
    assert checks["worker"]["ok"] is False and checks["worker"]["required"] is False
    assert checks["scheduler"]["ok"] is False and checks["scheduler"]["required"] is False


def test_readyz_costs_a_handful_of_queries_once_migrations_were_checked(client, settings):
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = True
    settings.NETSUITE_THROTTLE_STORE = "database"
    beat_at("w1", WORKER, 1)
    beat_at("s1", SCHEDULER, 1)
    client.get(reverse("readyz"))  # the migration check, remembered once it passed
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        status, _report = ready(client)
    assert status == 200
    # SELECT 1 and one aggregate over the heartbeats; no session, no user, no lease.
    assert len(queries) == 2, [q["sql"] for q in queries]


def test_the_worker_check_wants_a_fresh_heartbeat(client, settings):
    settings.READY_REQUIRE_WORKER, settings.READY_REQUIRE_SCHEDULER = True, False
    settings.READY_WORKER_SECONDS = 120
    status, report = ready(client)
    assert status == 503 and report["status"] == "not ready"
    assert report["checks"]["worker"]["last_seen_seconds_ago"] is None
    beat_at("old-worker", WORKER, 300)
    status, report = ready(client)
    assert status == 503 and report["checks"]["worker"]["fresh"] == 0
    assert report["checks"]["worker"]["last_seen_seconds_ago"] >= 300
    beat_at("live-worker", WORKER, 5)
    status, report = ready(client)
    assert status == 200 and report["checks"]["worker"]["fresh"] == 1
    # A scheduler's beat is not a worker's.
    heartbeat_forget(name="live-worker")
    beat_at("a-scheduler", SCHEDULER, 1)
    assert ready(client)[0] == 503


def test_the_scheduler_check_takes_a_fresh_beat_or_its_lease_held_by_a_long_tick(
    client, settings
):
    settings.READY_REQUIRE_WORKER, settings.READY_REQUIRE_SCHEDULER = False, True
    settings.READY_SCHEDULER_SECONDS = 60
    assert ready(client)[0] == 503
    beat_at("scheduler@old", SCHEDULER, 61)
    assert ready(client)[0] == 503
    # A tick under way for longer than the limit still holds the turn.
    store, owner = DatabaseStore(), new_owner()
    token, _ = store.take(SCHEDULER_TURN_SCOPE, 1, 120, owner)
    assert token is not None
    status, report = ready(client)
    assert status == 200 and report["checks"]["scheduler"]["ok"] is True
    store.release(SCHEDULER_TURN_SCOPE, token, owner)
    assert ready(client)[0] == 503
    beat_at("scheduler@live", SCHEDULER, 2)
    assert ready(client)[0] == 200


def test_unapplied_migrations_make_it_not_ready_until_they_are_applied(client, settings):
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = False
    readiness._migrated.clear()
    from django.db import connection

    leaf = max(n for a, n in MigrationLoader(connection).graph.leaf_nodes() if a == "subscriptions")
    applied = MigrationRecorder.Migration.objects.filter(app="subscriptions", name=leaf)
    row = applied.get()
    applied.delete()  # as if the code were newer than the database
    status, report = ready(client)
    assert status == 503
    assert report["checks"]["database"] == {
        "ok": False, "migrated": False, "unapplied_migrations": 1,
    }
    row.save()
    assert ready(client)[0] == 200


def test_a_database_that_does_not_answer_is_named_by_the_error_type_only(tmp_path):
    missing = tmp_path / "no-such-directory" / "secret-host-name.sqlite3"
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(missing)}}
    )
    connection = handler["default"]
    try:
        result = readiness._checked(lambda: readiness.database_check(connection=connection))
    finally:
        connection.close()
    assert result == {"ok": False, "error": "OperationalError"}


def test_a_redis_that_does_not_answer_makes_it_not_ready(client, settings):
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = False
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/11"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": url}}
    settings.NETSUITE_THROTTLE_STORE = "redis"
    answer = client.get(reverse("readyz"))
    assert answer.status_code == 503
    assert answer.json()["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert b"hunter2" not in answer.content and b"127.0.0.1" not in answer.content


def test_a_redis_that_answers_is_ready(client, settings):
    url = "redis://127.0.0.1:6379/11"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": url, "KEY_PREFIX": "readyz-test"}}
    status, report = ready(client)
    assert status == 200
    assert report["checks"]["cache"] == {"ok": True, "store": "redis", "backend": "redis"}


def test_readyz_is_answered_to_a_person_who_owes_a_second_factor(make_user, settings):
    settings.READY_REQUIRE_WORKER = settings.READY_REQUIRE_SCHEDULER = False
    settings.REQUIRE_MFA_FOR = ["administrator"]
    client = logged_in_client(make_user("owes-mfa", Role.ADMINISTRATOR))
    assert client.get(reverse("subscriptions:list")).status_code == 302  # held back elsewhere
    answer = client.get(reverse("readyz"))
    assert answer.status_code == 200 and not answer.cookies


def test_old_heartbeats_are_forgotten_by_the_next_beat_of_their_kind():
    beat_at("gone", WORKER, FORGET_AFTER.total_seconds() + 60)
    beat_at("a-scheduler-long-gone", SCHEDULER, FORGET_AFTER.total_seconds() + 60)
    beat_at("alive", WORKER, 0)
    names = set(WorkerHeartbeat.objects.values_list("name", flat=True))
    assert names == {"alive", "a-scheduler-long-gone"}


@pytest.mark.django_db(transaction=True)
def test_the_workers_heartbeat_thread_beats_and_takes_its_row_away_when_it_stops(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    stop = threading.Event()
    thread = threading.Thread(target=beat, args=(stop, "thread-worker"))
    thread.start()
    try:
        deadline = timezone.now() + dt.timedelta(seconds=10)
        seen = set()
        while len(seen) < 2 and timezone.now() < deadline:
            row = WorkerHeartbeat.objects.filter(name="thread-worker").first()
            if row is not None:
                seen.add(row.seen_at)
        assert len(seen) >= 2, "the heartbeat did not move"
        assert row.kind == WORKER
    finally:
        stop.set()
        thread.join(10)
    assert not WorkerHeartbeat.objects.filter(name="thread-worker").exists()


def test_run_scheduler_once_beats_the_schedulers_heartbeat(settings):
    settings.NETSUITE_THROTTLE_STORE = "database"
    call_command("run_scheduler", "--once", stdout=io.StringIO())
    row = WorkerHeartbeat.objects.get()
    assert row.kind == SCHEDULER and row.name.startswith("scheduler@")


def test_a_change_of_readiness_is_logged_once_and_a_503_is_not_an_error(client, settings, caplog):
    settings.READY_REQUIRE_WORKER, settings.READY_REQUIRE_SCHEDULER = True, False
    health._last["status"] = readiness.READY  # what a new process starts from
    caplog.set_level(logging.INFO)
    for _ in range(3):
        assert ready(client)[0] == 503
    beat_at("worker-back", WORKER, 0)
    for _ in range(2):
        assert ready(client)[0] == 200
    said = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert said == [
        ("subscriptions.views.health", "WARNING", "readiness: not ready (worker)"),
        ("subscriptions.views.health", "WARNING", "readiness: ready"),
    ]
