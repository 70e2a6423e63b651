"""Read queries for the subscription pages.

None of them loads an encrypted column: pages show a secret's status from the non-secret
columns beside it (key type, fingerprint, digest, date), so no page ever decrypts a secret,
and a key that cannot be decrypted any more does not break a page.
"""

from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from ..models import PLAIN_FIELDS, AuditEvent, Subscription

LIST_COLUMNS = (
    "id",
    "name",
    "account_id",
    "environment",
    "version",
    "private_key_fingerprint",
    "certificate_id",
    "updated_at",
)


def subscription_list():
    """Rows for the list page, one query per page whatever the number of rows.

    Ordered by the lower-cased name, which the case-insensitive unique index covers, so a
    page of 50 out of 100,000 rows is read from the index.
    """
    return Subscription.objects.order_by(Lower("name"), "id").values(*LIST_COLUMNS)


def subscription_get(pk) -> Subscription:
    """One subscription for a page or a form, its secrets left in the database (404 if none)."""
    return get_object_or_404(Subscription.objects.without_secrets(), pk=pk)


def subscription_last_change(subscription_id) -> AuditEvent | None:
    """Who saved the subscription last and when, for the conflict message."""
    return (
        AuditEvent.objects.filter(subscription_id=subscription_id)
        .only("actor_name", "created_at", "action")
        .order_by("-id")
        .first()
    )


def subscription_snapshot(subscription: Subscription) -> dict:
    """The non-secret state a form was opened on, to say later what changed meanwhile."""
    snapshot = {field: getattr(subscription, field) for field in PLAIN_FIELDS}
    snapshot["id"] = subscription.pk
    snapshot["revision"] = subscription.revision
    snapshot["private_key_fingerprint"] = subscription.private_key_fingerprint
    set_at = subscription.webhook_api_key_set_at
    snapshot["webhook_api_key_set_at"] = set_at.isoformat() if set_at else ""
    return snapshot
