"""The steps and outcome of each connection test, kept as history and shown as the health badge."""

from django.db import models
from django.utils import timezone

from .certificates import Certificate
from .subscription import Subscription

__all__ = ["ConnectionTest"]


class ConnectionTest(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="connection_tests"
    )
    # Set when the test ran with a staged certificate instead of the subscription's own.
    staged_certificate = models.ForeignKey(
        Certificate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connection_tests",
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    # [{"key", "label", "status": "ok"|"failed"|"skipped", "ms", "detail", "error": {...}}]
    steps = models.JSONField(default=list, blank=True)
    # The Certificate ID (JWT kid) and key the test signed with, frozen as they were.
    netsuite_certificate_id = models.CharField(max_length=255, blank=True, default="")
    key_fingerprint = models.CharField(max_length=95, blank=True, default="")
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-started_at"], name="conntest_sub_started"),
        ]

    def __str__(self):
        return f"Connection test {self.pk} ({self.outcome})"

    @property
    def is_staged(self) -> bool:
        return self.staged_certificate_id is not None

    @property
    def failed_step(self) -> dict | None:
        return next((s for s in self.steps if s.get("status") == "failed"), None)

    @property
    def duration_ms(self) -> int:
        return sum(int(s.get("ms") or 0) for s in self.steps)
