"""Retention (services/retention.py): each kind goes after its days, the rows the pages need
stay whatever their age, the audit trail is never touched, one audit event says what went,
and pruning 100,000 old events does not stop inbound deliveries (real HTTP, live server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from subscriptions import audit, bulk_sql
from subscriptions.actors import COMMAND_LINE, SCHEDULER, SYSTEM
from subscriptions.models import AuditEvent, Certificate, ConnectionTest, InboundEvent, Job
from subscriptions.services import scheduler
from subscriptions.services.retention import retention_prune
from tests import factories

NOW = timezone.now().replace(microsecond=0)
Outcome = ConnectionTest.Outcome
Status = Job.Status


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def retention(settings):
    settings.RETAIN_INBOUND_DAYS = 30
    settings.RETAIN_JOBS_DAYS = 90
    settings.RETAIN_CONNECTION_TESTS_DAYS = 90
    return settings


@pytest.fixture
def subscription(db):
    return factories.make_subscription(SYSTEM)[0]


def job(subscription, status, age_days, kind=Job.Kind.INVENTORY_POLL) -> Job:
    at = days_ago(age_days)
    finished = status not in Job.ACTIVE
    return Job.objects.create(
        subscription=subscription, kind=kind, status=status, actor_name="fixture",
        created_at=at - dt.timedelta(minutes=5), finished_at=at if finished else None,
    )


def conn_test(subscription, outcome, age_days, staged=None) -> ConnectionTest:
    return ConnectionTest.objects.create(
        subscription=subscription, outcome=outcome, actor_name="fixture",
        started_at=days_ago(age_days), staged_certificate=staged,
    )


def remaining(model, rows) -> set[int]:
    return set(model.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True))


def test_inbound_events_go_after_their_days_and_not_before(retention, subscription):
    old = [factories.inbound_event(subscription, external_id=i, received_at=days_ago(31))
           for i in range(3)]
    young = factories.inbound_event(subscription, external_id="9", received_at=days_ago(29))
    pruned = retention_prune(now=NOW)
    assert pruned.counts["inbound_events"] == 3 and pruned.done
    assert list(InboundEvent.objects.values_list("pk", flat=True)) == [young.pk]
    assert remaining(InboundEvent, old) == set()


def test_zero_days_keeps_a_kind_forever(retention, subscription):
    retention.RETAIN_INBOUND_DAYS = 0
    event = factories.inbound_event(subscription, received_at=days_ago(3650))
    pruned = retention_prune(now=NOW)
    assert pruned.total == 0 and pruned.cutoffs["inbound_events"] is None
    assert InboundEvent.objects.filter(pk=event.pk).exists()


def test_finished_jobs_go_but_the_newest_and_newest_succeeded_of_each_kind_stay(
    retention, subscription
):
    other = factories.make_subscription(SYSTEM, name="Other Co")[0]
    poll_ok_old = job(subscription, Status.SUCCEEDED, 200)
    poll_ok = job(subscription, Status.SUCCEEDED, 150)  # newest succeeded poll: kept
    poll_failed_old = job(subscription, Status.FAILED, 120)
    poll_cancelled_old = job(subscription, Status.CANCELLED, 100)
    poll_failed = job(subscription, Status.FAILED, 95)  # newest finished poll: kept
    init_old = job(subscription, Status.FAILED, 300, kind=Job.Kind.INITIALIZATION)
    init_ok = job(subscription, Status.SUCCEEDED, 91, kind=Job.Kind.INITIALIZATION)
    young = job(subscription, Status.FAILED, 10, kind=Job.Kind.INITIALIZATION)
    # Never a queued or running job, however old (a worker may still be on it)...
    queued = job(other, Status.QUEUED, 400)
    running = job(other, Status.RUNNING, 300)
    # ...and a failed one behind them is no longer the newest: it goes.
    behind_active = job(other, Status.FAILED, 500)
    # Another subscription's only initializations: the newest, and the newest succeeded.
    last_init_of_other = job(other, Status.FAILED, 500, kind=Job.Kind.INITIALIZATION)
    succeeded_init_of_other = job(other, Status.SUCCEEDED, 600, kind=Job.Kind.INITIALIZATION)

    pruned = retention_prune(now=NOW)

    gone = {poll_ok_old, poll_failed_old, poll_cancelled_old, init_old, behind_active}
    kept = {poll_ok, poll_failed, init_ok, young, queued, running, last_init_of_other,
            succeeded_init_of_other}
    assert pruned.counts["jobs"] == len(gone)
    assert remaining(Job, gone) == set()
    assert remaining(Job, kept) == {j.pk for j in kept}


def test_behind_active_is_kept_only_while_it_is_the_newest_succeeded(retention, subscription):
    ok = job(subscription, Status.SUCCEEDED, 200)
    job(subscription, Status.RUNNING, 1)
    assert retention_prune(now=NOW).total == 0
    assert Job.objects.filter(pk=ok.pk).exists()


def test_connection_tests_keep_the_newest_the_newest_finished_and_the_newest_passed(
    retention, subscription
):
    passed_old = conn_test(subscription, Outcome.PASSED, 300)
    # The newest passed one: monitoring counts a run of failures from it.
    passed = conn_test(subscription, Outcome.PASSED, 200)
    failed_old = conn_test(subscription, Outcome.FAILED, 150)
    failed = conn_test(subscription, Outcome.FAILED, 120)  # newest finished: the health badge
    interrupted_old = conn_test(subscription, Outcome.RUNNING, 110)
    interrupted = conn_test(subscription, Outcome.RUNNING, 100)  # the newest of all
    # A staged certificate's tests are a group of their own (its clearance for activation).
    cert = Certificate.objects.create(
        subscription=subscription, certificate_pem="-", fingerprint="f", key_label="RSA 3072",
        public_key_fingerprint="p", not_before=days_ago(400), not_after=days_ago(-400),
        created_by="fixture",
    )
    staged_old = conn_test(subscription, Outcome.FAILED, 300, staged=cert)
    staged_passed = conn_test(subscription, Outcome.PASSED, 250, staged=cert)
    staged_young = conn_test(subscription, Outcome.FAILED, 10, staged=cert)

    pruned = retention_prune(now=NOW)

    gone = {passed_old, failed_old, interrupted_old, staged_old}
    kept = {passed, failed, interrupted, staged_passed, staged_young}
    assert pruned.counts["connection_tests"] == len(gone)
    assert remaining(ConnectionTest, gone) == set()
    assert remaining(ConnectionTest, kept) == {t.pk for t in kept}
    # What the pages read is still there.
    from subscriptions.selectors.connection_tests import latest_own_test

    assert latest_own_test(subscription).pk == failed.pk


def test_a_subscriptions_only_test_stays_however_old(retention, subscription):
    only = conn_test(subscription, Outcome.FAILED, 1000)
    assert retention_prune(now=NOW).total == 0
    assert ConnectionTest.objects.filter(pk=only.pk).exists()


def task_result(status, age_days):
    at = days_ago(age_days)
    return DBTaskResult.objects.create(
        status=status, args_kwargs={"args": [], "kwargs": {}},
        task_path="subscriptions.tasks.run_job", backend_name="default",
        run_after=at, started_at=at, finished_at=at,
    )


def test_finished_task_results_go_with_the_jobs_days(retention, subscription):
    old_ok = task_result("SUCCESSFUL", 100)
    old_failed = task_result("FAILED", 100)
    young = task_result("SUCCESSFUL", 10)
    stuck = task_result("RUNNING", 500)
    pruned = retention_prune(now=NOW)
    assert pruned.counts["task_results"] == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {young.pk, stuck.pk}
    assert not DBTaskResult.objects.filter(pk__in=[old_ok.pk, old_failed.pk]).exists()


def test_the_audit_trail_is_untouched_and_one_event_says_what_went(retention, subscription):
    factories.inbound_event(subscription, received_at=days_ago(40))
    job(subscription, Status.FAILED, 200)
    job(subscription, Status.FAILED, 100)
    before = list(AuditEvent.objects.order_by("pk").values_list("pk", "hash"))
    assert before  # the subscription's creation, older than nothing but kept all the same

    pruned = retention_prune(now=NOW, batch_size=1)

    assert pruned.counts == {"inbound_events": 1, "jobs": 1, "task_results": 0,
                             "connection_tests": 0}
    after = list(AuditEvent.objects.order_by("pk").values_list("pk", "hash"))
    assert after[: len(before)] == before
    event = AuditEvent.objects.get(action="retention.pruned")
    assert after[-1][0] == event.pk and len(after) == len(before) + 1
    assert event.actor_name == SCHEDULER.name
    assert event.changes["deleted"] == {"inbound_events": 1, "jobs": 1}
    assert set(event.changes["older_than"]) == {"inbound_events", "jobs"}
    assert audit.verify_chain().intact
    # Nothing due: no event.
    assert retention_prune(now=NOW).total == 0
    assert AuditEvent.objects.filter(action="retention.pruned").count() == 1


def test_a_call_stops_at_its_budget_and_the_next_goes_on(retention, subscription):
    for i in range(5):
        factories.inbound_event(subscription, external_id=i, received_at=days_ago(40 + i))
    first = retention_prune(now=NOW, batch_size=2, max_batches=1)
    assert (first.counts["inbound_events"], first.batches, first.done) == (2, 1, False)
    # Oldest first.
    assert not InboundEvent.objects.filter(received_at__lt=days_ago(42.5)).exists()
    second = retention_prune(now=NOW, batch_size=2)
    assert (second.counts["inbound_events"], second.done) == (3, True)
    assert not InboundEvent.objects.exists()
    assert AuditEvent.objects.filter(action="retention.pruned").count() == 2


def test_the_scheduler_tick_prunes_and_says_so(retention, subscription, capsys):
    factories.inbound_event(subscription, received_at=timezone.now() - dt.timedelta(days=31))
    call_command("run_scheduler", "--once")
    assert "retention pruned 1 inbound events" in capsys.readouterr().out
    assert not InboundEvent.objects.exists()
    tick = scheduler.scheduler_tick()
    assert tick.retention.total == 0 and "retention pruned nothing" in tick.line()


def test_prune_command_dry_run_counts_and_deletes_nothing(retention, subscription, capsys):
    retention.RETAIN_CONNECTION_TESTS_DAYS = 0
    old = timezone.now() - dt.timedelta(days=31)
    for i in range(2):
        factories.inbound_event(subscription, external_id=i, received_at=old)
    call_command("prune", "--dry-run")
    out = capsys.readouterr().out
    assert "inbound events: 2 would be deleted" in out
    assert "connection tests: kept forever (RETAIN_CONNECTION_TESTS_DAYS=0)" in out
    assert InboundEvent.objects.count() == 2
    assert not AuditEvent.objects.filter(action="retention.pruned").exists()

    call_command("prune", "--batch-size", "1")
    assert "inbound events: 2 deleted" in capsys.readouterr().out
    assert not InboundEvent.objects.exists()
    actors = set(AuditEvent.objects.filter(action="retention.pruned")
                 .values_list("actor_name", flat=True))
    assert actors == {COMMAND_LINE.name}


# --- 100,000 old events pruned while deliveries arrive over real HTTP -----------------------

OLD_EVENTS = 100_000


def add_old_events(subscription, n: int, received_at: dt.datetime) -> None:
    names = ("subscription_id", "module", "event", "scope", "external_id", "event_id",
             "dedup_key", "received_at", "source", "remote_addr", "request_id", "user_agent",
             "payload")
    for first in range(0, n, 5000):
        bulk_sql.insert_rows(InboundEvent, names, [
            (subscription.pk, "customer", "updated", "customer/updated", str(i), "",
             hashlib.sha256(f"old|{i}".encode()).hexdigest(), received_at, "webhook", "", "",
             "", {"scope": "customer/updated", "external_id": str(i)})
            for i in range(first, min(first + 5000, n))
        ])


@pytest.mark.django_db(transaction=True)
def test_pruning_100000_old_events_while_deliveries_keep_being_accepted(live_server, settings):
    settings.RETAIN_INBOUND_DAYS = 30
    subscription, key = factories.make_subscription(
        SYSTEM, ipaas_throttle_limit=100_000, ipaas_throttle_seconds=1
    )
    add_old_events(subscription, OLD_EVENTS, timezone.now() - dt.timedelta(days=31))
    assert InboundEvent.objects.count() == OLD_EVENTS
    audit_before = AuditEvent.objects.count()

    outcome: dict = {"rounds": 0, "deleted": 0}
    finished = threading.Event()

    def prune():
        try:
            while True:
                pruned = retention_prune(now=timezone.now())
                outcome["rounds"] += 1
                outcome["deleted"] += pruned.counts["inbound_events"]
                if pruned.done:
                    break
        except BaseException as exc:  # surfaced in the main thread
            outcome["error"] = exc
        finally:
            connection.close()
            finished.set()

    url = f"{live_server.url}/hooks/netsuite/{subscription.pk}/"
    sent: list[tuple[str, int]] = []
    during = 0  # deliveries answered while the prune was still going
    thread = threading.Thread(target=prune)
    with requests.Session() as http:
        thread.start()
        # Deliveries all the while the prune runs, and a few after it ended.
        while not finished.is_set() or len(sent) < 20:
            external_id = f"new-{uuid.uuid4().hex[:12]}"
            answer = http.post(
                url, json={"notifications": [{"scope": "customer/updated",
                                               "external_id": external_id}]},
                headers={"Authorization": f"Bearer {key}"}, timeout=60,
            )
            sent.append((external_id, answer.status_code))
            during += not finished.is_set()
    thread.join(timeout=300)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["deleted"] == OLD_EVENTS
    assert {status for _, status in sent} == {202}
    assert during > 0  # the prune and the deliveries did overlap
    stored = set(InboundEvent.objects.values_list("external_id", flat=True))
    assert stored == {external_id for external_id, _ in sent}
    cutoff = timezone.now() - dt.timedelta(days=30)
    assert not InboundEvent.objects.filter(received_at__lt=cutoff).exists()
    # One audit event per round that deleted something; nothing else touched the trail.
    pruned_events = AuditEvent.objects.filter(action="retention.pruned")
    assert AuditEvent.objects.count() == audit_before + pruned_events.count()
    assert sum(e.changes["deleted"]["inbound_events"] for e in pruned_events) == OLD_EVENTS
