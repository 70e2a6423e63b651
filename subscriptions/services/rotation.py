"""Certificates through NetSuite's certificate rotation endpoint: rotate, revoke, compare.

"Rotate through NetSuite" (:func:`certificate_rotate_through_netsuite`) runs the manual steps of
:mod:`.certificates` in one go, signed in with the active pair: generate and stage, upload to
NetSuite for the active certificate's role and entity, save the Certificate ID, test, activate.
The manual steps stay possible whenever a step fails. An upload whose answer was lost (a 5xx,
a timeout, a dropped connection) is never sent again: :mod:`netsuite.rotation` looks for it in
NetSuite's list and the rotation carries on when it is there.
:func:`certificate_netsuite_table` reads the certificates NetSuite holds for the integration
beside ours and marks the drift; :func:`certificate_revoke_in_netsuite` revokes one that is no
longer in use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace

from django.db import transaction
from django.utils import timezone

from netsuite import rotation as rotation_api
from netsuite.errors import CertificateIdUnknownError, CertificatePermissionError

from .. import audit
from ..actors import ActorLike
from ..integration import client_for
from ..models import (
    DEFAULT_KEY_TYPE,
    DEFAULT_VALIDITY_DAYS,
    EXPIRY_WARNING_DAYS,
    Certificate,
    ConnectionTest,
    NetSuiteSnapshot,
    Subscription,
)
from ..problems import REMOTE_ERRORS, Problem, Success, audit_answer
from ..selectors.certificates import (
    NETSUITE_ID_CHANGE,
    REVOKED_IN_NETSUITE,
    CertificateUse,
    active_certificate,
    certificate_by_netsuite_id,
    certificate_uses_elsewhere,
    certificates_of,
)
from ..selectors.snapshots import snapshot_of
from .certificates import (
    CertificateActionError,
    certificate_activate,
    certificate_generate,
    certificate_set_id,
    certificate_target,
)
from .connection import connection_test_run
from .errors import ServiceError
from .snapshots import snapshot_refresh_turn, snapshot_store

# -- through NetSuite's certificate rotation endpoint -------------------------------------------

ROTATION_REASON = "Rotated through NetSuite"
PERMISSION_WHERE = (
    "Setup > Users/Roles > Manage Roles > the integration's role > Permissions > Setup"
)
MANUAL_STEPS = (
    "Download the staged certificate, upload it in NetSuite (Setup > Integration > Manage "
    "Authentication > OAuth 2.0 Client Credentials (M2M) Setup) for the integration's entity "
    "and role, paste the Certificate ID NetSuite shows, test with the staged certificate and "
    "activate it."
)
ROTATION_STEPS: tuple[tuple[str, str], ...] = (
    ("generate", "New key pair generated and staged"),
    ("mapping", "Role and entity of the active certificate read from NetSuite"),
    ("upload", "Certificate uploaded to NetSuite"),
    ("certificate_id", "NetSuite's Certificate ID saved"),
    ("test", "Connection test with the new certificate"),
    ("activate", "New certificate activated, the previous one retired"),
)


@dataclass
class RotationStep:
    key: str
    label: str
    status: str = "not run"  # "ok", "failed" or "not run"
    detail: str = ""


@dataclass
class Rotation:
    """What "Rotate through NetSuite" did, step by step.

    ``problem`` is set when a step failed: its message names the step, its hint says what to
    do next (the manual steps, whose state the staged certificate keeps). The active
    certificate changes only in the last step.
    """

    steps: list[RotationStep] = field(
        default_factory=lambda: [RotationStep(key, label) for key, label in ROTATION_STEPS]
    )
    certificate: Certificate | None = None  # the staged one (active after a pass)
    previous: Certificate | None = None  # the one it replaced, retired after a pass
    netsuite_certificate_id: str = ""
    test: ConnectionTest | None = None
    problem: Problem | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None and all(s.status == "ok" for s in self.steps)

    @property
    def failed_step(self) -> RotationStep | None:
        return next((s for s in self.steps if s.status == "failed"), None)

    def step(self, key: str) -> RotationStep:
        return next(s for s in self.steps if s.key == key)

    def ok(self, key: str, detail: str = "") -> None:
        step = self.step(key)
        step.status, step.detail = "ok", detail

    def fail(
        self, key: str, problem: Problem, next_step: str, *, own_hint: bool = True
    ) -> Rotation:
        """Stop at step ``key``: the problem's hint (unless ``own_hint`` is false) and then
        ``next_step`` say what to do."""
        step = self.step(key)
        step.status, step.detail = "failed", problem.message
        hint = " ".join(p for p in (problem.hint if own_hint else "", next_step) if p)
        self.problem = replace(
            problem,
            message=f"The rotation through NetSuite stopped at “{step.label}”: "
            f"{problem.message}",
            hint=hint,
        )
        return self

    @property
    def notice(self) -> Problem | Success:
        if self.problem is not None:
            return self.problem
        cert = self.certificate
        text = (
            f"Rotated through NetSuite: the new {cert.key_label} certificate is active with "
            f"NetSuite Certificate ID {self.netsuite_certificate_id}, and its connection test "
            "passed."
        )
        if self.previous is not None and self.previous.certificate_id:
            text += (
                " NetSuite still accepts the previous certificate until it is revoked: revoke "
                "it in NetSuite once nothing else signs with it."
            )
        return Success(text)


def _ref_text(name: str | None, ref_id: str | None) -> str:
    if name and ref_id:
        return f"{name} ({ref_id})"
    return name or ref_id or "(unknown)"


def _internal_id(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _record_upload_failed(
    staged: Certificate, actor: ActorLike, problem: Problem, step: str, reason: str
) -> None:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="certificate.upload_to_netsuite_failed",
            changes={"step": [None, step], **audit_answer(problem)},
            reason=reason,
            **certificate_target(staged),
        )


def _permission_next_step() -> str:
    return (
        f"The integration's role lacks the permission '{rotation_api.PERMISSION}'. Grant it in "
        f"NetSuite ({PERMISSION_WHERE} tab) to rotate from here, or use the manual steps: "
        f"{MANUAL_STEPS} The active certificate is unchanged."
    )


def certificate_rotate_through_netsuite(
    *,
    subscription: Subscription,
    actor: ActorLike,
    key_type: str = DEFAULT_KEY_TYPE,
    days: int = DEFAULT_VALIDITY_DAYS,
    reason: str = "",
) -> Rotation:
    """Generate, upload to NetSuite, save its Certificate ID, test and activate, in one go.

    The upload signs in with the subscription's active pair and maps the new certificate to
    the role and entity NetSuite lists for the active Certificate ID. Every step is its own
    transaction, after its NetSuite call; a failed step stops the rotation with the active
    certificate untouched and the staged one kept (so the manual steps can finish it), and is
    reported in the returned :class:`Rotation`, not raised. Raises
    :class:`CertificateActionError` only before anything changed (no active pair to sign in
    with, a key type or validity out of range).
    """
    current = Subscription.objects.without_secrets().get(pk=subscription.pk)
    if not current.certificate_id or not current.private_key_fingerprint:
        raise CertificateActionError(
            "Rotating through NetSuite signs in with the active certificate, and this "
            "subscription has none yet: generate a certificate and follow the manual steps."
        )
    reason = reason or ROTATION_REASON
    rotation = Rotation()
    previous = active_certificate(current)
    staged = certificate_generate(
        subscription=current, actor=actor, key_type=key_type, days=days, reason=reason
    )
    rotation.certificate = staged
    rotation.ok(
        "generate",
        f"{staged.key_label}, valid until {staged.effective_not_after:%Y-%m-%d}",
    )

    # NetSuite: the active certificate's role and entity, then the upload (no transaction).
    manual = f"The new certificate is staged. {MANUAL_STEPS} The active certificate is unchanged."
    try:
        client = client_for(current)
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        _record_upload_failed(staged, actor, problem, "sign in", reason)
        return rotation.fail("mapping", problem, manual)
    try:
        try:
            listed = client.certificates.list()
        except CertificatePermissionError as exc:
            problem = Problem.of(exc)
            _record_upload_failed(staged, actor, problem, "list", reason)
            return rotation.fail(
                "mapping", problem, _permission_next_step(), own_hint=False
            )
        except REMOTE_ERRORS as exc:
            problem = Problem.of(exc)
            _record_upload_failed(staged, actor, problem, "list", reason)
            return rotation.fail("mapping", problem, manual)
        entry = next((c for c in listed if c.certificate_id == current.certificate_id), None)
        role = _internal_id(entry.role_id) if entry else None
        entity = _internal_id(entry.entity_id) if entry else None
        if entry is None or role is None or entity is None:
            problem = Problem(
                message=(
                    "NetSuite does not list the Certificate ID in use with its role and "
                    f"entity ({len(listed)} certificate{'s' if len(listed) != 1 else ''} "
                    "listed), so the role and entity for the new certificate are unknown."
                ),
                code="ACTIVE_CERTIFICATE_NOT_LISTED",
            )
            return rotation.fail("mapping", problem, manual, own_hint=False)
        rotation.ok(
            "mapping",
            f"role {_ref_text(entry.role_name, entry.role_id)}, entity "
            f"{_ref_text(entry.entity_name, entry.entity_id)}",
        )
        try:
            uploaded = client.certificates.upload(
                staged.certificate_pem, role=role, entity=entity
            )
        except CertificatePermissionError as exc:
            problem = Problem.of(exc)
            _record_upload_failed(staged, actor, problem, "upload", reason)
            return rotation.fail("upload", problem, _permission_next_step(), own_hint=False)
        except CertificateIdUnknownError as exc:
            with transaction.atomic():
                _record_uploaded(staged, None, entry, actor, reason)
            rotation.ok("upload", "NetSuite took it, without saying its Certificate ID")
            return rotation.fail(
                "certificate_id",
                Problem.of(exc),
                "NetSuite has the new certificate but its Certificate ID could not be told "
                "apart in NetSuite's list. Paste the Certificate ID NetSuite shows for it (Setup "
                "> Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) "
                "Setup, the newest entry for this entity and role), then test with the staged "
                "certificate and activate it. The active certificate is unchanged.",
                own_hint=False,
            )
        except REMOTE_ERRORS as exc:
            problem = Problem.of(exc)
            _record_upload_failed(staged, actor, problem, "upload", reason)
            return rotation.fail("upload", problem, manual)
    finally:
        client.close()

    rotation.netsuite_certificate_id = uploaded.certificate_id
    rotation.ok("upload", f"for role {role} and entity {entity}")
    try:
        with transaction.atomic():
            _record_uploaded(staged, uploaded, entry, actor, reason)
            staged = certificate_set_id(
                certificate=staged,
                certificate_id=uploaded.certificate_id,
                actor=actor,
                reason=reason,
            )
    except CertificateActionError as exc:
        # Replaced or discarded meanwhile (another person's action): nothing was saved.
        return rotation.fail(
            "certificate_id",
            exc.problem,
            f"NetSuite has the new certificate as {uploaded.certificate_id}; revoke it there if "
            "nobody uses it. The active certificate is unchanged.",
        )
    rotation.certificate = staged
    rotation.ok("certificate_id", uploaded.certificate_id)

    staged_test_next = (
        f"The new certificate is staged and in NetSuite as {uploaded.certificate_id}; the "
        "active certificate is unchanged. Fix what the test says, then choose 'Test with the "
        "staged certificate' and Activate, or discard the staged certificate and revoke it in "
        "NetSuite."
    )
    try:
        test = connection_test_run(subscription=current, actor=actor, certificate=staged)
    except ServiceError as exc:
        return rotation.fail("test", exc.problem, staged_test_next)
    rotation.test = test
    if test.outcome != ConnectionTest.Outcome.PASSED:
        failed = test.failed_step or {}
        problem = Problem.from_dict(failed.get("error")) or Problem("The test failed.")
        problem = problem.with_message(f"{failed.get('label', 'A step')}: {problem.message}")
        return rotation.fail("test", problem, staged_test_next)
    rotation.ok("test", "passed")

    try:
        activated = certificate_activate(certificate=staged, actor=actor, reason=reason)
    except CertificateActionError as exc:
        return rotation.fail("activate", exc.problem, staged_test_next)
    rotation.certificate = activated
    if previous is not None:
        previous = Certificate.objects.defer("private_key").get(pk=previous.pk)
        rotation.previous = previous
    rotation.ok(
        "activate",
        f"previous certificate retired{f' ({previous.certificate_id})' if previous else ''}",
    )
    return rotation


def _record_uploaded(
    staged: Certificate,
    uploaded: rotation_api.ClientCertificate | None,
    mapping: rotation_api.ClientCertificate,
    actor: ActorLike,
    reason: str,
) -> None:
    audit.record(
        actor=actor,
        action="certificate.uploaded_to_netsuite",
        changes={
            NETSUITE_ID_CHANGE: [None, uploaded.certificate_id if uploaded else "(not found)"],
            "role": [None, _ref_text(mapping.role_name, mapping.role_id)],
            "entity": [None, _ref_text(mapping.entity_name, mapping.entity_id)],
            "certificate SHA-256": [None, staged.fingerprint],
            "signed in with Certificate ID": [None, mapping.certificate_id],
        },
        reason=reason,
        **certificate_target(staged),
    )


def _names(uses: list[CertificateUse]) -> str:
    """“Beta” or “Beta” and “Gamma”: the subscriptions a refusal names."""
    quoted = [f"“{use.subscription_name}”" for use in uses]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def certificate_revoke_in_netsuite(
    *, subscription: Subscription, certificate_id: str, actor: ActorLike, reason: str = ""
) -> Certificate | None:
    """Revoke one of the integration's certificates in NetSuite; returns our row for it, if
    any. Refused for the Certificate ID the subscription signs in with, and for one another
    subscription of this dashboard (same account) signs in with. A refusal by NetSuite
    is put on record and raised with its Problem; nothing changes here either way (the
    Certificate row has no column for NetSuite's state; the audit event is the record)."""
    value = (certificate_id or "").strip()
    if not value:
        raise CertificateActionError("Choose the certificate to revoke.", "certificate_id")
    current = Subscription.objects.without_secrets().get(pk=subscription.pk)
    if value == current.certificate_id:
        raise CertificateActionError(
            "This is the active certificate: the subscription signs in with it, so revoking it "
            "would stop the integration. Rotate to a new certificate first, then revoke this "
            "one.",
            "certificate_id",
        )
    signing = [u for u in certificate_uses_elsewhere(current, [value]).get(value, []) if u.active]
    if signing:
        names = _names(signing)
        raise CertificateActionError(
            f"{names} on this dashboard sign{'s' if len(signing) == 1 else ''} in with this "
            f"certificate, so revoking it would stop {'its' if len(signing) == 1 else 'their'} "
            f"integration. Rotate {names} to a new certificate first, then revoke this one.",
            "certificate_id",
        )
    ours = certificate_by_netsuite_id(current, value)
    if ours is not None:
        ours.subscription = current
        target = certificate_target(ours)
    else:
        target = {
            "target_type": "subscription",
            "target_id": str(current.pk),
            "target_repr": current.name,
            "subscription_id": current.pk,
        }
    problem = None
    try:
        client = client_for(current)
        try:
            client.certificates.revoke(value)
        finally:
            client.close()
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=REVOKED_IN_NETSUITE if problem is None else "certificate.revoke_failed",
            changes={NETSUITE_ID_CHANGE: [None, value], **audit_answer(problem)},
            reason=reason,
            **target,
        )
    if problem is not None:
        raise CertificateActionError(
            f"NetSuite did not revoke the certificate {value}: {problem.message}",
            problem=problem.with_message(
                f"NetSuite did not revoke the certificate {value}: {problem.message}"
            ),
        )
    return ours


