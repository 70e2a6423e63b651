"""Which job workers and schedulers are alive: one row per process name, beaten every few
seconds (``services.heartbeats``).

``/readyz`` asks whether anything would run a queued job or a due poll now; the task table
cannot tell (an empty queue looks the same with and without workers), so each ``db_worker``
and ``run_scheduler`` says it is there. A row whose ``seen_at`` stopped moving is a process
that died or lost the database; nothing reads a row's age but readiness.
"""

from django.db import models

__all__ = ["SCHEDULER_TURN_SCOPE", "WorkerHeartbeat"]

# The scheduler's turn: a lease row (``ThrottleLease``) a tick holds while it runs, so a tick
# under way for longer than its heartbeat's limit still counts as a scheduler at work.
SCHEDULER_TURN_SCOPE = "ipaas-scheduler-turn"


class WorkerHeartbeat(models.Model):
    class Kind(models.TextChoices):
        WORKER = "worker", "Job worker"
        SCHEDULER = "scheduler", "Scheduler"

    # The worker's --worker-id, else host:pid; a scheduler's host:pid.
    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "seen_at"], name="heartbeat_kind_seen")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} (seen {self.seen_at:%H:%M:%S})"
