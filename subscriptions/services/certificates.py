"""Certificates: generate or upload a pair, stage it, give it its Certificate ID, activate it.

This is a certificate's local lifecycle, the manual steps. Doing them through NetSuite's
certificate rotation endpoint (rotate in one go, revoke there, the table of what NetSuite
holds beside ours) is :mod:`.rotation`'s, built on these.

Rotation never interrupts the running integration: a new pair is *staged* beside the active
one, the administrator uploads the certificate in NetSuite and pastes the Certificate ID
NetSuite shows, a connection test signs with the staged pair, and only a passed test lets
"Activate" swap the pairs in one transaction. The previous pair is kept as *retired*, with
its fingerprints and dates but without its private key.

A subscription's *first* pair has nothing to protect: with no key on the subscription (a new
one, saved from its Name, Account ID and Consumer ID alone) a generated or uploaded pair
becomes its key at once, and its Certificate ID is set on it directly (by hand or by
"Register in the simulator") while the subscription has none. Staging, testing and
activating are for replacing a key that is in use.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from netsuite import certificates as nscert
from netsuite.simulator.admin import SimulatorAdmin, SimulatorAdminError, SimulatorRefused

from .. import audit
from ..actors import ActorLike, actor_name
from ..locks import locked_subscription
from ..models import (
    DEFAULT_KEY_TYPE,
    DEFAULT_VALIDITY_DAYS,
    GENERATE_KEY_TYPES,
    Certificate,
    Subscription,
)
from ..problems import Problem
from ..selectors.certificates import passing_test
from .errors import ServiceError

MAX_CERTIFICATE_ID_LENGTH = 255


class CertificateActionError(ServiceError):
    """A refused certificate action; ``field`` names the form field it belongs to, ``problem``
    carries NetSuite's answer when NetSuite refused it."""

    def __init__(
        self, message: str, field: str | None = None, *, problem: Problem | None = None
    ):
        super().__init__(message, field=field, problem=problem)


def _certificate_facts(info) -> dict:
    """The certificate's public facts, as the Certificate row stores them."""
    return {
        "fingerprint": info.fingerprint,
        "public_key_fingerprint": info.public_key_fingerprint,
        "key_label": info.key.label,
        "subject": info.subject[:255],
        "not_before": info.not_before,
        "not_after": info.not_after,
    }


def certificate_target(cert: Certificate) -> dict:
    """The audit event's target fields for ``cert`` (its rotation events name it too)."""
    return {
        "target_type": "certificate",
        "target_id": str(cert.pk),
        "target_repr": f"{cert.subscription.name}: {cert.key_label} certificate",
        "subscription_id": cert.subscription_id,
    }


def _retire(cert: Certificate, by: str, now: dt.datetime) -> None:
    cert.status = Certificate.Status.RETIRED
    cert.private_key = ""
    cert.retired_at = now
    cert.retired_by = by
    cert.save(update_fields=["status", "private_key", "retired_at", "retired_by"])


def _stage(
    *,
    subscription: Subscription,
    key_pem: str,
    certificate_pem: str,
    source: str,
    actor: ActorLike,
    reason: str = "",
) -> Certificate:
    info = nscert.describe_certificate(nscert.load_certificate(certificate_pem))
    name = actor_name(actor)
    with transaction.atomic():
        locked = locked_subscription(subscription.pk)
        now = timezone.now()
        if not locked.private_key_fingerprint:
            return _install_first(
                locked, key_pem=key_pem, certificate_pem=certificate_pem, info=info,
                source=source, actor=actor, reason=reason, now=now,
            )
        replaced = Certificate.objects.select_for_update().filter(
            subscription=locked, status=Certificate.Status.STAGED
        ).first()
        changes = {}
        if replaced is not None:
            _retire(replaced, name, now)
            changes["replaced staged certificate"] = [replaced.fingerprint, "(retired)"]
        cert = Certificate.objects.create(
            subscription=locked,
            status=Certificate.Status.STAGED,
            source=source,
            certificate_pem=certificate_pem.strip() + "\n",
            private_key=key_pem,
            **_certificate_facts(info),
            created_by=name,
            created_at=now,
        )
        changes.update(
            {
                "status": [None, "staged"],
                "source": [None, cert.get_source_display()],
                "key": [None, cert.key_label],
                "certificate SHA-256": [None, cert.fingerprint],
                "private_key": audit.censor_secret(False, True, cert.public_key_fingerprint),
                "valid from": [None, cert.not_before.isoformat()],
                "valid until": [None, cert.not_after.isoformat()],
            }
        )
        audit.record(
            actor=actor,
            action="certificate.staged",
            changes=changes,
            reason=reason,
            **certificate_target(cert),
        )
    return cert