# -- what NetSuite holds, beside ours ------------------------------------------------------------

KIND = NetSuiteSnapshot.Kind.NETSUITE_CERTIFICATES


@dataclass
class NetSuiteCertificateRow:
    """One certificate as NetSuite lists it (``entry``), ours with that ID (``ours``), or
    both; ``marks`` are the drift between them, as ``(level, text)``."""

    certificate_id: str
    entry: rotation_api.ClientCertificate | None = None
    ours: Certificate | None = None
    in_use: bool = False  # the Certificate ID the subscription signs in with
    marks: list[tuple[str, str]] = field(default_factory=list)
    # The other subscriptions on this dashboard holding it, those signing in with it first.
    elsewhere: list[CertificateUse] = field(default_factory=list)

    @property
    def signing_elsewhere(self) -> list[CertificateUse]:
        return [use for use in self.elsewhere if use.active]

    @property
    def revocable(self) -> bool:
        return (
            self.entry is not None
            and not self.entry.revoked
            and not self.in_use
            and not self.signing_elsewhere
        )


@dataclass
class NetSuiteCertificateTable:
    rows: list[NetSuiteCertificateRow] = field(default_factory=list)
    problem: Problem | None = None  # NetSuite could not be asked; rows are ours alone
    # Set when NetSuite's list is its last answer (a snapshot) beside ours now, not read now.
    fetched_at: dt.datetime | None = None
    fetched_by: str = ""

    @property
    def drift(self) -> int:
        return sum(1 for row in self.rows if row.marks)


