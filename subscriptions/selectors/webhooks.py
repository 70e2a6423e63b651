"""The webhook flags this dashboard last set, by Webhook Manager deployment."""

from ..models import Subscription, WebhookState


def webhook_states(subscription: Subscription) -> dict[int, WebhookState]:
    """Recorded state by ``scriptdeploymentid``."""
    return {s.scriptdeploymentid: s for s in WebhookState.objects.filter(subscription=subscription)}


def webhook_state(subscription: Subscription, scriptdeploymentid: int) -> WebhookState | None:
    return WebhookState.objects.filter(
        subscription=subscription, scriptdeploymentid=scriptdeploymentid
    ).first()
