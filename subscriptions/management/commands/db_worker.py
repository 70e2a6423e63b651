"""django-tasks-db's ``db_worker``, which also notices jobs whose worker died.

A worker killed mid-job (SIGKILL, a lost machine) leaves its job "running" with a heartbeat
that no longer moves. Every worker looks for such jobs every ``JOB_STALE_SECONDS / 2`` on a
thread of its own and queues them again (``services.jobs.job_recover_stale``), so one of the
workers that are still alive resumes them from their checkpoint; with several workers the
row locks make each stale job recovered once. This app comes before ``django_tasks_db`` in
INSTALLED_APPS, so this command is the ``db_worker`` every deployment runs.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands import db_worker

from ...services.jobs import job_recover_stale

logger = logging.getLogger(__name__)


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


class Command(db_worker.Command):
    help = db_worker.Command.help + " (and resume jobs whose worker died)"

    def handle(self, *args, **options):
        stop = threading.Event()
        watcher = threading.Thread(
            target=watch_stale_jobs, args=(stop,), name="stale-jobs", daemon=True
        )
        watcher.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
