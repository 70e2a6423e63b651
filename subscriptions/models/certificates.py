"""Every key pair a subscription used or is about to use.

The active one's private key lives on the subscription (``Subscription.private_key``); a
staged one keeps its own key here until it is activated (moved) or retired (wiped). Retired
rows keep only public facts (fingerprints, dates) for the audit.
"""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone

from netsuite.certificates import MAX_VALIDITY_DAYS

from ..fields import EncryptedTextField
from .subscription import SECRET_FIELDS, Subscription

__all__ = [
    "DEFAULT_KEY_TYPE",
    "DEFAULT_VALIDITY_DAYS",
    "EXPIRY_WARNING_DAYS",
    "GENERATE_KEY_TYPES",
    "Certificate",
]

EXPIRY_WARNING_DAYS = 30
# The key types NetSuite accepts that this dashboard generates, and what it proposes.
GENERATE_KEY_TYPES = {"rsa3072": "RSA 3072", "ec-p256": "EC P-256"}
DEFAULT_KEY_TYPE = "rsa3072"
DEFAULT_VALIDITY_DAYS = 365


class CertificateQuerySet(models.QuerySet):
    def with_subscription(self):
        """Each certificate with its subscription loaded alongside, without the subscription's
        secrets (a staged certificate's own key is still there when it is asked for)."""
        return self.select_related("subscription").defer(
            *(f"subscription__{name}" for name in SECRET_FIELDS)
        )


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

    objects = CertificateQuerySet.as_manager()

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

    @property
    def effective_not_after(self) -> dt.datetime:
        """When NetSuite stops accepting it: NetSuite cuts an uploaded certificate's validity
        to two years, so the earlier of its own end and two years after its start."""
        return min(self.not_after, self.not_before + dt.timedelta(days=MAX_VALIDITY_DAYS))

    @property
    def validity_cut(self) -> bool:
        """Whether NetSuite's two-year cut ends it before its own end date."""
        return self.effective_not_after < self.not_after

    def days_left(self, now=None) -> int:
        return (self.effective_not_after - (now or timezone.now())).days

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.effective_not_after

    @property
    def expiry_level(self) -> str:
        """"bad" once expired, "warn" within the warning period, else "ok"."""
        if self.is_expired:
            return "bad"
        if self.days_left() < EXPIRY_WARNING_DAYS:
            return "warn"
        return "ok"