def _install_first(
    locked: Subscription,
    *,
    key_pem: str,
    certificate_pem: str,
    info,
    source: str,
    actor: ActorLike,
    reason: str,
    now: dt.datetime,
) -> Certificate:
    """The subscription's first pair, in use at once (inside ``_stage``'s transaction, on the
    locked row): nothing signs in yet, so there is nothing to stage it beside."""
    name = actor_name(actor)
    for old in Certificate.objects.select_for_update().filter(
        subscription=locked, status__in=[Certificate.Status.ACTIVE, Certificate.Status.STAGED]
    ):
        _retire(old, name, now)
    # A generated certificate cannot have been uploaded to NetSuite yet, so no Certificate ID
    # typed earlier belongs to it; an uploaded pair may be the one that ID was issued for.
    certificate_id = locked.certificate_id if source == Certificate.Source.UPLOADED else ""
    cert = Certificate.objects.create(
        subscription=locked,
        status=Certificate.Status.ACTIVE,
        source=source,
        certificate_pem=certificate_pem.strip() + "\n",
        certificate_id=certificate_id,
        certificate_id_set_at=now if certificate_id else None,
        **_certificate_facts(info),
        created_by=name,
        created_at=now,
        activated_by=name,
        activated_at=now,
    )
    changes = {
        "status": [None, "active (the subscription had no key)"],
        "source": [None, cert.get_source_display()],
        "key": [None, cert.key_label],
        "certificate SHA-256": [None, cert.fingerprint],
        "private_key": audit.censor_secret(False, True, cert.public_key_fingerprint),
        "valid from": [None, cert.not_before.isoformat()],
        "valid until": [None, cert.not_after.isoformat()],
    }
    fields = [
        "private_key", "private_key_type", "private_key_fingerprint", "revision", "updated_at"
    ]
    if certificate_id != locked.certificate_id:
        changes["certificate_id"] = [locked.certificate_id or None, certificate_id or None]
        locked.certificate_id = certificate_id
        fields.append("certificate_id")
    locked.private_key = key_pem
    locked.private_key_type = cert.key_label
    locked.private_key_fingerprint = cert.public_key_fingerprint
    locked.revision += 1
    locked.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="certificate.installed",
        changes=changes,
        reason=reason,
        **certificate_target(cert),
    )
    return cert


def certificate_generate(
    *,
    subscription: Subscription,
    actor: ActorLike,
    key_type: str = DEFAULT_KEY_TYPE,
    days: int = DEFAULT_VALIDITY_DAYS,
    reason: str = "",
) -> Certificate:
    """A new key pair and self-signed certificate, staged beside the active one (the
    subscription's key at once when it has none)."""
    if key_type not in GENERATE_KEY_TYPES:
        raise CertificateActionError(
            "Choose RSA 3072 or EC P-256: the key types NetSuite accepts that we generate.",
            "key_type",
        )
    if not isinstance(days, int) or not 1 <= days <= nscert.MAX_VALIDITY_DAYS:
        raise CertificateActionError(
            f"Validity must be between 1 and {nscert.MAX_VALIDITY_DAYS} days (NetSuite cuts "
            "certificates to two years).",
            "days",
        )
    common_name = f"iPaaS {subscription.name}"[:64]
    # Key generation is slow (RSA 3072) and needs no lock: it runs before the transaction.
    key_pem, cert_pem = nscert.generate_key_and_certificate(key_type, days, common_name)
    return _stage(
        subscription=subscription,
        key_pem=key_pem,
        certificate_pem=cert_pem,
        source=Certificate.Source.GENERATED,
        actor=actor,
        reason=reason,
    )


