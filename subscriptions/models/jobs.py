"""One row per run of background work (initialization, inventory polls).

A job outlives the worker that runs it: its heartbeat says a worker is still on it, its
checkpoint what is already stored, so a job whose worker died is resumed by another from
there rather than restarted. ``attempts`` counts the starts and fences them: a worker writes
only while the job is running under its own attempt number, so one declared lost that wakes
up again cannot overwrite the worker that took over.
"""

import datetime as dt

from django.db import models
from django.utils import timezone

from .subscription import Subscription

__all__ = ["Job"]

LOG_KEPT = 50


# The parts of an inventory poll, by their type keys in ``counts`` (services/polling.py).
POLL_PARTS = (("inventoryitem", "Items"), ("inventorylevel", "Stock levels"))


class Job(models.Model):
    class Kind(models.TextChoices):
        INITIALIZATION = "initialization", "Initialization"
        INVENTORY_POLL = "inventory_poll", "Inventory poll"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=32, choices=Kind.choices)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # What the kind needs to know (initialization: the data types, in transfer order).
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    # Per part (initialization: per data type) {"read", "created", "updated", "unchanged"}.
    counts = models.JSONField(default=dict, blank=True)
    # The newest LOG_KEPT lines: [{"at": iso, "text": str}]; never a secret.
    log = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)
    # The failure shown to people (a Problem as a dict), when it failed.
    error = models.JSONField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="job_sub_created"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
            # Retention (services/retention.py) prunes finished jobs by when they finished.
            models.Index(fields=["finished_at"], name="job_finished"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == self.Status.SUCCEEDED else None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def types(self) -> list[str]:
        return list(self.params.get("types") or [])

    @property
    def window(self) -> tuple[dt.datetime | None, dt.datetime | None] | None:
        """An inventory poll's (from, to); from ``None`` is every item. ``None`` for others."""
        window = self.params.get("window")
        if not isinstance(window, dict):
            return None

        def moment(value):
            return dt.datetime.fromisoformat(value) if isinstance(value, str) else None

        return moment(window.get("from")), moment(window.get("to"))

    @property
    def poll_counts(self) -> list[tuple[str, dict]]:
        """An inventory poll's read / created / updated / unchanged per part, items first
        (named here: a JSON object's key order is not kept by PostgreSQL's jsonb)."""
        counts = self.counts or {}
        return [(label, counts[key]) for key, label in POLL_PARTS if key in counts]
