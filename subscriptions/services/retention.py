"""Retention: old inbound events, finished jobs (with their task rows) and connection tests
deleted after the days their settings give (``RETAIN_*_DAYS``), a little at every scheduler
tick, so the tables a busy dashboard grows stay the size of their window.

The deletes must never stall the writers that keep arriving (an inbound delivery waits on a
lock a delete holds; on SQLite on the one database write lock): rows go by primary-key
batches, each its own short transaction: the ids of the oldest ``batch_size`` rows are read
outside any transaction, those ids are deleted and committed, and so on, a batch of each kind
in turn, until nothing is due or the tick's budget (``max_batches``, ``max_seconds``) is
spent; the next tick goes on from there. The delete re-checks the rule, so a job retried
between the read and the delete (queued again) is not deleted. What is kept whatever its age
is ``selectors/retention.py``'s to say. The audit trail is never pruned; pruning is
housekeeping, recorded as one ``retention.pruned`` event with the counts per call that
deleted something, not one per row.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from .. import audit
from ..actors import SCHEDULER, ActorLike
from ..selectors.retention import KINDS, prunable, retention_cutoffs

DEFAULT_BATCH_SIZE = 1000
# A scheduler tick's share: 100 batches or 10 s, whichever comes first (the turn is held
# for at least 120 s, and polls and monitoring share the tick).
DEFAULT_MAX_BATCHES = 100
DEFAULT_MAX_SECONDS = 10.0
# SQLite has one write lock, and a writer waiting on it sleeps in growing steps (up to 100 ms)
# between tries: batches back to back would take it every time and starve the inbound
# endpoint for seconds. After each batch the prune leaves the lock free for longer than the
# longest of those steps, so every waiting writer gets in. PostgreSQL's deletes of old rows
# block no insert of new ones, so it gets no pause.
SQLITE_PAUSE_SECONDS = 0.12


@dataclass
class Pruned:
    """What one call deleted, per kind, and how long its longest delete transaction took."""

    cutoffs: dict[str, dt.datetime | None]
    counts: dict[str, int] = field(default_factory=lambda: {kind.key: 0 for kind in KINDS})
    batches: int = 0
    longest_batch_seconds: float = 0.0
    # Nothing of any kind was left due: the call stopped because it ran out, not on its budget.
    done: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """What was deleted, in words ("120 inbound events, 3 finished jobs"), or "nothing"."""
        labels = {kind.key: kind.label for kind in KINDS}
        parts = [f"{n:,} {labels[key]}" for key, n in self.counts.items() if n]
        return ", ".join(parts) or "nothing"


def retention_prune(
    *,
    now: dt.datetime | None = None,
    actor: ActorLike = SCHEDULER,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = DEFAULT_MAX_BATCHES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Pruned:
    """Delete what is due, a batch of each kind in turn, within the budget; one audit event
    with the counts if anything went."""
    if batch_size < 1 or max_batches < 1:
        raise ValueError("batch_size and max_batches must be at least 1")
    now = now or timezone.now()
    pruned = Pruned(cutoffs=retention_cutoffs(now))
    pending = [kind for kind in KINDS if pruned.cutoffs[kind.key] is not None]
    started = time.monotonic()

    def budget_left() -> bool:
        return pruned.batches < max_batches and time.monotonic() - started < max_seconds

    while pending and budget_left():
        for kind in list(pending):
            if not budget_left():
                break
            due = prunable(kind, pruned.cutoffs[kind.key])
            ids = list(due.values_list("pk", flat=True)[:batch_size])
            if ids:
                began = time.perf_counter()
                with transaction.atomic():
                    deleted, _ = due.filter(pk__in=ids).order_by().delete()
                took = time.perf_counter() - began
                pruned.longest_batch_seconds = max(pruned.longest_batch_seconds, took)
                pruned.counts[kind.key] += deleted
                pruned.batches += 1
                if connection.vendor == "sqlite":
                    time.sleep(SQLITE_PAUSE_SECONDS)
            if len(ids) < batch_size:
                pending.remove(kind)
    pruned.done = not pending
    if pruned.total:
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="retention.pruned",
                target_type="retention",
                target_repr="Retention",
                changes={
                    "deleted": {key: n for key, n in pruned.counts.items() if n},
                    "older_than": {
                        key: cutoff.isoformat(timespec="seconds")
                        for key, cutoff in pruned.cutoffs.items()
                        if cutoff is not None and pruned.counts[key]
                    },
                },
            )
    return pruned
