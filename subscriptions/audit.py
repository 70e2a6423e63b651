"""Writing, censoring and verifying the audit trail.

Every event carries the hash of the one before it, so an edit or a deletion in the table
breaks the chain at that point; ``verify_chain`` finds the first broken link. The hashes are
keyed (``AUDIT_CHAIN_KEYS``), so whoever rewrites an event without the key cannot make it fit.
Plain SHA-256 events are accepted only up to the point ``AuditKeying`` recorded (the events
from before the chain was keyed), so a trail rewritten as plain SHA-256 from its first event
does not pass for one that was never keyed.
"""

import hmac
import re
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from . import compiled
from .actors import ActorLike, actor_id, actor_name
from .bulk_sql import insert_one
from .locks import AUDIT_CHAIN, advisory_lock
from .middleware import current
from .models import AuditEvent, AuditKeying
from .models.audit import LEGACY_SCHEME, UnknownChainKeyError

GENESIS = "0" * 64
ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")
CHANGED = "***CHANGED***"


def censor_secret(before_set: bool, after_set: bool, fingerprint: str = "") -> list:
    """The before/after pair recorded for a secret: never its value, only that it changed."""
    after = CHANGED if after_set else "(removed)"
    if after_set and fingerprint:
        after = f"{CHANGED} (public key SHA-256 {fingerprint})"
    return ["(set)" if before_set else "(not set)", after]


def record(
    *,
    actor: ActorLike,
    action: str,
    target=None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    subscription_id=None,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event. Must run inside the transaction that makes the change."""
    return record_many(
        [
            {
                "actor": actor,
                "action": action,
                "target": target,
                "target_type": target_type,
                "target_id": target_id,
                "target_repr": target_repr,
                "subscription_id": subscription_id,
                "changes": changes,
                "reason": reason,
            }
        ]
    )[0]


def record_many(events: list[dict]) -> list[AuditEvent]:
    """Append events, each a dict of :func:`record`'s arguments, chained in the list's order
    and stored in INSERTs of 500 (the scheduler queues a thousand polls in one tick: two
    round trips, not a thousand). Must run inside the transaction that makes the changes."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change")
    if not events:
        return []
    advisory_lock(AUDIT_CHAIN)
    _record_keying()
    previous = compiled.first_value(_head)
    built = []
    for fields in events:
        event = _event(prev_hash=previous or GENESIS, **fields)
        event.seal()
        previous = event.hash
        built.append(event)
    if len(built) == 1:
        # Every change's path pays for this insert: built once, not compiled per event.
        insert_one(built[0])
    else:
        # The ids follow the list's order (one INSERT, one sequence), which is the order the
        # chain is walked in; nobody else appends meanwhile (the advisory lock).
        AuditEvent.objects.bulk_create(built, batch_size=500)
    return built


def _head(_value) -> models.QuerySet:
    """The newest event's hash, the one the next event chains to."""
    return AuditEvent.objects.order_by("-id").values_list("hash")[:1]


