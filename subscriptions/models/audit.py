"""The audit trail's events: append-only, hash-chained, readable after their subjects are gone."""

import hashlib
import json

from django.db import models

__all__ = ["AppendOnlyError", "AuditEvent"]


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
