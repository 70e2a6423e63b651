"""A subscription's health: its latest finished connection test and its certificate's expiry.

A constant number of queries per page: the list page asks for the health of 50 rows at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least, RowNumber

from ..models import Certificate, ConnectionTest, Subscription
from ..models.certificates import MAX_VALIDITY_DAYS
from ..models.connection_tests import stale_before
from .setup_progress import setup_missing


@dataclass(frozen=True)
class Health:
    """What the list and the page show about a subscription's connection and certificate."""

    test: ConnectionTest | None
    certificate: Certificate | None
    key_without_certificate: bool
    # setup_progress.setup_missing: "key" or "certificate_id" while it cannot sign in yet.
    setup_missing: str = ""

    @property
    def level(self) -> str:
        if self.setup_missing:
            return "warn"
        if self.test is None or self.test.outcome == ConnectionTest.Outcome.RUNNING:
            return "warn" if self.test is not None and self.test.interrupted else ""
        return "ok" if self.test.outcome == ConnectionTest.Outcome.PASSED else "bad"

    @property
    def label(self) -> str:
        if self.setup_missing:
            return "Set-up not finished"
        if self.test is None:
            return "Not tested"
        if self.test.outcome == ConnectionTest.Outcome.RUNNING:
            return "Interrupted" if self.test.interrupted else "Running"
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


def _shown_tests():
    """The tests the health is read from: finished ones, or running ones that can no longer
    finish (interrupted); staged-certificate tests say nothing about the subscription."""
    return ConnectionTest.objects.filter(staged_certificate__isnull=True).filter(
        ~Q(outcome=ConnectionTest.Outcome.RUNNING) | Q(started_at__lt=stale_before())
    )


def with_health_rank(subscriptions):
    """Subscriptions annotated with ``health_rank``, the list's health column as a number,
    worst first: failing 0, interrupted 1, not tested 2, healthy 3. One correlated subquery
    on the (subscription, started_at) index, so a list sorted by it stays one query a page."""
    outcome = ConnectionTest.Outcome
    latest = (
        _shown_tests()
        .filter(subscription_id=OuterRef("pk"))
        .order_by("-started_at", "-id")
        .annotate(
            rank=Case(
                When(outcome=outcome.FAILED, then=Value(0)),
                When(outcome=outcome.RUNNING, then=Value(1)),
                default=Value(3),
            )
        )
        .values("rank")[:1]
    )
    return subscriptions.annotate(
        health_rank=Coalesce(Subquery(latest, output_field=IntegerField()), Value(2))
    )


def with_certificate_expiry(subscriptions):
    """Subscriptions annotated with ``certificate_expires``: when NetSuite stops accepting the
    active certificate (``Certificate.effective_not_after``: its own end, cut to
    MAX_VALIDITY_DAYS), NULL without one."""
    cut = ExpressionWrapper(
        F("not_before") + dt.timedelta(days=MAX_VALIDITY_DAYS), output_field=DateTimeField()
    )
    active = (
        Certificate.objects.filter(subscription_id=OuterRef("pk"), status=Certificate.Status.ACTIVE)
        .annotate(effective=Least(F("not_after"), cut))
        .values("effective")[:1]
    )
    return subscriptions.annotate(
        certificate_expires=Subquery(active, output_field=DateTimeField())
    )


def health_map(subscriptions) -> dict[int, Health]:
    """Health of many subscriptions (instances or ``values()`` rows) in two queries.

    Neither query touches the subscription table: the rows the page already has give the ids
    and the key fingerprints.
    """
    items = [(object_pk(item), _fingerprint(item)) for item in subscriptions]
    missing = {object_pk(item): setup_missing(item) for item in subscriptions}
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
        # The newest finished test, or a newer one that can no longer finish (interrupted).
        for t in _shown_tests()
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
            setup_missing=missing.get(pk, ""),
        )
        for pk, fingerprint in items
        if pk is not None
    }


def subscription_health(subscription: Subscription) -> Health:
    return health_map([subscription])[subscription.pk]