def _drift_marks(row: NetSuiteCertificateRow, now: dt.datetime) -> list[tuple[str, str]]:
    entry, ours = row.entry, row.ours
    marks = []
    if entry is None:
        what = "the active certificate" if row.in_use else f"our {ours.get_status_display()}"
        marks.append(("bad" if row.in_use else "warn", f"Not in NetSuite: {what.lower()} "
                      "is not in NetSuite's list"))
        return marks
    if ours is None and not row.in_use and not row.elsewhere:
        marks.append(("warn", "Not known here: not uploaded or recorded through this "
                      "dashboard"))
    if entry.revoked:
        if row.in_use or (ours is not None and ours.status == Certificate.Status.ACTIVE):
            marks.append(("bad", "Revoked in NetSuite but active here: rotate now, the "
                          "subscription cannot sign in with it"))
        elif ours is not None and ours.status == Certificate.Status.STAGED:
            marks.append(("bad", "Revoked in NetSuite: the staged certificate cannot pass "
                          "its test"))
        return marks
    days = entry.days_left(now)
    if days is not None and days < 0:
        marks.append(("bad", "Expired"))
    elif days is not None and days < EXPIRY_WARNING_DAYS:
        marks.append(("warn", f"Expires in {days} day{'s' if days != 1 else ''}"))
    if ours is not None and ours.status == Certificate.Status.RETIRED and not row.in_use:
        marks.append(("warn", "Retired here, still accepted by NetSuite: revoke it"))
    return marks


