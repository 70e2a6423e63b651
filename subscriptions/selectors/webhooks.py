"""The webhook flags this dashboard last set, by Webhook Manager deployment."""

from django.db.models import Max, Prefetch
from django.db.models.functions import Lower

from ..models import Subscription, WebhookState


def webhook_states(subscription: Subscription) -> dict[int, WebhookState]:
    """Recorded state by ``scriptdeploymentid``."""
    return {s.scriptdeploymentid: s for s in WebhookState.objects.filter(subscription=subscription)}


def webhook_state(subscription: Subscription, scriptdeploymentid: int) -> WebhookState | None:
    return WebhookState.objects.filter(
        subscription=subscription, scriptdeploymentid=scriptdeploymentid
    ).first()


def webhook_version(subscription: Subscription) -> int:
    """The newest recorded change of the subscription's flags, in microseconds (0: none).

    Pages compare it to drop a table answer older than a row they have just saved."""
    newest = WebhookState.objects.filter(subscription=subscription).aggregate(Max("set_at"))
    value = newest["set_at__max"]
    return int(value.timestamp() * 1_000_000) if value else 0


def webhook_overview() -> list[Subscription]:
    """Every subscription by name, each with the flags recorded for its deployments in
    ``recorded_webhooks``: support's landing page. Two queries whatever the number of rows."""
    return list(
        Subscription.objects.without_secrets()
        .order_by(Lower("name"), "id")
        .prefetch_related(Prefetch("webhook_states", to_attr="recorded_webhooks"))
    )
