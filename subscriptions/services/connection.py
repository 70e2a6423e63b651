"""The connection test: each step of a real conversation with NetSuite, timed and explained.

Steps, in order; the first failure stops the test:

1. settings complete: account ID, Consumer ID, Certificate ID, a readable key and, when the
   certificate was uploaded here, one that is current and belongs to the key (an expired
   certificate fails here, before any call);
2. client assertion signed (algorithm, key fingerprint);
3. token obtained: a *fresh* one on purpose, stored in the shared token cache so the calls
   that follow (and every page after the test) reuse it;
4. REST call: the ``customrecord_otg_ipaas_auth_details`` collection;
5. RESTlet call: the Webhook Manager's GET, deployments found;
6. governance limits, when the integration's role may read them (skipped otherwise).

A test is a row that grows one step at a time, so the page can show each step as it completes
(one HTMX request per step) and the command line can print it; NetSuite is called outside any
transaction and each step is saved afterwards (a test run in one go saves its steps together:
:func:`connection_test_run`). The finished test goes to the audit trail with
its outcome and NetSuite's answer, never a token or a key.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from netsuite import certificates as nscert
from netsuite.accounts import normalize_account_id
from netsuite.auth import assertion_header_and_claims
from netsuite.errors import CertificateRejectedError, GovernanceNotPermittedError

from .. import audit, compiled
from ..actors import ActorLike, actor_id, actor_name
from ..bulk_sql import insert_one, pipelined
from ..integration import (
    client_for,
    credentials_for,
    credentials_for_staged,
    subscription_with_credentials,
)
from ..models import EXPIRY_WARNING_DAYS, Certificate, ConnectionTest, Subscription
from ..problems import REMOTE_ERRORS, Problem, audit_answer
from ..selectors.setup_progress import setup_refusal
from .errors import ServiceError, setup_not_finished

AUTH_DETAILS_RECORD = "customrecord_otg_ipaas_auth_details"
HISTORY_KEPT = 50
# A test run in one go saves its steps together at its end, or as soon as they took this long.
SAVE_AFTER_SECONDS = 1.0

STEPS: tuple[tuple[str, str], ...] = (
    ("settings", "Settings complete"),
    ("assertion", "Client assertion signed"),
    ("token", "Token obtained (a fresh one)"),
    ("rest", f"REST call ({AUTH_DETAILS_RECORD})"),
    ("restlet", "RESTlet call (Webhook Manager GET)"),
    ("governance", "Governance limits"),
)
STEP_LABELS = dict(STEPS)
# What a step is called when it did not succeed: "Token: NetSuite could not be reached", not
# "Token obtained (a fresh one): NetSuite could not be reached".
STEP_NAMES = {
    "settings": "Settings",
    "assertion": "Client assertion",
    "token": "Token",
    "rest": f"REST call ({AUTH_DETAILS_RECORD})",
    "restlet": "RESTlet call (Webhook Manager GET)",
    "governance": "Governance limits",
}


class ConnectionTestError(ServiceError):
    """A test that cannot start (e.g. the certificate is not staged any more)."""


class _StepFailed(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.message)


@dataclass
class StepResult:
    status: str  # "ok", "failed" or "skipped"
    detail: str = ""
    problem: Problem | None = None
    ms: int = 0

    def as_dict(self, key: str) -> dict:
        """The step as ``ConnectionTest.steps`` stores it (JSON)."""
        return {
            "key": key,
            "label": STEP_LABELS[key] if self.status == "ok" else STEP_NAMES[key],
            "status": self.status,
            "detail": self.detail,
            "error": self.problem.as_dict() if self.problem else None,
            "ms": self.ms,
        }


@dataclass
class _Runner:
    """Everything one or more steps of one test need; rebuilt for every HTTP request."""

    test: ConnectionTest
    subscription: Subscription
    staged: Certificate | None
    _client: object = field(default=None, repr=False)
    _credentials: object = field(default=None, repr=False)
    # The assertion the signing step made, traded by the token step of the same runner (a
    # test run in one go) rather than signing again; used once.
    _assertion: str | None = field(default=None, repr=False)

    @classmethod
    def load(cls, test: ConnectionTest) -> _Runner:
        # Secrets stay unread until a step needs them, so an unreadable one fails that step
        # with its explanation instead of failing the page.
        subscription = subscription_with_credentials(test.subscription_id)
        staged = None
        if test.staged_certificate_id is not None:
            staged = Certificate.objects.defer("private_key").get(pk=test.staged_certificate_id)
            staged.subscription = subscription
        return cls(test=test, subscription=subscription, staged=staged)

    def credentials(self):
        # Read once per runner: the settings step and the client both need them, and each
        # read decrypts the key and looks up the active certificate.
        if self._credentials is None:
            if self.staged is not None:
                self._credentials = credentials_for_staged(self.staged)
            else:
                self._credentials = credentials_for(self.subscription)
        return self._credentials

    @property
    def client(self):
        if self._client is None:
            self._client = client_for(self.subscription, credentials=self.credentials())
        return self._client

    def close(self):
        if self._client is not None:
            self._client.close()

    # -- the steps ---------------------------------------------------------------------------

    def settings(self) -> str:
        sub = self.subscription
        certificate_id = self.staged.certificate_id if self.staged else sub.certificate_id
        missing = [
            label
            for label, value in (
                ("Account ID", sub.account_id),
                ("Consumer ID", sub.consumer_id),
                ("Certificate ID", certificate_id),
            )
            if not (value or "").strip()
        ]
        has_key = bool(self.staged.private_key if self.staged else sub.private_key_fingerprint)
        if not has_key:
            missing.append("Certificate Private Key")
        if missing:
            raise _StepFailed(
                Problem(
                    message="Settings are missing: " + ", ".join(missing) + ".",
                    code="SETTINGS_INCOMPLETE",
                    hint="Fill them in on the subscription (or, for a staged certificate, "
                    "paste its Certificate ID); nothing was sent to NetSuite.",
                )
            )
        account = normalize_account_id(sub.account_id)
        credentials = self.credentials()
        key = nscert.load_stored_private_key(credentials.private_key_pem)
        cert_note = "certificate not uploaded here (expiry unknown)"
        if credentials.certificate_pem:
            cert = nscert.load_certificate(credentials.certificate_pem)
            info = nscert.describe_certificate(cert)
            try:
                nscert.check_certificate_current(cert)
                nscert.check_key_matches_certificate(key, cert)
            except nscert.CertificateError as exc:
                raise CertificateRejectedError(exc.message, code="CERTIFICATE_UNUSABLE") from None
            days = info.days_left()
            cert_note = f"certificate valid {days} more day{'s' if days != 1 else ''}"
            if days < EXPIRY_WARNING_DAYS:
                cert_note += " (renew it soon)"
        _ = self.client  # builds and validates the client (account ID, IDs, scopes)
        return f"Account {account}, {cert_note}"

    def assertion(self) -> str:
        self._assertion = self.client.build_assertion()
        header, _claims = assertion_header_and_claims(self._assertion)
        return (
            f"{header.get('alg')}, key SHA-256 {self.client.key_info.fingerprint[:23]}…, "
            "kid = the Certificate ID"
        )

    def token(self) -> str:
        assertion, self._assertion = self._assertion, None
        token = self.client.fetch_token(force=True, assertion=assertion)
        scopes = ", ".join(token.scopes)
        return f"valid {int(token.seconds_left()) // 60} minutes, scopes {scopes}"

    def rest(self) -> str:
        page = self.client.records.list_page(AUTH_DETAILS_RECORD, limit=10)
        total = page.get("totalResults", len(page["items"]))
        return f"{total} iPaaS Auth Details entr{'y' if total == 1 else 'ies'}"

    def restlet(self) -> str:
        deployments = self.client.webhooks.list_deployments()
        placed = sum(1 for d in deployments if d.module)
        text = f"{len(deployments)} deployment{'s' if len(deployments) != 1 else ''} found"
        if placed != len(deployments):
            text += f" ({len(deployments) - placed} not placed in a module)"
        return text

    def governance(self) -> str:
        limits = self.client.records.governance_limits()
        account = limits.get("accountConcurrencyLimit")
        if limits.get("integrationLimitType") == "integrationSpecific":
            own = limits.get("integrationConcurrencyLimit")
            return f"account concurrency {account}, this integration's own limit {own}"
        # accountLimit: no limit of its own, it shares the unallocated pool.
        pool = limits.get("accountUnallocatedConcurrencyLimit")
        return f"account concurrency {account}, shared unallocated pool {pool}"

    def run(self, key: str) -> StepResult:
        started = time.monotonic()
        try:
            detail = getattr(self, key)()
            result = StepResult("ok", detail)
        except _StepFailed as exc:
            result = StepResult("failed", problem=exc.problem)
        except GovernanceNotPermittedError as exc:
            # Only an administrator role may read governanceLimits: not a failure. The client
            # already told this refusal (400/401/403/404 alike) from an expired token.
            result = StepResult(
                "skipped",
                "this role can't read governance limits "
                f"(HTTP {exc.status or '?'} {exc.code or ''})".strip(),
            )
        except REMOTE_ERRORS as exc:
            result = StepResult("failed", problem=Problem.of(exc))
        result.ms = max(0, round((time.monotonic() - started) * 1000))
        return result


def _staged_for(subscription: Subscription, certificate: Certificate | None):
    if certificate is None:
        return None
    if (
        certificate.subscription_id != subscription.pk
        or certificate.status != Certificate.Status.STAGED
    ):
        raise ConnectionTestError(
            "That certificate is not staged on this subscription any more; reload the page."
        )
    return certificate


def connection_test_start(
    *, subscription: Subscription, actor: ActorLike, certificate: Certificate | None = None
) -> ConnectionTest:
    """A new test, not yet run; ``certificate`` (staged) tests that pair instead.

    Refused, with the missing step, for a subscription that is not ready (no key or no
    Certificate ID yet); a staged certificate brings its own pair and ID, so it may be tested.
    """
    test = _new_test(subscription=subscription, actor=actor, certificate=certificate)
    with _running_write():
        test.save(force_insert=True)
    return test


def _new_test(
    *, subscription: Subscription, actor: ActorLike, certificate: Certificate | None
) -> ConnectionTest:
    """The test :func:`connection_test_start` saves, not saved yet (or its refusal)."""
    staged = _staged_for(subscription, certificate)
    if staged is None and (why := setup_refusal(subscription)):
        raise ConnectionTestError(why, problem=setup_not_finished(why))
    return ConnectionTest(
        subscription=subscription,
        staged_certificate=staged,
        netsuite_certificate_id=(staged.certificate_id if staged else subscription.certificate_id),
        key_fingerprint=(
            staged.public_key_fingerprint if staged else subscription.private_key_fingerprint
        ),
        actor_id=actor_id(actor),
        actor_name=actor_name(actor),
    )


@contextlib.contextmanager
def _running_write():
    """One transaction for a running test's row or its steps so far. PostgreSQL is told not
    to wait for the disk at its commit (most of a commit's cost at NetSuite's speed): a crash
    of the database can lose such a write, which leaves a test nobody could finish anyway;
    what ends a test (its outcome and audit event) is committed as everything else is.
    Inside a caller's transaction nothing is changed about that transaction."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _finish_audit(test: ConnectionTest, actor: ActorLike) -> None:
    failed = test.failed_step
    summary = "; ".join(f"{s['label']}: {s['status']} ({s['ms']} ms)" for s in test.steps)
    changes = {
        "result": [None, test.outcome],
        "certificate": [
            None,
            f"staged {test.staged_certificate.key_label} certificate"
            if test.staged_certificate_id
            else "the subscription's own",
        ],
        "key SHA-256": [None, test.key_fingerprint or None],
        "steps": [None, summary],
    }
    if failed is not None:
        changes["failed step"] = [None, failed["label"]]
        changes.update(audit_answer(Problem.from_dict(failed["error"])))
    audit.record(
        actor=actor,
        action=f"connection_test.{test.outcome}",
        target_type="subscription",
        target_id=str(test.subscription_id),
        target_repr=(
            test.subscription.name
            if ConnectionTest.subscription.is_cached(test)
            else Subscription.objects.values_list("name", flat=True).get(pk=test.subscription_id)
        ),
        subscription_id=test.subscription_id,
        changes=changes,
    )


