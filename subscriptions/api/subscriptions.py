"""Subscriptions, read: the fields their pages show, never a secret.

The key's type and fingerprint and when the Webhook API Key was set are shown to those who
may see secrets' metadata (administrators), as on the page; the key and the private key
themselves never leave the database through the API.
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from ..permissions import has_perm
from ..selectors.setup_progress import setup_refusal
from ..selectors.subscriptions import subscription_page
from .auth import token
from .common import Id, Limit, Offset, PageMeta, Text, clean, page, subscription_or_404
from .errors import responses

router = Router(tags=["subscriptions"])
VIEW = token("view_subscription")


class KeyMetadata(Schema):
    private_key_type: str
    private_key_fingerprint: str
    webhook_api_key_set_at: dt.datetime | None


class SubscriptionOut(Schema):
    id: int
    name: str
    version: str
    environment: str
    account_id: str
    consumer_id: str
    certificate_id: str
    api_url: str
    inventory_search_days: int
    api_throttle_limit: int
    api_throttle_seconds: int
    ipaas_throttle_limit: int
    ipaas_throttle_seconds: int
    concurrent_connections: int
    inventory_polling_enabled: bool
    inventory_polling_minutes: int
    ready: bool
    setup_missing: str
    revision: int
    created_at: dt.datetime
    updated_at: dt.datetime
    # Administrators only (view_secrets_metadata), as on the page; null for the others.
    key: KeyMetadata | None


class SubscriptionPage(PageMeta):
    items: list[SubscriptionOut]


def subscription_out(subscription, user) -> dict:
    why = setup_refusal(subscription)
    data = {
        name: getattr(subscription, name)
        for name in SubscriptionOut.model_fields
        if name not in ("ready", "setup_missing", "key")
    }
    data.update(ready=not why, setup_missing=why, key=None)
    if has_perm(user, "view_secrets_metadata"):
        data["key"] = {
            "private_key_type": subscription.private_key_type,
            "private_key_fingerprint": subscription.private_key_fingerprint,
            "webhook_api_key_set_at": subscription.webhook_api_key_set_at,
        }
    return data


@router.get(
    "/subscriptions",
    **VIEW,
    response=responses({200: SubscriptionPage}),
    url_name="subscription_list",
    summary="List subscriptions (by name; q searches the name and the Account ID)",
)
def subscription_list(request, q: Text = "", limit: Limit = 50, offset: Offset = 0):
    rows, meta = page(subscription_page(search=clean(q)), limit=limit, offset=offset)
    return {**meta, "items": [subscription_out(row, request.user) for row in rows]}


@router.get(
    "/subscriptions/{subscription_id}",
    **VIEW,
    response=responses({200: SubscriptionOut}),
    url_name="subscription_detail",
    summary="One subscription",
)
def subscription_detail(request, subscription_id: Id):
    return subscription_out(subscription_or_404(subscription_id), request.user)
