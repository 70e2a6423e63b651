import hashlib
import json

from django.db import models
from django.db.models.functions import Lower

from .fields import EncryptedTextField

ENVIRONMENT_CHOICES = [("Production", "Production")]

# Allowed ranges of the numeric settings: one table for the forms and the services.
NUMBER_LIMITS = {
    "inventory_search_days": (0, 365),
    "api_throttle_limit": (1, 100_000),
    "api_throttle_seconds": (1, 86_400),
    "ipaas_throttle_limit": (1, 100_000),
    "ipaas_throttle_seconds": (1, 86_400),
    # NetSuite's largest accounts allow a few dozen; 100 leaves room without allowing typos.
    "concurrent_connections": (1, 100),
}


class Subscription(models.Model):
    """One NetSuite subscription, with the seed's fields and the throttling settings."""

    name = models.CharField("Name", max_length=120)
    version = models.CharField("Versions", max_length=20)
    inventory_search_days = models.PositiveSmallIntegerField("Inventory Search Days", default=0)
    environment = models.CharField(
        "Environment", max_length=20, choices=ENVIRONMENT_CHOICES, default="Production"
    )
    consumer_id = models.CharField("Consumer ID", max_length=255)
    account_id = models.CharField("Account ID", max_length=40)
    private_key = EncryptedTextField("Certificate Private Key", blank=True, default="")
    # Non-secret facts about the key, kept beside it so pages never need to decrypt it.
    private_key_type = models.CharField(max_length=20, blank=True, default="")
    private_key_fingerprint = models.CharField(max_length=95, blank=True, default="")
    certificate_id = models.CharField("Certificate ID", max_length=255)
    api_url = models.URLField("API URL", max_length=255)

    api_throttle_limit = models.PositiveIntegerField("API Throttle Limit")
    api_throttle_seconds = models.PositiveIntegerField("API Throttle Seconds")
    ipaas_throttle_limit = models.PositiveIntegerField("API Throttle Limit (to iPaaS)")
    ipaas_throttle_seconds = models.PositiveIntegerField("API Throttle Seconds (to iPaaS)")
    concurrent_connections = models.PositiveSmallIntegerField("Concurrent Connections")

    webhook_api_key = EncryptedTextField("Webhook API Key", blank=True, default="")
    # Lets inbound webhooks be matched without decrypting every subscription's key.
    webhook_api_key_digest = models.CharField(max_length=64, blank=True, default="", db_index=True)
    webhook_api_key_set_at = models.DateTimeField(null=True, blank=True)

    # Optimistic locking: every save increments it; a form posted against an older
    # revision is refused instead of overwriting someone else's change.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="subscription_name_ci_unique"),
        ]
        permissions = [
            ("view_secrets_metadata", "See key type and fingerprint of secrets"),
            ("manage_certificates", "Generate, upload and rotate certificates"),
            ("toggle_webhooks", "Switch per-module webhooks on and off"),
            ("run_connection_test", "Run connection tests"),
            ("edit_auth_details", "Edit the iPaaS Auth Details record in NetSuite"),
            ("start_jobs", "Start initialization and inventory polling"),
            ("view_jobs", "View jobs"),
            ("view_inbound_events", "View inbound webhook events"),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def digest_webhook_key(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()


class AppendOnlyError(Exception):
    """The application tried to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    # The database refuses too (PostgreSQL trigger); this stops the application first, on
    # every database, with a message that says why.
    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail is append-only: events are never updated.")

    def delete(self):
        raise AppendOnlyError("The audit trail is append-only: events are never deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail is append-only: events are never updated.")


class AuditEvent(models.Model):
    """An append-only record of one change, chained to the previous one by its hash.

    Who and what are frozen strings as well as ids: the record must stay readable after the
    user or the subscription is deleted, so nothing here is a database foreign key (a
    cascading SET NULL would also be an UPDATE, which the PostgreSQL trigger refuses).
    """

    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150)
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=255, blank=True, default="")
    subscription_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, default="")
    # Unique: two events claiming the same predecessor (a forked chain) cannot both be stored.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subscription_id", "-id"], name="audit_sub_id"),
            models.Index(fields=["actor_name", "-id"], name="audit_actor_id"),
            models.Index(fields=["action", "-id"], name="audit_action_id"),
            models.Index(fields=["created_at", "-id"], name="audit_created_id"),
        ]
        permissions = [("export_auditevent", "Export the audit trail")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit trail is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail is append-only: events are never deleted.")

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash itself."""
        data = {
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "remote_addr": self.remote_addr,
            "request_id": self.request_id,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_repr": self.target_repr,
            "subscription_id": self.subscription_id,
            "changes": self.changes,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    SUPPORT = "support", "Support"
    AUDITOR = "auditor", "Auditor"


def user_display(user) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "system"

from .models_netsuite import *  # noqa: E402,F401,F403  (issue #4 models, kept apart)