def _older_tests(subscription_id: int, keep: int = HISTORY_KEPT):
    older = (
        ConnectionTest.objects.filter(subscription_id=subscription_id)
        .order_by("-started_at", "-id")
        .values("pk")[keep:]
    )
    return ConnectionTest.objects.filter(pk__in=older)


def _older_tests_but_one(subscription_id: int):
    # Before a new test's row is inserted: it will be the one more kept.
    return _older_tests(subscription_id, HISTORY_KEPT - 1)


def _prune(subscription_id: int, *, before_insert: bool = False) -> None:
    # One DELETE with the older tests as its subquery (no list of the kept ones first),
    # compiled once: nothing refers to a test, so the ORM's collector has nothing to do.
    compiled.delete(_older_tests_but_one if before_insert else _older_tests, subscription_id)


def connection_test_step(
    *, test: ConnectionTest, actor: ActorLike, runner: _Runner | None = None
) -> ConnectionTest:
    """Run the next step of a running test and save it; returns the test as saved.

    An interrupted test (its last step older than the bound) is never continued."""
    if not test.is_running:
        return test
    index = len(test.steps)
    if index >= len(STEPS):
        return test
    key = STEPS[index][0]
    own_runner = runner is None
    runner = runner or _Runner.load(test)
    try:
        step = _step(runner, key)
    finally:
        if own_runner:
            runner.close()
    return _save_steps(test=test, index=index, steps=[step], actor=actor)