_DATES = ("valid_from", "valid_until", "created")


def _entry_data(entry: rotation_api.ClientCertificate) -> dict:
    """What a snapshot keeps of NetSuite's entry: its facts (no secret among them)."""
    data = {f.name: getattr(entry, f.name) for f in fields(entry) if f.name != "raw"}
    for name in _DATES:
        data[name] = data[name].isoformat() if data[name] is not None else None
    return data


def _entry_from(data: dict) -> rotation_api.ClientCertificate:
    dates = {name: dt.datetime.fromisoformat(data[name]) if data.get(name) else None
             for name in _DATES}
    return rotation_api.ClientCertificate(**{**data, **dates, "raw": {}})


def certificate_netsuite_table(
    *, subscription: Subscription, actor: ActorLike = None
) -> NetSuiteCertificateTable:
    """The certificates NetSuite lists for the integration beside ours, with the drift marked.

    One NetSuite call, signed in with the active pair; what it answered is kept as the
    snapshot read-only viewers are shown. When NetSuite cannot be asked the table holds ours
    alone with the :class:`Problem` (nothing is marked as drift then).
    """
    current = Subscription.objects.without_secrets().get(pk=subscription.pk)
    try:
        client = client_for(current)
        try:
            listed = client.certificates.list()
        finally:
            client.close()
    except REMOTE_ERRORS as exc:
        return _netsuite_table(current, None, Problem.of(exc))
    snapshot_store(
        subscription=current, kind=KIND, actor=actor,
        data={"certificates": [_entry_data(entry) for entry in listed]},
    )
    return _netsuite_table(current, listed)


