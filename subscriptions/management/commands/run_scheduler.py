"""``manage.py run_scheduler``: every ``--interval`` seconds, one tick of the scheduler
(``services.scheduler.scheduler_tick``: due inventory polls queued, stale jobs recovered,
monitoring run), one line printed per tick. ``--once`` runs one tick and exits.

SIGTERM or SIGINT lets the tick under way finish and then exits; nothing is left half done,
since every step commits as it goes. More schedulers than one are safe (see the service).
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from ...services.scheduler import DEFAULT_HOLD_SECONDS, scheduler_tick

DEFAULT_INTERVAL = 30.0


class Command(BaseCommand):
    help = "Queue due inventory polls, recover stale jobs and run monitoring, every few seconds."

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
        try:
            if not options["once"]:
                self.stdout.write(f"Scheduler started: a tick every {interval:g} s.")
            while True:
                self.stdout.write(scheduler_tick(hold_seconds=hold).line())
                self.stdout.flush()
                if options["once"] or stop.wait(interval):
                    break
                # A connection the database dropped while we waited is not reused.
                close_old_connections()
            if not options["once"]:
                self.stdout.write("Scheduler stopped.")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if not options["once"]:
                connection.close()
