"""``manage.py run_scheduler``: every ``--interval`` seconds, one tick of the scheduler
(``services.scheduler.scheduler_tick``: due inventory polls queued, stale jobs recovered,
monitoring run, old rows pruned: ``services.retention``), one line printed per tick.
``--once`` runs one tick and exits.

SIGTERM or SIGINT lets the tick under way finish and then exits; nothing is left half done,
since every step commits as it goes. More schedulers than one are safe (see the service).

After every tick, taken or skipped, the scheduler beats its heartbeat (``services.heartbeats``,
read by ``/readyz``); a clean stop takes it away.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.utils import timezone

from ...models import WorkerHeartbeat
from ...services.heartbeats import heartbeat_beat, heartbeat_forget
from ...services.jobs import worker_name
from ...services.scheduler import DEFAULT_HOLD_SECONDS, scheduler_tick

DEFAULT_INTERVAL = 30.0
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue due inventory polls, recover stale jobs, run monitoring and prune old rows, "
        "every few seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            help=f"Seconds between ticks (default {DEFAULT_INTERVAL:g}, at least 1).",
        )

    def handle(self, *args, **options):
        interval = options["interval"]
        if not interval >= 1:
            raise CommandError("--interval must be at least 1 second.")
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, lambda *_: stop.set())
        # A tick that runs long must still hold its turn: the lease outlasts two intervals.
        hold = max(DEFAULT_HOLD_SECONDS, 2 * interval)
        name, started_at = f"scheduler@{worker_name()}", timezone.now()
        try:
            if not options["once"]:
                self.stdout.write(f"Scheduler started: a tick every {interval:g} s.")
            while True:
                self.stdout.write(scheduler_tick(hold_seconds=hold).line())
                self.stdout.flush()
                self._beat(name, started_at, forget=False)
                if options["once"] or stop.wait(interval):
                    break
                # A connection the database dropped while we waited is not reused.
                close_old_connections()
            if not options["once"]:
                self._beat(name, started_at, forget=True)
                self.stdout.write("Scheduler stopped.")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if not options["once"]:
                connection.close()

    def _beat(self, name: str, started_at, *, forget: bool) -> None:
        # A database hiccup must not stop the scheduler: readiness shows it meanwhile.
        try:
            if forget:
                heartbeat_forget(name=name)
            else:
                heartbeat_beat(
                    name=name, kind=WorkerHeartbeat.Kind.SCHEDULER, started_at=started_at
                )
        except Exception:
            logger.exception("the scheduler's heartbeat could not be written")
