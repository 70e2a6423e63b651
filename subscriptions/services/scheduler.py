"""One tick of the scheduler: queue the inventory polls that are due, recover jobs whose
worker went silent, run monitoring and prune old rows (retention), in that order, one
scheduler at a time.

Any number of schedulers may run (one per machine is a common supervisor set-up); a tick
takes the scheduler's turn first, a lease row in the database (``throttling.DatabaseStore``,
on SQLite and PostgreSQL alike) that expires on its own after ``hold_seconds``, so a
scheduler killed mid-tick blocks the others for that long at most, and no database
transaction stays open across the tick (monitoring calls NetSuite). A scheduler that finds
the turn taken skips its tick. The turn only saves work: each step is safe on its own
should two ticks ever overlap (a tick outlasting its lease): polls are queued on locked rows
(``polling_enqueue_due``), stale jobs are taken with ``skip_locked``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.utils import timezone

from ..actors import SCHEDULER
from ..models import Job
from ..models.heartbeats import SCHEDULER_TURN_SCOPE
from ..throttling import DatabaseStore, new_owner
from .jobs import job_recover_stale
from .monitoring import monitoring_run
from .polling import polling_enqueue_due
from .retention import Pruned, retention_prune

logger = logging.getLogger(__name__)

# The lease's scope; /readyz reads the lease too (models/heartbeats.py).
TURN_SCOPE = SCHEDULER_TURN_SCOPE
DEFAULT_HOLD_SECONDS = 120.0


@dataclass
class Tick:
    at: dt.datetime
    ran: bool
    polls: list[Job] = field(default_factory=list)
    recovered: list[Job] = field(default_factory=list)
    monitoring: dict | None = None
    retention: Pruned | None = None
    # step -> what went wrong (the exception's type; the traceback is in the log).
    failed: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """What the tick did, in one line for the scheduler's output."""
        stamp = self.at.isoformat(timespec="seconds")
        if not self.ran:
            return f"{stamp} skipped: another scheduler is taking its turn."
        names = ", ".join(f"{job.subscription.name} (job {job.pk})" for job in self.polls)
        parts = [f"{len(self.polls)} inventory poll(s) queued" + (f": {names}" if names else "")]
        parts.append(f"{len(self.recovered)} stale job(s) recovered")
        if self.monitoring is not None:
            figures = ", ".join(f"{k} {v}" for k, v in self.monitoring.items())
            parts.append(f"monitoring: {figures}")
        if self.retention is not None:
            parts.append(f"retention pruned {self.retention.summary()}")
        for step, what in self.failed.items():
            parts.append(f"{step} FAILED ({what}; see the log, the next tick tries again)")
        return f"{stamp} " + "; ".join(parts) + "."


def scheduler_tick(
    *, now: dt.datetime | None = None, hold_seconds: float = DEFAULT_HOLD_SECONDS
) -> Tick:
    """One tick, if this scheduler gets the turn; a failing step leaves the others to run."""
    now = now or timezone.now()
    store, owner = DatabaseStore(), new_owner()
    token, _wait = store.take(TURN_SCOPE, 1, hold_seconds, owner)
    tick = Tick(at=now, ran=token is not None)
    if token is None:
        return tick
    try:
        steps = (
            ("polling", lambda: setattr(tick, "polls", polling_enqueue_due(now=now))),
            ("stale jobs", lambda: setattr(tick, "recovered", job_recover_stale(actor=SCHEDULER))),
            ("monitoring", lambda: setattr(tick, "monitoring", monitoring_run(now=now))),
            # Last: a tick's leftover time, in small batches (services/retention.py).
            ("retention", lambda: setattr(tick, "retention", retention_prune(now=now))),
        )
        for name, step in steps:
            try:
                step()
            except Exception as exc:
                # One step's failure (a database hiccup, a bug) must not starve the others.
                logger.exception("scheduler step %s failed", name)
                tick.failed[name] = type(exc).__name__
    finally:
        store.release(TURN_SCOPE, token, owner)
    return tick
