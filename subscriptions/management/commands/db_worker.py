"""django-tasks-db's ``db_worker``, which also notices jobs whose worker died.

A worker killed mid-job (SIGKILL, a lost machine) leaves its job "running" with a heartbeat
that no longer moves. Every worker looks for such jobs every ``JOB_STALE_SECONDS / 2`` on a
thread of its own and queues them again (``services.jobs.job_recover_stale``), so one of the
workers that are still alive resumes them from their checkpoint; with several workers the
row locks make each stale job recovered once. This app comes before ``django_tasks_db`` in
INSTALLED_APPS, so this command is the ``db_worker`` every deployment runs.

Another thread beats the worker's heartbeat every ``WORKER_HEARTBEAT_SECONDS`` under its
``--worker-id`` (``services.heartbeats``), which ``/readyz`` reads: a deployment whose
last worker stopped queues jobs nobody runs. A clean stop deletes the row at once.

Before it takes a job the worker loads what every job needs and freezes what it loaded
(``ready_for_jobs``), so that neither lands inside a job's time.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from ...models import WorkerHeartbeat
from ...services.heartbeats import heartbeat_beat, heartbeat_forget
from ...services.jobs import job_recover_stale

logger = logging.getLogger(__name__)
# Seconds a thread holds the interpreter before another waiting for it gets a turn (Python's
# default is 0.005); see ``ready_for_jobs``.
SWITCH_INTERVAL = 0.001


def ready_for_jobs() -> None:
    """Pay once, before the first job, what a fresh worker's jobs would each risk paying."""
    # The jobs' code, loaded before the freeze below.
    from ...services import initialization, polling  # noqa: F401
    from ...throttling import store_for

    try:
        # The throttle store's client: Django's Redis cache imports redis on first use, which
        # took 60-80 ms inside the first initialization, before its first call.
        store_for()
    except Exception:
        # Each job meets the same error and reports it; the worker still starts.
        logger.exception("the throttle store could not be set up")
    # Django and the app, loaded by now, live as long as the process. Frozen, they are left
    # out of the full collections that a job's pages of rows set off now and then: walking
    # them stopped every thread of the job for 70-100 ms, each slot's next call as late.
    gc.collect()
    gc.freeze()
    # A job's threads wait on NetSuite and hand each answer to the thread that stores it,
    # whose Python work holds the interpreter. Between an answer and its slot's next call a
    # page thread makes three quick round trips (rate window, token, slot), and after each it
    # waited for the interpreter up to the switch interval (5 ms by default): 15-40 ms a
    # round on every slot at a real page time. A shorter interval hands it back sooner.
    sys.setswitchinterval(SWITCH_INTERVAL)


def watch_stale_jobs(stop: threading.Event) -> None:
    interval = max(0.2, settings.JOB_STALE_SECONDS / 2)
    try:
        while not stop.wait(interval):
            close_old_connections()
            try:
                job_recover_stale()
            except Exception:
                # A database hiccup must not end the watch: the next round tries again.
                logger.exception("looking for stale jobs failed")
    finally:
        connection.close()


def beat(stop: threading.Event, name: str) -> None:
    """The worker's heartbeat, at once and then every ``WORKER_HEARTBEAT_SECONDS``."""
    started_at = timezone.now()
    try:
        while True:
            close_old_connections()
            try:
                heartbeat_beat(name=name, kind=WorkerHeartbeat.Kind.WORKER, started_at=started_at)
            except Exception:
                # The database away for a moment: readiness says so meanwhile; beat again.
                logger.exception("the worker's heartbeat could not be written")
            if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                break
        try:
            heartbeat_forget(name=name)
        except Exception:
            logger.exception("the worker's heartbeat could not be taken away")
    finally:
        connection.close()


class Command(db_worker.Command):
    help = db_worker.Command.help + " (and resume jobs whose worker died)"

    def handle(self, *args, **options):
        ready_for_jobs()
        stop = threading.Event()
        watcher = threading.Thread(
            target=watch_stale_jobs, args=(stop,), name="stale-jobs", daemon=True
        )
        watcher.start()
        beater = threading.Thread(
            target=beat, args=(stop, options["worker_id"]), name="heartbeat", daemon=True
        )
        beater.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
            beater.join(timeout=5)