def _step(runner: _Runner, key: str) -> dict:
    """Run one step (NetSuite, no transaction); the step as it is stored."""
    return {**runner.run(key).as_dict(key), "at": timezone.now().isoformat()}


def _save_steps(
    *, test: ConnectionTest, index: int, steps: list[dict], actor: ActorLike
) -> ConnectionTest:
    """Append ``steps`` (from step ``index`` on) in one transaction, and when they end the
    test its outcome, the audit event and the pruned history too; returns the test as saved.
    A test not saved yet (:func:`connection_test_run`'s) is inserted with them."""
    ends = steps[-1]["status"] == "failed" or index + len(steps) == len(STEPS)
    # A test not saved yet (run in one go) writes only rows it reads nothing back from: its
    # statements are pipelined (three round trips with the COMMIT). An update of a saved one
    # checks how many rows it changed, which a pipeline answers only at its end.
    new = test.pk is None
    with (
        transaction.atomic() if ends else _running_write(),
        pipelined(commit=True) if new else contextlib.nullcontext(),
    ):
        if new:
            current = test
        else:
            current = (
                ConnectionTest.objects.select_for_update(of=("self",))
                .select_related("staged_certificate")
                .defer("staged_certificate__private_key")
                .get(pk=test.pk)
            )
            if current.outcome != ConnectionTest.Outcome.RUNNING or len(current.steps) != index:
                return current  # a double-submitted step already did this one
        current.steps = [*current.steps, *steps]
        failed = steps[-1]["status"] == "failed"
        if failed or len(current.steps) == len(STEPS):
            current.outcome = (
                ConnectionTest.Outcome.FAILED if failed else ConnectionTest.Outcome.PASSED
            )
            current.finished_at = timezone.now()
        if not new:
            current.save(update_fields=["steps", "outcome", "finished_at"])
        if current.outcome != ConnectionTest.Outcome.RUNNING:
            # In the pipeline, the prune goes with the audit chain's lock and head, and the
            # two inserts with the block's end: three round trips with the COMMIT.
            _prune(current.subscription_id, before_insert=new)
            _finish_audit(current, actor)
        if new:
            insert_one(current)  # a test run at NetSuite's speed: built once, not compiled
    return current


