"""``manage.py run_scheduler``: one tick in this process (``--once``), the turn that lets one
scheduler tick at a time, and real scheduler processes on the test database: two of them
side by side queue each due poll once, and SIGTERM ends one cleanly."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from subscriptions.actors import COMMAND_LINE, SCHEDULER, SYSTEM
from subscriptions.models import AuditEvent, Job
from subscriptions.services import polling, scheduler
from subscriptions.throttling import DatabaseStore
from tests import factories
from tests.processes import ROOT, django_env, manage


def polled(name: str, minutes: int = 30):
    subscription, _key = factories.make_subscription(SYSTEM, name=name)
    polling.polling_settings_set(
        subscription=subscription, actor=COMMAND_LINE, enabled=True, minutes=minutes
    )
    return subscription


def polls():
    return Job.objects.filter(kind=Job.Kind.INVENTORY_POLL)


def test_once_queues_what_is_due_and_says_so(db, capsys):
    due = polled("Due Co")
    factories.make_subscription(SYSTEM, name="Quiet Co")
    call_command("run_scheduler", "--once")
    line = capsys.readouterr().out.strip()
    job = polls().get()
    assert job.subscription_id == due.pk
    assert job.actor_name == SCHEDULER.name
    assert f"1 inventory poll(s) queued: Due Co (job {job.pk})" in line
    assert "0 stale job(s) recovered" in line
    assert "monitoring: " in line
    assert len(line.splitlines()) == 1

    call_command("run_scheduler", "--once")
    assert "0 inventory poll(s) queued;" in capsys.readouterr().out
    assert polls().count() == 1


def test_a_tick_recovers_stale_jobs(db, settings, capsys):
    subscription = polled("Stale Co")
    job = polling.polling_start(subscription=subscription, actor=COMMAND_LINE)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 5),
    )
    call_command("run_scheduler", "--once")
    assert "1 stale job(s) recovered" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    event = AuditEvent.objects.get(action="job.resumed", target_id=str(job.pk))
    assert event.actor_name == SCHEDULER.name


def test_a_tick_waits_its_turn(db, capsys):
    polled("Turn Co")
    store, owner = DatabaseStore(), "another-scheduler"
    token, _ = store.take(scheduler.TURN_SCOPE, 1, 60, owner)
    assert token is not None
    call_command("run_scheduler", "--once")
    assert "skipped: another scheduler is taking its turn." in capsys.readouterr().out
    assert not polls().exists()
    assert store.release(scheduler.TURN_SCOPE, token, owner)
    call_command("run_scheduler", "--once")
    assert "1 inventory poll(s) queued" in capsys.readouterr().out
    # The turn is given back at the end of every tick.
    assert store.held(scheduler.TURN_SCOPE, 1) == 0


def test_an_interval_under_a_second_is_refused(db):
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("run_scheduler", "--interval", "0.5")


def start_scheduler(tmp_path, name: str) -> subprocess.Popen:
    out = open(tmp_path / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process
    err = open(tmp_path / f"{name}.err", "wb")  # noqa: SIM115
    return subprocess.Popen(
        manage("run_scheduler", "--interval", "1"),
        cwd=ROOT,
        env=django_env(),
        stdout=out,
        stderr=err,
        start_new_session=True,
    )


def said(tmp_path, name: str) -> str:
    return (tmp_path / f"{name}.out").read_text() + (tmp_path / f"{name}.err").read_text()


def ticks(tmp_path, name: str) -> int:
    lines = said(tmp_path, name).splitlines()
    return sum(1 for line in lines if " queued" in line or "skipped:" in line)


@pytest.mark.django_db(transaction=True)
def test_two_scheduler_processes_queue_each_poll_once_and_stop_on_sigterm(tmp_path):
    due = [polled(f"Process Co {n}").pk for n in range(3)]
    processes = {name: start_scheduler(tmp_path, name) for name in ("one", "two")}
    try:
        deadline = time.monotonic() + 60
        # Both have ticked (or found the turn taken) a few times: every due poll was queued.
        while min(ticks(tmp_path, name) for name in processes) < 3:
            for name, process in processes.items():
                assert process.poll() is None, said(tmp_path, name)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the schedulers did not tick: {[said(tmp_path, n) for n in processes]}"
                )
            time.sleep(0.2)
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for name, process in processes.items():
            assert process.wait(timeout=30) == 0, said(tmp_path, name)
            assert said(tmp_path, name).rstrip().endswith("Scheduler stopped."), said(
                tmp_path, name
            )
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    assert sorted(polls().values_list("subscription_id", flat=True)) == sorted(due)
    assert AuditEvent.objects.filter(action="job.started", actor_name=SCHEDULER.name).count() == 3
