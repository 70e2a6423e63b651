"""Connection tests: the history of a subscription and its latest finished test."""

from ..models import ConnectionTest, Subscription

HISTORY_SHOWN = 10


def finished_own_tests():
    return ConnectionTest.objects.filter(staged_certificate__isnull=True).exclude(
        outcome=ConnectionTest.Outcome.RUNNING
    )


def connection_history(subscription: Subscription, limit: int = HISTORY_SHOWN):
    return list(
        ConnectionTest.objects.filter(subscription=subscription)
        .select_related("staged_certificate")
        .defer("staged_certificate__private_key", "staged_certificate__certificate_pem")
        .order_by("-started_at", "-id")[:limit]
    )


def latest_own_test(subscription: Subscription) -> ConnectionTest | None:
    # Finished only: a page must never pick up (and continue) someone's unfinished test.
    return finished_own_tests().filter(subscription=subscription).order_by(
        "-started_at", "-id"
    ).first()


def connection_test_get(subscription_id: int, pk: int) -> ConnectionTest | None:
    """One test of one subscription (the API's result by id), or ``None``."""
    return ConnectionTest.objects.filter(pk=pk, subscription_id=subscription_id).first()