def connection_test_run(
    *,
    subscription: Subscription,
    actor: ActorLike,
    certificate: Certificate | None = None,
    on_step: Callable[[dict], None] | None = None,
) -> ConnectionTest:
    """The whole test in one go (command line, pages without JavaScript, the scheduler).

    Its steps are saved together, with the outcome and the audit event, when the test ends:
    at NetSuite's speed a transaction and a commit per step cost more than the steps
    themselves. Once a step has taken :data:`SAVE_AFTER_SECONDS`, the steps so far are saved
    at once instead, so a page watching a slow test from elsewhere sees it move and never
    takes it for interrupted. ``on_step`` hears of each step as it ends either way.

    The row itself is first written with the first steps saved (a test that never saved a
    step would only ever show as interrupted)."""
    test = _new_test(subscription=subscription, actor=actor, certificate=certificate)
    # Read again, as for a page's step: the caller's copy may be older than the database's.
    runner = _Runner.load(test)
    test.subscription = runner.subscription
    pending: list[dict] = []
    since = time.monotonic()
    try:
        for index, (key, _label) in enumerate(STEPS):
            step = _step(runner, key)
            pending.append(step)
            if on_step is not None:
                on_step(step)
            ended = step["status"] == "failed" or index + 1 == len(STEPS)
            if ended or time.monotonic() - since >= SAVE_AFTER_SECONDS:
                test = _save_steps(
                    test=test, index=index + 1 - len(pending), steps=pending, actor=actor
                )
                pending, since = [], time.monotonic()
                if test.outcome != ConnectionTest.Outcome.RUNNING or len(test.steps) != index + 1:
                    break  # ended, or driven by another request meanwhile
    finally:
        runner.close()
    return test
