"""The only code that changes subscriptions. Each write and its audit event share one transaction.

Secrets are never read back here: rows are locked with the encrypted columns deferred, a new
private key is compared by its public-key fingerprint, and the audit trail gets only
``***CHANGED***`` and that fingerprint.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from netsuite.accounts import InvalidAccountId, api_url_for, normalize_account_id
from netsuite.certificates import (
    CertificateError,
    describe_key,
    load_private_key,
    private_key_to_pem,
)

from .. import audit
from ..actors import ActorLike
from ..locks import locked_subscription
from ..models import ENVIRONMENT_CHOICES, NUMBER_LIMITS, PLAIN_FIELDS, Subscription
from ..selectors.subscriptions import subscription_snapshot
from .errors import ConflictError, InvalidInput
from .inbound import inbound_forget


def _label(field: str) -> str:
    return str(Subscription._meta.get_field(field).verbose_name)


def _read_key(pem: str):
    try:
        return load_private_key(pem)
    except CertificateError as exc:
        raise InvalidInput({"private_key": exc.message}) from None


def _apply(subscription: Subscription, data: dict) -> dict:
    """Set the submitted values; return the audit diff {field: [before, after]}."""
    changes = {}
    for field in PLAIN_FIELDS:
        if field not in data:
            continue
        before, after = getattr(subscription, field), data[field]
        if field == "account_id":
            after = _normalized_account(after)
        if before != after:
            changes[field] = [before, after]
            setattr(subscription, field, after)
    new_key = (data.get("private_key") or "").strip()
    if new_key:
        key = _read_key(new_key)
        info = describe_key(key)
        # The same key pasted again is no change; comparing fingerprints avoids decrypting
        # the stored one.
        if info.fingerprint != subscription.private_key_fingerprint:
            had_key = bool(subscription.private_key_fingerprint)
            # Stored as bare PKCS#8: whatever else was pasted around the key (a certificate,
            # comments) is dropped, and every stored key has one shape.
            subscription.private_key = private_key_to_pem(key)
            subscription.private_key_type = info.label
            subscription.private_key_fingerprint = info.fingerprint
            changes["private_key"] = audit.censor_secret(had_key, True, info.fingerprint)
    return changes


def _normalized_account(value: str) -> str:
    try:
        return normalize_account_id(value)
    except InvalidAccountId as exc:
        raise InvalidInput({"account_id": exc.message}) from None


def _check(subscription: Subscription) -> None:
    """Rules that protect the outbound calls, enforced here whatever form or caller sent it."""
    errors = {}
    expected = api_url_for(subscription.account_id)
    if subscription.api_url != expected:
        # The API URL decides where signed assertions and tokens go: only the account's own.
        errors["api_url"] = (
            f"The API URL must be {expected} for Account ID {subscription.account_id}."
        )
    if subscription.environment not in {value for value, _ in ENVIRONMENT_CHOICES}:
        errors["environment"] = 'The only valid environment is "Production".'
    # No key or Certificate ID yet is allowed: such a subscription is saved "not ready"
    # (selectors/setup_progress.py) and every NetSuite action refuses it until both are there.
    certificate_id = subscription.certificate_id or ""
    if len(certificate_id) > 255 or any(ch.isspace() for ch in certificate_id):
        errors["certificate_id"] = (
            "A Certificate ID has no spaces and at most 255 characters; copy it again from "
            "NetSuite."
        )
    for field, (low, high) in NUMBER_LIMITS.items():
        value = getattr(subscription, field)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[field] = f"Enter a whole number from {low} to {high}."
    if errors:
        raise InvalidInput(errors)


def _name_taken(name: str) -> InvalidInput:
    return InvalidInput({"name": f"A subscription named “{name}” already exists."})


def _new_webhook_key(subscription: Subscription) -> str:
    key = secrets.token_urlsafe(32)
    subscription.webhook_api_key = key
    subscription.webhook_api_key_digest = Subscription.digest_webhook_key(key)
    subscription.webhook_api_key_set_at = timezone.now()
    return key


def subscription_create(
    *, data: dict, actor: ActorLike, reason: str = ""
) -> tuple[Subscription, str]:
    """Create a subscription and its Webhook API Key; returns (subscription, the new key)."""
    subscription = Subscription()
    try:
        with transaction.atomic():
            changes = _apply(subscription, data)
            _check(subscription)
            key = _new_webhook_key(subscription)
            changes["webhook_api_key"] = audit.censor_secret(False, True)
            subscription.save()
            audit.record(
                actor=actor,
                action="subscription.created",
                target=subscription,
                changes={f: [None, v[1]] if f in PLAIN_FIELDS else v for f, v in changes.items()},
                reason=reason,
            )
    except IntegrityError:
        # The form checks the name first; this is the race of two people creating it at once.
        if Subscription.objects.filter(name__iexact=subscription.name).exists():
            raise _name_taken(subscription.name) from None
        raise
    return subscription, key


def save_new_revision(
    *,
    subscription: Subscription,
    actor: ActorLike,
    changes: dict,
    reason: str = "",
    action: str = "subscription.updated",
    fields: list[str] | None = None,
) -> None:
    """Save a locked subscription as its next revision and put the change on record.

    Must run inside the transaction that locked it; ``fields`` limits the columns written.
    """
    subscription.revision += 1
    if fields is None:
        subscription.save()
    else:
        subscription.save(update_fields=[*fields, "revision", "updated_at"])
    # Its key or its rates may have changed: this process's inbound endpoint asks again.
    inbound_forget(subscription_id=subscription.pk)
    audit.record(
        actor=actor, action=action, target=subscription, changes=changes, reason=reason
    )


def subscription_update(
    *,
    subscription: Subscription,
    data: dict,
    expected_revision: int,
    actor: ActorLike,
    reason: str = "",
    opened: dict | None = None,
) -> Subscription:
    """Save the changes unless someone else saved since `expected_revision`.

    ``opened`` is the :func:`subscription_snapshot` the form was opened on; without it the
    given instance stands for what the person saw.
    """
    try:
        with transaction.atomic():
            current = locked_subscription(subscription.pk)
            if current.revision != expected_revision:
                seen = opened if opened is not None else subscription_snapshot(subscription)
                raise ConflictError(current, _differences(seen, current))
            changes = _apply(current, data)
            if not changes:
                return current
            _check(current)
            save_new_revision(subscription=current, actor=actor, changes=changes, reason=reason)
    except IntegrityError:
        name = data.get("name", "")
        if Subscription.objects.filter(name__iexact=name).exclude(pk=subscription.pk).exists():
            raise _name_taken(name) from None
        raise
    return current


def _differences(opened: dict, current: Subscription) -> dict:
    """What changed between the version the person opened and the saved one, by label."""
    changed = {}
    for field in PLAIN_FIELDS:
        if field in opened and opened[field] != getattr(current, field):
            changed[_label(field)] = [opened[field], getattr(current, field)]
    if opened.get("private_key_fingerprint", "") != current.private_key_fingerprint:
        changed[_label("private_key")] = ["(previous key)", audit.CHANGED]
    now_set = current.webhook_api_key_set_at
    if opened.get("webhook_api_key_set_at", "") != (now_set.isoformat() if now_set else ""):
        changed[_label("webhook_api_key")] = ["(previous key)", audit.CHANGED]
    return changed


def subscription_delete(
    *, subscription: Subscription, actor: ActorLike, reason: str = ""
) -> None:
    with transaction.atomic():
        current = locked_subscription(subscription.pk)
        snapshot = {f: [getattr(current, f), None] for f in PLAIN_FIELDS}
        snapshot["private_key"] = audit.censor_secret(
            bool(current.private_key_fingerprint), False
        )
        snapshot["webhook_api_key"] = audit.censor_secret(
            bool(current.webhook_api_key_digest), False
        )
        audit.record(
            actor=actor,
            action="subscription.deleted",
            target=current,
            changes=snapshot,
            reason=reason,
        )
        inbound_forget(subscription_id=current.pk)
        current.delete()


def webhook_key_regenerate(
    *, subscription: Subscription, actor: ActorLike, reason: str = ""
) -> str:
    """A new Webhook API Key; the plaintext is returned once for the page to show."""
    with transaction.atomic():
        current = locked_subscription(subscription.pk)
        had_key = bool(current.webhook_api_key_digest)
        key = _new_webhook_key(current)
        save_new_revision(
            subscription=current,
            actor=actor,
            action="subscription.webhook_key_regenerated",
            changes={"webhook_api_key": audit.censor_secret(had_key, True)},
            reason=reason,
        )
    # Keep the caller's object in step, so the page it renders shows the new date.
    subscription.webhook_api_key_set_at = current.webhook_api_key_set_at
    subscription.revision = current.revision
    return key