def certificate_upload(
    *,
    subscription: Subscription,
    private_key_pem: str,
    certificate_pem: str,
    actor: ActorLike,
    reason: str = "",
) -> Certificate:
    """Stage an existing pair (the subscription's key at once when it has none); refused
    unless the key belongs to the certificate."""
    try:
        key = nscert.load_private_key(private_key_pem or "")
    except nscert.CertificateError as exc:
        raise CertificateActionError(exc.message, "private_key") from None
    try:
        cert = nscert.load_certificate(certificate_pem or "")
    except nscert.CertificateError as exc:
        raise CertificateActionError(exc.message, "certificate") from None
    try:
        nscert.check_key_matches_certificate(key, cert)
    except nscert.CertificateError as exc:
        raise CertificateActionError(exc.message, "certificate") from None
    try:
        nscert.check_certificate_current(cert)
    except nscert.CertificateError as exc:
        raise CertificateActionError(exc.message, "certificate") from None
    # Stored in one shape (PKCS#8 key, one PEM certificate): whatever else the files held
    # (chains, comments, a key in the certificate file) is dropped.
    return _stage(
        subscription=subscription,
        key_pem=nscert.private_key_to_pem(key),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        source=Certificate.Source.UPLOADED,
        actor=actor,
        reason=reason,
    )


def _locked_staged(certificate: Certificate) -> Certificate:
    cert = (
        Certificate.objects.select_for_update().with_subscription().get(pk=certificate.pk)
    )
    if cert.status != Certificate.Status.STAGED:
        raise CertificateActionError(
            f"This certificate is {cert.get_status_display().lower()}, not staged; reload the "
            "page to see its current state."
        )
    return cert


def certificate_set_id(
    *, certificate: Certificate, certificate_id: str, actor: ActorLike, reason: str = ""
) -> Certificate:
    """Record the Certificate ID NetSuite showed after the staged certificate's upload, or
    after the active one's while the subscription has none (its first pair, set-up)."""
    value = (certificate_id or "").strip()
    if not value:
        raise CertificateActionError(
            "Paste the Certificate ID NetSuite shows beside the uploaded certificate.",
            "certificate_id",
        )
    if len(value) > MAX_CERTIFICATE_ID_LENGTH or any(c.isspace() for c in value):
        raise CertificateActionError(
            "A Certificate ID has no spaces and at most 255 characters; copy it again from "
            "NetSuite.",
            "certificate_id",
        )
    with transaction.atomic():
        if certificate.status == Certificate.Status.ACTIVE:
            return _set_first_id(certificate, value, actor, reason)
        cert = _locked_staged(certificate)
        if cert.certificate_id == value:
            return cert
        before = cert.certificate_id or None
        cert.certificate_id = value
        cert.certificate_id_set_at = timezone.now()
        cert.save(update_fields=["certificate_id", "certificate_id_set_at"])
        audit.record(
            actor=actor,
            action="certificate.id_set",
            changes={"certificate_id": [before, value]},
            reason=reason,
            **certificate_target(cert),
        )
    return cert


def _write_id_in_use(
    cert: Certificate, subscription: Subscription, value: str, now: dt.datetime
) -> None:
    """The active certificate's ID on the certificate and its (locked) subscription at once:
    the subscription signs with it, and its revision tells an open edit form it changed."""
    cert.certificate_id = value
    cert.certificate_id_set_at = now
    cert.save(update_fields=["certificate_id", "certificate_id_set_at"])
    subscription.certificate_id = value
    subscription.revision += 1
    subscription.save(update_fields=["certificate_id", "revision", "updated_at"])


def _set_first_id(
    certificate: Certificate, value: str, actor: ActorLike, reason: str
) -> Certificate:
    """The Certificate ID of the active certificate of a subscription that has none yet: on
    the certificate and the subscription at once (inside the caller's transaction). Changing
    an ID in use is the subscription form's or a rotation's, never this."""
    subscription = locked_subscription(certificate.subscription_id)
    cert = Certificate.objects.select_for_update().with_subscription().get(pk=certificate.pk)
    if cert.status != Certificate.Status.ACTIVE or subscription.certificate_id:
        raise CertificateActionError(
            "This certificate's Certificate ID is already set (change it on the subscription's "
            "Edit page); reload the page to see its current state."
        )
    _write_id_in_use(cert, subscription, value, timezone.now())
    audit.record(
        actor=actor,
        action="certificate.id_set",
        changes={"certificate_id": [None, value]},
        reason=reason,
        **certificate_target(cert),
    )
    return cert


