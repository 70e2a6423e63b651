"""The audit trail's events: append-only, hash-chained, readable after their subjects are gone.

The chain is keyed (HMAC-SHA256 with a key from AUDIT_CHAIN_KEYS, never stored here), so
someone who can write to the table still cannot recompute a valid hash after rewriting an
event. Events written before the chain was keyed keep their plain SHA-256: the table is
append-only, so they are verified as they were written, each by the scheme it names.

Which plain events are those is recorded once (``AuditKeying``, sealed with the chain key):
without that record, a trail rewritten as plain SHA-256 from its first event would look like
one that was never keyed.
"""

import hashlib
import hmac
import json
from functools import lru_cache

from django.conf import settings
from django.db import models

__all__ = [
    "LEGACY_SCHEME",
    "AppendOnlyError",
    "AuditEvent",
    "AuditKeying",
    "UnknownChainKeyError",
    "keying_seal",
]

# Plain SHA-256, as every event was hashed before the chain was keyed.
LEGACY_SCHEME = "sha256"
KEYED_PREFIX = "hmac-sha256:"


class AppendOnlyError(Exception):
    """The application tried to change or remove an audit event."""


class UnknownChainKeyError(LookupError):
    """The event names a chain key that AUDIT_CHAIN_KEYS does not hold."""


def chain_key_id(key: str) -> str:
    # Like EncryptedTextField's key ids: an operator can tell which key signed an event
    # without the key itself being written down.
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@lru_cache(maxsize=8)
def _chain_keys(keys: tuple[str, ...]) -> tuple[str, dict[str, bytes]]:
    if not keys:
        raise UnknownChainKeyError("AUDIT_CHAIN_KEYS is empty: give at least one key.")
    return KEYED_PREFIX + chain_key_id(keys[0]), {
        KEYED_PREFIX + chain_key_id(key): key.encode() for key in keys
    }


def chain_keys() -> tuple[str, dict[str, bytes]]:
    """(the scheme new events get, scheme -> key for every configured key), newest first."""
    return _chain_keys(tuple(k.strip() for k in settings.AUDIT_CHAIN_KEYS if k.strip()))


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
    # How ``hash`` was made: LEGACY_SCHEME, or "hmac-sha256:<key id>". Rows from before the
    # keyed chain got the default when the column was added (no row was rewritten).
    hash_scheme = models.CharField(max_length=32, default=LEGACY_SCHEME)

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
        """The bytes the hash covers: every field but the hash itself.

        A legacy event's bytes are exactly what they were when it was written; a keyed one
        also covers its scheme, so it cannot be relabelled as another key's.
        """
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
        if self.hash_scheme != LEGACY_SCHEME:
            data["hash_scheme"] = self.hash_scheme
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    @property
    def is_keyed(self) -> bool:
        return self.hash_scheme != LEGACY_SCHEME

    def compute_hash(self) -> str:
        """The hash by the event's own scheme; raises UnknownChainKeyError for a key not
        configured (any longer)."""
        if not self.is_keyed:
            return hashlib.sha256(self.canonical()).hexdigest()
        key = chain_keys()[1].get(self.hash_scheme)
        if key is None:
            raise UnknownChainKeyError(
                f"the event's chain key {self.hash_scheme.removeprefix(KEYED_PREFIX)} is not "
                "among AUDIT_CHAIN_KEYS"
            )
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()

    def hash_matches(self) -> bool:
        try:
            return hmac.compare_digest(self.compute_hash(), self.hash)
        except UnknownChainKeyError:
            return False

    def seal(self) -> None:
        """Hash a new event with the newest chain key: how every event is written now."""
        self.hash_scheme = chain_keys()[0]
        self.hash = self.compute_hash()


def keying_seal(*, legacy_until_id: int, keyed_at, scheme: str) -> str:
    """The keying record's HMAC: raising its legacy point needs the chain key."""
    key = chain_keys()[1].get(scheme)
    if key is None:
        raise UnknownChainKeyError(
            f"the keying record's chain key {scheme.removeprefix(KEYED_PREFIX)} is not among "
            "AUDIT_CHAIN_KEYS"
        )
    message = f"audit-keying|{legacy_until_id}|{keyed_at.isoformat()}|{scheme}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class AuditKeyingQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit keying record is written once, never changed.")

    def delete(self):
        raise AppendOnlyError("The audit keying record is written once, never deleted.")


class AuditKeying(models.Model):
    """When this installation's chain was keyed: one row, written once (migration 0018 when a
    key is configured, else with the first keyed event), never changed.

    Plain SHA-256 events are accepted only up to ``legacy_until_id`` (the events written
    before the chain was keyed); every later event must carry a keyed hash. The row is sealed
    with the chain key, so whoever can write to the table cannot move that point forward.
    """

    keyed_at = models.DateTimeField()
    # The newest event that may carry a plain hash; 0 when none may.
    legacy_until_id = models.BigIntegerField(default=0)
    scheme = models.CharField(max_length=32)
    seal = models.CharField(max_length=64)

    objects = AuditKeyingQuerySet.as_manager()

    def __str__(self):
        return f"keyed {self.keyed_at:%Y-%m-%d %H:%M:%S}, plain events up to {self.legacy_until_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit keying record is written once, never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit keying record is written once, never deleted.")

    def seal_matches(self) -> bool:
        try:
            expected = keying_seal(
                legacy_until_id=self.legacy_until_id, keyed_at=self.keyed_at, scheme=self.scheme
            )
        except UnknownChainKeyError:
            return False
        return hmac.compare_digest(expected, self.seal)

    @classmethod
    def sealed(cls, *, legacy_until_id: int, keyed_at) -> "AuditKeying":
        scheme = chain_keys()[0]
        return cls(
            keyed_at=keyed_at,
            legacy_until_id=legacy_until_id,
            scheme=scheme,
            seal=keying_seal(legacy_until_id=legacy_until_id, keyed_at=keyed_at, scheme=scheme),
        )
