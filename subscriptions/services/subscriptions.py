import secrets

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..models import Subscription

# Fields compared and recorded in the audit trail, in form order.
PLAIN_FIELDS = [
    "name",
    "version",
    "inventory_search_days",
    "environment",
    "consumer_id",
    "account_id",
    "certificate_id",
    "api_url",
    "api_throttle_limit",
    "api_throttle_seconds",
    "ipaas_throttle_limit",
    "ipaas_throttle_seconds",
    "concurrent_connections",
]


class ConflictError(Exception):
    """Someone saved the subscription after this form was opened."""

    def __init__(self, current: Subscription, changed: dict):
        self.current = current
        self.changed = changed  # field label -> current value (secrets as "changed")
        super().__init__("The subscription was changed by someone else meanwhile.")


def _key_metadata(pem: str) -> tuple[str, str]:
    from netsuite.certificates import describe_key, load_private_key

    info = describe_key(load_private_key(pem))
    return info.label, info.fingerprint


def _label(field: str) -> str:
    return str(Subscription._meta.get_field(field).verbose_name)


def _apply(subscription: Subscription, data: dict) -> dict:
    """Set the submitted values; return the audit diff {field: [before, after]}."""
    changes = {}
    for field in PLAIN_FIELDS:
        if field not in data:
            continue
        before, after = getattr(subscription, field), data[field]
        if before != after:
            changes[field] = [before, after]
            setattr(subscription, field, after)
    new_key = data.get("private_key") or ""
    if new_key and new_key != subscription.private_key:
        had_key = bool(subscription.private_key_fingerprint)
        subscription.private_key = new_key
        subscription.private_key_type, subscription.private_key_fingerprint = _key_metadata(new_key)
        changes["private_key"] = audit.censor_secret(
            had_key, True, subscription.private_key_fingerprint
        )
    return changes


def _new_webhook_key(subscription: Subscription) -> str:
    key = secrets.token_urlsafe(32)
    subscription.webhook_api_key = key
    subscription.webhook_api_key_digest = Subscription.digest_webhook_key(key)
    subscription.webhook_api_key_set_at = timezone.now()
    return key


def subscription_create(*, data: dict, actor, reason: str = "") -> tuple[Subscription, str]:
    """Create a subscription and its Webhook API Key; returns (subscription, the new key)."""
    subscription = Subscription()
    with transaction.atomic():
        changes = _apply(subscription, data)
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
    return subscription, key


def subscription_update(
    *, subscription: Subscription, data: dict, expected_revision: int, actor, reason: str = ""
) -> Subscription:
    """Save the changes unless someone else saved since `expected_revision`."""
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if current.revision != expected_revision:
            raise ConflictError(current, _differences(subscription, current))
        changes = _apply(current, data)
        if not changes:
            return current
        current.revision += 1
        current.save()
        audit.record(
            actor=actor,
            action="subscription.updated",
            target=current,
            changes=changes,
            reason=reason,
        )
    return current


def _differences(opened: Subscription, current: Subscription) -> dict:
    """What changed between the version the person opened and the saved one, by label."""
    changed = {}
    for field in PLAIN_FIELDS:
        if getattr(opened, field) != getattr(current, field):
            changed[_label(field)] = [getattr(opened, field), getattr(current, field)]
    if opened.private_key_fingerprint != current.private_key_fingerprint:
        changed[_label("private_key")] = ["(previous key)", audit.CHANGED]
    if opened.webhook_api_key_digest != current.webhook_api_key_digest:
        changed[_label("webhook_api_key")] = ["(previous key)", audit.CHANGED]
    return changed


def subscription_delete(*, subscription: Subscription, actor, reason: str = "") -> None:
    with transaction.atomic():
        snapshot = {f: [getattr(subscription, f), None] for f in PLAIN_FIELDS}
        audit.record(
            actor=actor,
            action="subscription.deleted",
            target=subscription,
            changes=snapshot,
            reason=reason,
        )
        subscription.delete()


def webhook_key_regenerate(*, subscription: Subscription, actor, reason: str = "") -> str:
    """A new Webhook API Key; the plaintext is returned once for the page to show."""
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription.pk)
        key = _new_webhook_key(current)
        current.revision += 1
        current.save()
        audit.record(
            actor=actor,
            action="subscription.webhook_key_regenerated",
            target=current,
            changes={"webhook_api_key": audit.censor_secret(True, True)},
            reason=reason,
        )
    return key