def certificate_activate(
    *, certificate: Certificate, actor: ActorLike, reason: str = ""
) -> Certificate:
    """Swap the staged pair in for the active one, atomically, after a passed test."""
    name = actor_name(actor)
    with transaction.atomic():
        subscription = locked_subscription(certificate.subscription_id)
        cert = _locked_staged(certificate)
        if not cert.certificate_id:
            raise CertificateActionError(
                "Paste the Certificate ID NetSuite shows for this certificate first."
            )
        if cert.is_expired:
            raise CertificateActionError(
                "This certificate has expired; generate a new one instead of activating it."
            )
        if passing_test(cert) is None:
            raise CertificateActionError(
                "Run a connection test with the staged certificate first; it must pass with "
                "the current Certificate ID before the certificate can be activated."
            )
        now = timezone.now()
        previous = Certificate.objects.select_for_update().filter(
            subscription=subscription, status=Certificate.Status.ACTIVE
        ).first()
        if previous is not None:
            _retire(previous, name, now)
        changes = {
            "certificate": [
                previous.fingerprint if previous else "(not uploaded here)",
                cert.fingerprint,
            ],
            "certificate_id": [subscription.certificate_id, cert.certificate_id],
            "private_key": audit.censor_secret(
                bool(subscription.private_key_fingerprint), True, cert.public_key_fingerprint
            ),
            "previous key SHA-256": [subscription.private_key_fingerprint or None, None],
        }
        subscription.private_key = cert.private_key
        subscription.private_key_type = cert.key_label
        subscription.private_key_fingerprint = cert.public_key_fingerprint
        subscription.certificate_id = cert.certificate_id
        subscription.revision += 1
        subscription.save(
            update_fields=[
                "private_key",
                "private_key_type",
                "private_key_fingerprint",
                "certificate_id",
                "revision",
                "updated_at",
            ]
        )
        cert.status = Certificate.Status.ACTIVE
        cert.private_key = ""  # it lives on the subscription from now on
        cert.activated_at = now
        cert.activated_by = name
        cert.save(update_fields=["status", "private_key", "activated_at", "activated_by"])
        audit.record(
            actor=actor,
            action="certificate.activated",
            changes=changes,
            reason=reason,
            **certificate_target(cert),
        )
    return cert


def certificate_discard(
    *, certificate: Certificate, actor: ActorLike, reason: str = ""
) -> Certificate:
    """Give up a staged certificate; its private key is wiped, its public facts stay."""
    with transaction.atomic():
        cert = _locked_staged(certificate)
        _retire(cert, actor_name(actor), timezone.now())
        audit.record(
            actor=actor,
            action="certificate.discarded",
            changes={
                "status": ["staged", "retired"],
                "private_key": audit.censor_secret(True, False),
            },
            reason=reason,
            **certificate_target(cert),
        )
    return cert


