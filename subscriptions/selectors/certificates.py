"""A subscription's certificates: active, staged (and whether it may be activated), retired."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import AuditEvent, Certificate, ConnectionTest, Subscription


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
    # The Certificate ID the active one replaced, not revoked in NetSuite from here yet, and
    # our row for it (None for a key typed into the form).
    previous_certificate_id: str = ""
    previous: Certificate | None = None


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
    previous_id = previous_to_revoke(subscription) if active is not None else ""
    return CertificateOverview(
        active=active,
        staged=staged,
        retired=retired,
        staged_test=staged_test,
        staged_ready=ready,
        key_without_certificate=active is None and bool(subscription.private_key_fingerprint),
        previous_certificate_id=previous_id,
        previous=next((c for c in retired if previous_id and c.certificate_id == previous_id),
                      None),
    )


# -- what the dashboard revoked in NetSuite ------------------------------------------------------

# The audit trail is the record of a revocation in NetSuite (the Certificate row has no column
# for it): the service writes these, the selectors read them back.
REVOKED_IN_NETSUITE = "certificate.revoked_in_netsuite"
ACTIVATED = "certificate.activated"
NETSUITE_ID_CHANGE = "NetSuite Certificate ID"


def revoked_in_netsuite(subscription: Subscription) -> set[str]:
    """The NetSuite Certificate IDs this dashboard revoked for the subscription (one query)."""
    revoked = set()
    for changes in AuditEvent.objects.filter(
        subscription_id=subscription.pk, action=REVOKED_IN_NETSUITE
    ).values_list("changes", flat=True):
        value = (changes or {}).get(NETSUITE_ID_CHANGE)
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
            revoked.add(value[1])
    return revoked


def previous_to_revoke(subscription: Subscription) -> str:
    """The Certificate ID the subscription signed in with before its latest activation, while
    this dashboard has not revoked it in NetSuite ("" otherwise): what "Revoke the previous
    certificate in NetSuite" offers. Two queries at most."""
    changes = (
        AuditEvent.objects.filter(subscription_id=subscription.pk, action=ACTIVATED)
        .order_by("-id")
        .values_list("changes", flat=True)
        .first()
    )
    value = (changes or {}).get("certificate_id")
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        return ""
    previous = value[0]
    if not previous or previous == subscription.certificate_id:
        return ""
    if previous in revoked_in_netsuite(subscription):
        return ""
    return previous


def certificate_by_netsuite_id(subscription: Subscription, certificate_id: str):
    """Our certificate with that NetSuite Certificate ID (the newest, if several), or None."""
    if not certificate_id:
        return None
    return (
        Certificate.objects.filter(subscription=subscription, certificate_id=certificate_id)
        .defer("private_key")
        .order_by("-created_at", "-id")
        .first()
    )


def certificates_of(subscription: Subscription) -> list[Certificate]:
    """Every certificate of the subscription, without the staged key (one query)."""
    return list(Certificate.objects.filter(subscription=subscription).defer("private_key"))


# -- the same NetSuite certificate held by other subscriptions here -----------------------------


@dataclass(frozen=True)
class CertificateUse:
    """Another subscription of this dashboard that holds a NetSuite Certificate ID: signs in
    with it (``active``) or has it as a staged or retired certificate."""

    subscription_id: int
    subscription_name: str
    status: str  # a Certificate.Status value

    @property
    def active(self) -> bool:
        return self.status == Certificate.Status.ACTIVE


def certificate_uses_elsewhere(
    subscription: Subscription, certificate_ids
) -> dict[str, list[CertificateUse]]:
    """For each of ``certificate_ids``, the other subscriptions on this dashboard holding it,
    active ones first (two queries).

    Only subscriptions of the same NetSuite account count: a Certificate ID names a
    certificate within one account. Signing in with it is the subscription's own Certificate
    ID; a Certificate row adds the staged and retired ones (and an upload here)."""
    ids = {cid for cid in certificate_ids if cid}
    if not ids:
        return {}
    found: dict[tuple[str, int], CertificateUse] = {}
    for pk, name, cid in (
        Subscription.objects.filter(
            account_id__iexact=subscription.account_id, certificate_id__in=ids
        )
        .exclude(pk=subscription.pk)
        .values_list("pk", "name", "certificate_id")
    ):
        found[(cid, pk)] = CertificateUse(pk, name, Certificate.Status.ACTIVE)
    rank = {Certificate.Status.ACTIVE: 0, Certificate.Status.STAGED: 1}
    for pk, name, cid, status in (
        Certificate.objects.filter(
            subscription__account_id__iexact=subscription.account_id, certificate_id__in=ids
        )
        .exclude(subscription_id=subscription.pk)
        .values_list("subscription_id", "subscription__name", "certificate_id", "status")
    ):
        known = found.get((cid, pk))
        if known is None or rank.get(status, 2) < rank.get(known.status, 2):
            found[(cid, pk)] = CertificateUse(pk, name, status)
    uses: dict[str, list[CertificateUse]] = {}
    for (cid, _pk), use in sorted(
        found.items(), key=lambda kv: (rank.get(kv[1].status, 2), kv[1].subscription_name.lower())
    ):
        uses.setdefault(cid, []).append(use)
    return uses
