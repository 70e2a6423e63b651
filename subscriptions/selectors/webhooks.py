"""The webhook flags this dashboard last set, by Webhook Manager deployment."""

from django.db.models import Count, Max, Prefetch, Q
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


def webhook_flags_on(subscription: Subscription) -> dict[str, int]:
    """The Overview's NetSuite summary: how many deployments the dashboard has set
    (``recorded``) and how many of their flags it left on (``on``). One query."""
    counts = WebhookState.objects.filter(subscription=subscription).aggregate(
        recorded=Count("pk"),
        create=Count("pk", filter=Q(create_enabled=True)),
        update=Count("pk", filter=Q(update_enabled=True)),
        delete=Count("pk", filter=Q(delete_enabled=True)),
    )
    return {"recorded": counts["recorded"],
            "on": counts["create"] + counts["update"] + counts["delete"]}