def certificate_install_active(
    *,
    subscription: Subscription,
    private_key_pem: str,
    certificate_pem: str,
    certificate_id: str,
    actor: ActorLike,
    reason: str = "",
) -> Certificate:
    """Make a pair active at once, without the staged test: for automation (``demo_setup``),
    which registers the certificate itself and tests the connection right after."""
    key = nscert.load_private_key(private_key_pem)
    cert = nscert.load_certificate(certificate_pem)
    nscert.check_key_matches_certificate(key, cert)
    info = nscert.describe_certificate(cert)
    name = actor_name(actor)
    with transaction.atomic():
        locked = locked_subscription(subscription.pk)
        now = timezone.now()
        previous = list(
            Certificate.objects.select_for_update().filter(
                subscription=locked,
                status__in=[Certificate.Status.ACTIVE, Certificate.Status.STAGED],
            )
        )
        same = next(
            (
                c
                for c in previous
                if c.status == Certificate.Status.ACTIVE
                and c.fingerprint == info.fingerprint
                and locked.private_key_fingerprint == info.public_key_fingerprint
            ),
            None,
        )
        if same is not None:
            # The same pair registered again (a restarted simulator): only its ID may change.
            if same.certificate_id == certificate_id == locked.certificate_id:
                return same
            changes = {"certificate_id": [locked.certificate_id, certificate_id]}
            _write_id_in_use(same, locked, certificate_id, now)
            audit.record(
                actor=actor,
                action="certificate.installed",
                changes=changes,
                reason=reason,
                **certificate_target(same),
            )
            return same
        for old in previous:
            _retire(old, name, now)
        installed = Certificate.objects.create(
            subscription=locked,
            status=Certificate.Status.ACTIVE,
            source=Certificate.Source.GENERATED,
            certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            certificate_id=certificate_id,
            certificate_id_set_at=now,
            **_certificate_facts(info),
            created_by=name,
            created_at=now,
            activated_by=name,
            activated_at=now,
        )
        changes = {
            "certificate": [
                ", ".join(c.fingerprint for c in previous) or None,
                installed.fingerprint,
            ],
            "certificate_id": [locked.certificate_id, certificate_id],
        }
        fields = ["certificate_id", "revision", "updated_at"]
        if locked.private_key_fingerprint != info.public_key_fingerprint:
            changes["private_key"] = audit.censor_secret(
                bool(locked.private_key_fingerprint), True, info.public_key_fingerprint
            )
            locked.private_key = nscert.private_key_to_pem(key)
            locked.private_key_type = info.key.label
            locked.private_key_fingerprint = info.public_key_fingerprint
            fields += ["private_key", "private_key_type", "private_key_fingerprint"]
        locked.certificate_id = certificate_id
        locked.revision += 1
        locked.save(update_fields=fields)
        audit.record(
            actor=actor,
            action="certificate.installed",
            changes=changes,
            reason=reason,
            **certificate_target(installed),
        )
    return installed


def certificate_register_in_simulator(
    *, certificate: Certificate, actor: ActorLike, reason: str = ""
) -> Certificate:
    """Simulator mode only: do what an admin does in NetSuite's certificate setup page.

    Creates the integration record when the simulator does not know the Consumer ID, uploads
    the staged certificate to the simulator's admin endpoint and saves the Certificate ID it
    answers, so the demo's rotation can be tried without leaving the dashboard. Refused
    unless NETSUITE_SIMULATOR is set: real NetSuite has no such endpoint.
    """
    if not settings.NETSUITE_SIMULATOR:
        raise CertificateActionError(
            "Only in simulator mode: upload the certificate in NetSuite and paste its ID."
        )
    cert = Certificate.objects.with_subscription().defer("private_key").get(pk=certificate.pk)
    subscription = cert.subscription
    first = cert.status == Certificate.Status.ACTIVE and not subscription.certificate_id
    if cert.status != Certificate.Status.STAGED and not first:
        raise CertificateActionError(
            "Only a staged certificate, or the active one of a subscription without a "
            "Certificate ID, can be registered."
        )
    admin = SimulatorAdmin(
        settings.NETSUITE_BASE_URL,
        timeout=(settings.NETSUITE_TIMEOUT_CONNECT, settings.NETSUITE_TIMEOUT_READ),
    )
    try:
        # In NetSuite the integration record comes first (it issues the Consumer ID); the
        # simulator has no such page, so a Consumer ID it does not know gets its record here
        # and a first run needs nothing from outside the dashboard.
        try:
            admin.create_integration(
                subscription.account_id,
                name=subscription.name,
                consumer_id=subscription.consumer_id,
            )
        except SimulatorRefused as exc:
            if "already used" not in (exc.error or ""):
                raise
        certificate_id = admin.register_certificate(
            subscription.account_id, subscription.consumer_id, cert.certificate_pem
        )
    except SimulatorAdminError as exc:
        raise CertificateActionError(str(exc)) from None
    finally:
        admin.close()
    return certificate_set_id(
        certificate=cert,
        certificate_id=certificate_id,
        actor=actor,
        reason=reason or "Registered in the simulator",
    )

