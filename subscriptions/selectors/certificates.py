"""A subscription's certificates: active, staged (and whether it may be activated), retired."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Certificate, ConnectionTest, Subscription


def passing_test(cert: Certificate) -> ConnectionTest | None:
    """The passed connection test that clears a staged certificate for activation, if any.

    It must have signed with this certificate's key and its current Certificate ID, after that
    ID was last set.
    """
    if not cert.certificate_id or cert.certificate_id_set_at is None:
        return None
    latest = (
        ConnectionTest.objects.filter(
            staged_certificate=cert, started_at__gte=cert.certificate_id_set_at
        )
        .exclude(outcome=ConnectionTest.Outcome.RUNNING)
        .order_by("-started_at", "-id")
        .first()
    )
    if (
        latest is not None
        and latest.outcome == ConnectionTest.Outcome.PASSED
        and latest.netsuite_certificate_id == cert.certificate_id
        and latest.key_fingerprint == cert.public_key_fingerprint
    ):
        return latest
    return None


def active_certificate(subscription: Subscription) -> Certificate | None:
    return subscription.certificates.filter(status=Certificate.Status.ACTIVE).first()


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