def certificate_netsuite_known(*, subscription: Subscription) -> NetSuiteCertificateTable | None:
    """NetSuite's list as it last answered (no call) beside ours now; None when never read."""
    snapshot = snapshot_of(subscription, KIND)
    if snapshot is None or snapshot.data is None:
        return None
    current = Subscription.objects.without_secrets().get(pk=subscription.pk)
    listed = [_entry_from(data) for data in snapshot.data.get("certificates", [])]
    table = _netsuite_table(current, listed)
    table.fetched_at, table.fetched_by = snapshot.fetched_at, snapshot.fetched_by
    return table


def certificate_netsuite_refresh(
    *, subscription: Subscription, actor: ActorLike
) -> NetSuiteCertificateTable:
    """A read-only viewer's "Refresh from NetSuite": a turn of the shared window
    (``RefreshTooSoon`` without a call), then the read."""
    snapshot_refresh_turn(subscription=subscription, kind=KIND)
    return certificate_netsuite_table(subscription=subscription, actor=actor)


def _netsuite_table(
    current: Subscription,
    listed: list[rotation_api.ClientCertificate] | None,
    problem: Problem | None = None,
) -> NetSuiteCertificateTable:
    ours = certificates_of(current)
    by_id: dict[str, Certificate] = {}
    rank = {Certificate.Status.ACTIVE: 0, Certificate.Status.STAGED: 1}
    for cert in sorted(ours, key=lambda c: rank.get(c.status, 2)):
        if cert.certificate_id:
            by_id.setdefault(cert.certificate_id, cert)
    if listed is None:
        rows = [
            NetSuiteCertificateRow(cid, ours=cert, in_use=cid == current.certificate_id)
            for cid, cert in by_id.items()
            if cert.status != Certificate.Status.RETIRED
        ]
        return NetSuiteCertificateTable(rows=rows, problem=problem)
    now = timezone.now()
    rows = []
    for entry in listed:
        rows.append(
            NetSuiteCertificateRow(
                entry.certificate_id,
                entry=entry,
                ours=by_id.get(entry.certificate_id),
                in_use=entry.certificate_id == current.certificate_id,
            )
        )
    listed_ids = {entry.certificate_id for entry in listed}
    for cid, cert in by_id.items():
        if cid in listed_ids or cert.status == Certificate.Status.RETIRED:
            continue
        rows.append(NetSuiteCertificateRow(cid, ours=cert, in_use=cid == current.certificate_id))
    if current.certificate_id and current.certificate_id not in listed_ids and not any(
        row.in_use for row in rows
    ):
        rows.append(NetSuiteCertificateRow(current.certificate_id, in_use=True))
    elsewhere = certificate_uses_elsewhere(current, [row.certificate_id for row in rows])
    for row in rows:
        row.elsewhere = elsewhere.get(row.certificate_id, [])
        if row.entry is None and row.ours is None:
            row.marks = [("bad", "Not in NetSuite: the Certificate ID in use is not in "
                          "NetSuite's list")]
        else:
            row.marks = _drift_marks(row, now)
    return NetSuiteCertificateTable(rows=rows)