def _event(
    *,
    actor: ActorLike,
    action: str,
    prev_hash: str,
    target=None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    subscription_id=None,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
        if subscription_id is None and target_type == "subscription":
            subscription_id = target.pk
    ctx = current.get()
    return AuditEvent(
        created_at=timezone.now(),
        actor_id=actor_id(actor),
        actor_name=actor_name(actor)[:150],
        remote_addr=ctx.remote_addr,
        request_id=ctx.request_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        target_repr=target_repr[:255],
        subscription_id=subscription_id,
        changes={**(changes or {}), "via": ctx.via} if ctx.via else (changes or {}),
        reason=(reason or "").strip()[:2000],
        prev_hash=prev_hash,
    )


def _record_keying() -> None:
    """Write the keying record if there is none (migration 0018 writes it wherever a key was
    configured, which settings require): from here on, no plain event is accepted. It does not
    bless the plain events already there: a record found missing was removed (or the trail
    emptied), and blessing them would let whoever removed it pass off a rewritten trail."""
    global _keying_seen
    if _keying_seen:
        return  # once seen it stays (append-only); a missing one is read as this one anyway
    if not AuditKeying.objects.exists():
        AuditKeying.sealed(legacy_until_id=0, keyed_at=timezone.now()).save(force_insert=True)
    _keying_seen = True


# Whether this process saw the keying record: one query per process, not one per event.
_keying_seen = False


def parse_anchor(text: str) -> tuple[int, str]:
    """``ID:HASH`` as the audit page and ``--print-head`` show it; ValueError otherwise."""
    match = ANCHOR.match((text or "").strip().lower())
    if not match:
        raise ValueError(
            "An anchor is ID:HASH, e.g. 1234:9f86d0… (64 hexadecimal characters), as the "
            "audit page or verify_audit_chain --print-head shows it."
        )
    return int(match.group(1)), match.group(2)


@dataclass
class ChainReport:
    intact: bool
    count: int
    broken_at: int | None = None
    problem: str = ""
    head_id: int | None = None
    head_hash: str = ""
    legacy: int = 0
    # The anchor's event id when one was given and the chain still ends in its hash there.
    anchor_id: int | None = None

    def __str__(self):
        if self.intact and self.legacy:
            return f"intact, {self.count} events ({self.legacy} from before the chain was keyed)"
        if self.intact:
            return f"intact, {self.count} events"
        return f"broken at event {self.broken_at}: {self.problem}"


def verify_chain(batch_size: int = 5000, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk every event in id order; report the first one that does not fit the chain.

    The chain alone cannot show that its newest events were removed. ``anchor`` is an
    (event id, hash) pair kept outside the database from an earlier run: the walk must meet
    that event unchanged, or the trail was cut or rewritten since (an empty trail included).

    Plain SHA-256 events are accepted only up to the keying record's point, and never after
    a keyed one: past that, a plain hash is what someone without the key would have to write.
    Without a keying record (or with one whose seal does not match) no plain event is.
    """
    previous_hash = GENESIS
    count = 0
    legacy = 0
    keyed_seen = False
    last_id = 0
    anchor_seen = anchor is None
    with transaction.atomic():
        keying = AuditKeying.objects.order_by("id").first()
        legacy_until_id = keying.legacy_until_id if keying is not None else 0
        if keying is not None and not keying.seal_matches():
            if AuditEvent.objects.filter(hash_scheme=LEGACY_SCHEME).exists():
                return ChainReport(
                    False,
                    0,
                    AuditEvent.objects.order_by("id").values_list("id", flat=True).first(),
                    "the record of when the chain was keyed does not match its seal "
                    "(changed by someone without the chain key, or its key is no longer among "
                    "AUDIT_CHAIN_KEYS)",
                )
            legacy_until_id = 0
        while True:
            batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                break
            for event in batch:
                if event.prev_hash != previous_hash:
                    return ChainReport(
                        False,
                        count,
                        event.pk,
                        "its previous-hash does not match the event before it "
                        "(an event was deleted or inserted before it)",
                    )
                if event.is_keyed:
                    keyed_seen = True
                elif keyed_seen or event.pk > legacy_until_id:
                    return ChainReport(
                        False,
                        count,
                        event.pk,
                        "it has a plain hash after the chain was keyed "
                        "(rewritten by someone without the chain key)",
                    )
                else:
                    legacy += 1
                try:
                    expected = event.compute_hash()
                except UnknownChainKeyError as exc:
                    return ChainReport(
                        False, count, event.pk, f"{exc} (keep old keys after the newest one)"
                    )
                if not hmac.compare_digest(expected, event.hash):
                    return ChainReport(
                        False, count, event.pk, "its content does not match its hash (edited)"
                    )
                if anchor is not None and event.pk == anchor[0]:
                    if event.hash != anchor[1]:
                        return ChainReport(
                            False,
                            count,
                            event.pk,
                            "its hash differs from the anchor kept earlier "
                            "(the trail was rewritten from here on)",
                        )
                    anchor_seen = True
                previous_hash = event.hash
                count += 1
                last_id = event.pk
    if not anchor_seen:
        return ChainReport(
            False,
            count,
            anchor[0],
            "the anchored event is gone (events were removed from the end of the trail)",
        )
    return ChainReport(
        True,
        count,
        head_id=last_id or None,
        head_hash=previous_hash,
        legacy=legacy,
        anchor_id=anchor[0] if anchor is not None else None,
    )


def record_export(*, actor: ActorLike, filters: dict) -> AuditEvent:
    """Put an export of the trail on record, in a transaction of its own (nothing else
    changes, and the export that follows must not hold a transaction open)."""
    with transaction.atomic():
        return record(
            actor=actor,
            action="audit.exported",
            target_type="auditevent",
            target_repr="audit trail (CSV)",
            changes={"filters": filters or "(none: the whole trail)"},
        )
