"""What the dashboard remembers about its conversations with NetSuite.

- ``Certificate``: every key pair a subscription used or is about to use. The active one's
  private key lives on the subscription (``Subscription.private_key``); a staged one keeps its
  own key here until it is activated (moved) or retired (wiped). Retired rows keep only public
  facts (fingerprints, dates) for the audit.
- ``ConnectionTest``: the steps and outcome of each connection test, kept as history and shown
  as the health badge.
- ``WebhookState``: the create/update/delete flags the dashboard last set on each Webhook
  Manager deployment. NetSuite's GET does not report them, so this is the only record of them.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .fields import EncryptedTextField
from .models import Subscription

__all__ = ["Certificate", "ConnectionTest", "WebhookState"]

EXPIRY_WARNING_DAYS = 30


class Certificate(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STAGED = "staged", "Staged"
        RETIRED = "retired", "Retired"

    class Source(models.TextChoices):
        GENERATED = "generated", "Generated here"
        UPLOADED = "uploaded", "Uploaded"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="certificates"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STAGED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERATED)
    certificate_pem = models.TextField("Certificate (PEM)")
    # Only while staged: activation moves it to the subscription, retirement wipes it.
    private_key = EncryptedTextField(blank=True, default="")
    certificate_id = models.CharField("Certificate ID", max_length=255, blank=True, default="")
    certificate_id_set_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField("Certificate SHA-256", max_length=95)
    public_key_fingerprint = models.CharField("Public key SHA-256", max_length=95)
    key_label = models.CharField("Key", max_length=20)
    subject = models.CharField(max_length=255, blank=True, default="")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    activated_by = models.CharField(max_length=150, blank=True, default="")
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.CharField(max_length=150, blank=True, default="")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status="active"),
                name="certificate_one_active_per_subscription",
            ),
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status="staged"),
                name="certificate_one_staged_per_subscription",
            ),
        ]
        indexes = [models.Index(fields=["subscription", "status"], name="cert_sub_status")]

    def __str__(self):
        status = self.get_status_display()
        return f"{self.key_label} certificate {self.fingerprint[:23]}… ({status})"

    @property
    def download_name(self) -> str:
        return f"netsuite-certificate-{self.subscription_id}-{self.pk}.pem"

    def days_left(self, now=None) -> int:
        return (self.not_after - (now or timezone.now())).days

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.not_after

    @property
    def expiry_level(self) -> str:
        """"bad" once expired, "warn" within the warning period, else "ok"."""
        if self.is_expired:
            return "bad"
        if self.days_left() < EXPIRY_WARNING_DAYS:
            return "warn"
        return "ok"


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


class WebhookState(models.Model):
    """The flags last confirmed by NetSuite for one deployment (written only after its OK)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="webhook_states"
    )
    scriptdeploymentid = models.PositiveBigIntegerField()
    scriptid = models.CharField(max_length=255)
    module = models.CharField(max_length=40, blank=True, default="")
    # Not "delete": that name belongs to Model.delete().
    create_enabled = models.BooleanField(default=False)
    update_enabled = models.BooleanField(default=False)
    delete_enabled = models.BooleanField(default=False)
    set_by = models.CharField(max_length=150)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["subscription", "module", "scriptdeploymentid"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "scriptdeploymentid"],
                name="webhookstate_one_per_deployment",
            ),
        ]

    def __str__(self):
        return f"{self.scriptid} ({self.scriptdeploymentid})"

    @property
    def flags(self) -> dict[str, bool]:
        return {
            "create": self.create_enabled,
            "update": self.update_enabled,
            "delete": self.delete_enabled,
        }
