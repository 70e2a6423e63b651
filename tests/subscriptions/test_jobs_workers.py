"""Real worker processes: ``manage.py db_worker`` against the test database, a worker killed
with SIGKILL mid-initialization, and a second worker that notices the silent heartbeat and
finishes the job from its checkpoint with every record stored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, Job, Record
from subscriptions.services import initialization
from tests.processes import database_url, db_worker

ROOT = Path(__file__).resolve().parents[2]
SIM_TYPES = ("customercategory", "location", "paymentmethod", "shipitem")


def worker_env(netsuite_sim) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_TESTING="1",
        DJANGO_READ_DOT_ENV="0",
        DATABASE_URL=database_url(),
        NETSUITE_BASE_URL=netsuite_sim.base_url,
        NETSUITE_SIMULATOR="1",
        JOB_HEARTBEAT_SECONDS="0.2",
        JOB_STALE_SECONDS="1.5",
        LOG_LEVEL="WARNING",
        # Short calls, so the slot the killed worker held (a lease that outlives the longest
        # call) is free again soon after the kill.
        NETSUITE_TIMEOUT_CONNECT="1",
        NETSUITE_TIMEOUT_READ="2",
        NETSUITE_SLOT_WAIT="20",
    )
    return env


def start_worker(env, name):
    return subprocess.Popen(
        db_worker(name), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_for(condition, seconds, what, process):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
    tail = process.stderr.read().decode(errors="replace")[-3000:]
    pytest.fail(f"gave up waiting for {what} after {seconds} s; the worker said: {tail}")


def pages_stored(job_pk) -> int:
    job = Job.objects.get(pk=job_pk)
    return sum(len(t.get("pages") or []) for t in job.checkpoint.get("types", {}).values())


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_replaced_and_nothing_is_lost_or_repeated(netsuite_sim):
    state = netsuite_sim.sim.state
    state.record_counts.update(customercategory=4000, location=3000)
    state.latency = 0.15
    # Two slots: the killed worker's lease on one lasts until it expires (a call's deadline
    # and a margin), and the worker that takes over goes on with the other meanwhile.
    subscription = netsuite_sim.subscription("Killed Co", concurrent_connections=2)
    env = worker_env(netsuite_sim)
    job = initialization.initialization_start(
        subscription=subscription, types=None, actor=COMMAND_LINE
    )
    total_pages = 4 + 3 + 1 + 1
    first = start_worker(env, "worker-a")
    second = None
    try:
        wait_for(lambda: pages_stored(job.pk) >= 3, 30, "worker A to store three pages", first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=5)
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING and job.attempts == 1
        done_at_kill = pages_stored(job.pk)
        assert done_at_kill < total_pages
        netsuite_sim.sim.reset_stats()

        second = start_worker(env, "worker-b")
        wait_for(lambda: Job.objects.get(pk=job.pk).attempts > 1, 60,
                 "worker B to notice the silent heartbeat and take the job over", second)
        wait_for(lambda: not Job.objects.get(pk=job.pk).is_active, 60, "the job to end", second)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    job.refresh_from_db()
    log = [(line["at"], line["text"]) for line in job.log]
    assert job.status == Job.Status.SUCCEEDED, (job.error, log, job.checkpoint)
    assert job.attempts == 2
    with state.lock:
        expected = {t: set(state.accounts["1234567"].records[t]) for t in SIM_TYPES}
    for record_type, ids in expected.items():
        stored = list(Record.objects.filter(subscription=subscription, record_type=record_type)
                      .values_list("internal_id", flat=True))
        assert sorted(stored) == sorted(ids), record_type
        assert job.counts[record_type]["read"] == len(ids)
        assert job.counts[record_type]["created"] == len(ids)  # each once, none twice
    # Resumed, not restarted: only the pages not stored before the kill were read again.
    assert netsuite_sim.stats()["calls"]["suiteql"] == total_pages - done_at_kill
    assert AuditEvent.objects.filter(action="job.resumed", target_id=str(job.pk)).count() == 1
    assert any("resuming from the checkpoint" in line["text"] for line in job.log)
