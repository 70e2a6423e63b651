"""Read queries for the NetSuite actions: a constant number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from .models import Subscription
from .models_netsuite import Certificate, ConnectionTest, WebhookState
from .services.certificates import passing_test

HISTORY_SHOWN = 10


def _finished_own_tests():
    return ConnectionTest.objects.filter(staged_certificate__isnull=True).exclude(
        outcome=ConnectionTest.Outcome.RUNNING
    )


@dataclass(frozen=True)
class Health:
    """What the list and the page show about a subscription's connection and certificate."""

    test: ConnectionTest | None
    certificate: Certificate | None
    key_without_certificate: bool

    @property
    def level(self) -> str:
        if self.test is None:
            return ""
        return "ok" if self.test.outcome == ConnectionTest.Outcome.PASSED else "bad"

    @property
    def label(self) -> str:
        if self.test is None:
            return "Not tested"
        if self.test.outcome == ConnectionTest.Outcome.PASSED:
            return "Healthy"
        failed = self.test.failed_step
        return f"Failing: {failed['label']}" if failed else "Failing"

    @property
    def days_left(self) -> int | None:
        return self.certificate.days_left() if self.certificate else None


def object_pk(item) -> int | None:
    """The id of a model instance or of a ``values()`` row (the list page uses those)."""
    if isinstance(item, dict):
        return item.get("id", item.get("pk"))
    return getattr(item, "pk", None)


def _fingerprint(item) -> str:
    if isinstance(item, dict):
        return item.get("private_key_fingerprint") or ""
    return getattr(item, "private_key_fingerprint", "") or ""


def health_map(subscriptions) -> dict[int, Health]:
    """Health of many subscriptions (instances or ``values()`` rows) in two queries.

    Neither query touches the subscription table: the rows the page already has give the ids
    and the key fingerprints.
    """
    items = [(object_pk(item), _fingerprint(item)) for item in subscriptions]
    ids = [pk for pk, _ in items if pk is not None]
    if not ids:
        return {}
    newest_first = Window(
        RowNumber(),
        partition_by=[F("subscription_id")],
        order_by=[F("started_at").desc(), F("id").desc()],
    )
    tests = {
        t.subscription_id: t
        for t in _finished_own_tests()
        .filter(subscription_id__in=ids)
        .annotate(newest=newest_first)
        .filter(newest=1)
    }
    certs = {
        c.subscription_id: c
        for c in Certificate.objects.filter(
            subscription_id__in=ids, status=Certificate.Status.ACTIVE
        ).defer("private_key", "certificate_pem")
    }
    return {
        pk: Health(
            test=tests.get(pk),
            certificate=certs.get(pk),
            key_without_certificate=pk not in certs and bool(fingerprint),
        )
        for pk, fingerprint in items
        if pk is not None
    }


def subscription_health(subscription: Subscription) -> Health:
    return health_map([subscription])[subscription.pk]


@dataclass
class CertificateOverview:
    active: Certificate | None
    staged: Certificate | None
    retired: list[Certificate]
    staged_test: ConnectionTest | None  # the latest test of the staged pair
    staged_ready: bool  # a passed test clears it for activation
    key_without_certificate: bool


def certificate_overview(subscription: Subscription) -> CertificateOverview:
    certs = list(Certificate.objects.filter(subscription=subscription).defer("private_key"))
    active = next((c for c in certs if c.status == Certificate.Status.ACTIVE), None)
    staged = next((c for c in certs if c.status == Certificate.Status.STAGED), None)
    retired = [c for c in certs if c.status == Certificate.Status.RETIRED]
    staged_test = None
    ready = False
    if staged is not None:
        staged_test = (
            ConnectionTest.objects.filter(staged_certificate=staged)
            .exclude(outcome=ConnectionTest.Outcome.RUNNING)
            .order_by("-started_at", "-id")
            .first()
        )
        ready = passing_test(staged) is not None
    return CertificateOverview(
        active=active,
        staged=staged,
        retired=retired,
        staged_test=staged_test,
        staged_ready=ready,
        key_without_certificate=active is None and bool(subscription.private_key_fingerprint),
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
    return _finished_own_tests().filter(subscription=subscription).order_by(
        "-started_at", "-id"
    ).first()


def recorded_webhooks(subscription: Subscription) -> list[WebhookState]:
    return list(WebhookState.objects.filter(subscription=subscription))
