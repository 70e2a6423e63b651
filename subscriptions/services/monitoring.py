"""Monitoring: scheduled connection tests, certificate-expiry warnings and failure notices,
emailed to the administrators and shown on the list.

``monitoring_run`` is called by the scheduler (``manage.py run_scheduler``) on every tick:

1. every subscription whose interval has elapsed since its last test is tested in full
   (``connection.connection_test_run``, as the command line does; NetSuite is called outside
   any transaction). The due tests are claimed first, together, by moving
   ``MonitoringSettings.last_scheduled_at`` on their locked rows (a row claimed meanwhile by
   another scheduler is left to it), so two schedulers never test one subscription twice in
   one interval. The claim costs the same queries for one due test or ten thousand; the tests
   themselves run ``MONITORING_TEST_THREADS`` at a time in the tick (each a few queries and
   NetSuite calls, mostly waiting on NetSuite), one after another on SQLite;
2. the active certificate of every subscription (scheduled tests on or off: expiry needs no
   call) gets a warning once fewer than 30, 14 and 7 days are left, and once it expired; only
   the tightest threshold reached is raised, so a certificate first seen 13 days before its
   end gets the 14-day warning, not the 30-day one as well;
3. a monitored subscription whose last ``MONITORING_FAILURES_BEFORE_NOTICE`` tests failed in
   a row gets one failure notice for that run of failures; the first passed test after it
   resolves it and raises a "recovered" notice, which re-arms the next one;
4. each new notice is emailed to the active administrators who have an email address, after
   its transaction committed; a mail server that fails is retried on the next ticks.

A notice is stored with its audit event in one transaction, once per condition: the unique
``(subscription, condition)`` makes the second of two schedulers get an IntegrityError and
store (and send) nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .. import audit, metrics
from ..actors import SYSTEM, ActorLike, actor_name
from ..middleware import carrying_context
from ..models import (
    EXPIRY_NOTICE_DAYS,
    MONITORING_MINUTES_LIMITS,
    Certificate,
    ConnectionTest,
    MonitoringNotice,
    MonitoringSettings,
    Subscription,
)
from ..selectors import monitoring as selectors
from .connection import connection_test_run
from .errors import InvalidInput, ServiceError

logger = logging.getLogger(__name__)

Kind = MonitoringNotice.Kind
Level = MonitoringNotice.Level

EMAIL_SUBJECT_PREFIX = "[iPaaS admin] "
EMAIL_TEMPLATE = "subscriptions/email/monitoring_notice.txt"
# A mail server down for this many ticks in a row: the notice stays on the pages, unsent.
EMAIL_MAX_ATTEMPTS = 5


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


# -- raising a notice -----------------------------------------------------------------------


def _raise(
    *,
    subscription_id: int,
    subscription_name: str,
    kind: str,
    condition: str,
    level: str,
    title: str,
    message: str,
    hint: str = "",
    now: dt.datetime,
    resolved: bool = False,
) -> MonitoringNotice | None:
    """Store the notice and its audit event, or nothing if the condition already has one
    (callers skip the conditions they know are stored; this catches the race)."""
    try:
        with transaction.atomic():
            notice = MonitoringNotice.objects.create(
                subscription_id=subscription_id,
                kind=kind,
                condition=condition,
                level=level,
                title=title,
                message=message,
                hint=hint,
                created_at=now,
                resolved_at=now if resolved else None,
            )
            audit.record(
                actor=SYSTEM,
                action=f"notice.{kind}",
                target_type="subscription",
                target_id=str(subscription_id),
                target_repr=subscription_name,
                subscription_id=subscription_id,
                changes={"notice": [None, title], "message": [None, message]},
            )
    except IntegrityError:
        # Stored already, or by another scheduler between the caller's look and the insert.
        return None
    return notice


def _expiry_condition(cert: Certificate, now: dt.datetime) -> str | None:
    """``cert:<pk>:<30|14|7|expired>``: the tightest threshold reached, or None."""
    if now >= cert.effective_not_after:
        return f"cert:{cert.pk}:expired"
    reached = [t for t in EXPIRY_NOTICE_DAYS if cert.days_left(now) < t]
    return f"cert:{cert.pk}:{min(reached)}" if reached else None


def _expiry_texts(cert: Certificate, now: dt.datetime) -> dict:
    end, days, name = cert.effective_not_after, cert.days_left(now), cert.subscription.name
    cut = " (NetSuite accepts a certificate for two years at most)" if cert.validity_cut else ""
    if now >= end:
        return {
            "level": Level.BAD,
            "title": "Certificate expired",
            "message": f"The certificate of {name} expired on {_when(end)}{cut}: NetSuite "
            "refuses its token requests, so every call to NetSuite fails.",
            "hint": "Rotate it now in the subscription's Certificate section: generate a new "
            "pair (or upload one), upload it to NetSuite, test it and activate it.",
        }
    return {
        "level": Level.BAD if days < min(EXPIRY_NOTICE_DAYS) else Level.WARN,
        "title": f"Certificate expires in {_days(days)}",
        "message": f"The certificate of {name} stops being accepted by NetSuite on "
        f"{_when(end)}, in {_days(days)}{cut}.",
        "hint": "Rotate it in the subscription's Certificate section before then: generate a "
        "new pair (or upload one), upload it to NetSuite, test it and activate it. The "
        "current certificate keeps working until it expires.",
    }


def _expiry_notices(now: dt.datetime) -> list[MonitoringNotice]:
    wanted = {}
    for cert in selectors.expiring_certificates(now):
        condition = _expiry_condition(cert, now)
        if condition is not None:
            wanted[(cert.subscription_id, condition)] = cert
    stored = selectors.stored_conditions(wanted)
    raised = []
    for (subscription_id, condition), cert in wanted.items():
        if (subscription_id, condition) in stored:
            continue
        notice = _raise(
            subscription_id=subscription_id,
            subscription_name=cert.subscription.name,
            kind=Kind.CERTIFICATE_EXPIRY,
            condition=condition,
            now=now,
            **_expiry_texts(cert, now),
        )
        if notice is not None:
            raised.append(notice)
            # The tighter warning replaces the wider one on the pages.
            selectors.unresolved_notices(
                kind=Kind.CERTIFICATE_EXPIRY, subscription_ids=[subscription_id]
            ).exclude(pk=notice.pk).update(resolved_at=now)
    _resolve_replaced_certificates(now)
    return raised


def _resolve_replaced_certificates(now: dt.datetime) -> None:
    """Warnings about a certificate that is no longer the active one are over."""
    active = set(
        Certificate.objects.filter(status=Certificate.Status.ACTIVE).values_list(
            "subscription_id", "pk"
        )
    )
    over = [
        notice.pk
        for notice in selectors.unresolved_notices(kind=Kind.CERTIFICATE_EXPIRY).only(
            "pk", "subscription_id", "condition"
        )
        if (notice.subscription_id, _certificate_pk(notice.condition)) not in active
    ]
    if over:
        MonitoringNotice.objects.filter(pk__in=over).update(resolved_at=now)


def _certificate_pk(condition: str) -> int | None:
    parts = condition.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _failure_texts(test: ConnectionTest | None, count: int, name: str) -> tuple[str, str]:
    failed = (test.failed_step if test else None) or {"label": "?", "error": None}
    error = failed.get("error") or {}
    message = (
        f"The last {count} connection tests of {name} failed; the latest at “{failed['label']}”"
        + (f": {error['message']}" if error.get("message") else ".")
    )
    hint = (error.get("hint") or "").strip()
    hint = (hint + " " if hint else "") + (
        "The Connection section shows each step of each test. The scheduled tests go on; the "
        "first one that passes ends this notice and you will be told."
    )
    return message, hint


def _connection_notices(now: dt.datetime) -> list[MonitoringNotice]:
    needed = max(1, settings.MONITORING_FAILURES_BEFORE_NOTICE)
    open_failing = {
        notice.subscription_id: notice
        for notice in selectors.unresolved_notices(kind=Kind.CONNECTION_FAILING)
    }
    ids = set(selectors.monitored_subscription_ids()) | set(open_failing)
    runs, last_passes = selectors.failure_runs(ids)
    names = dict(Subscription.objects.filter(pk__in=ids).values_list("pk", "name"))
    raised = []
    for pk in sorted(ids):
        run, notice = runs.get(pk), open_failing.get(pk)
        if notice is None and run is not None and run.count >= needed:
            latest = ConnectionTest.objects.filter(pk=run.last_pk).first()
            message, hint = _failure_texts(latest, run.count, names[pk])
            notice = _raise(
                subscription_id=pk,
                subscription_name=names[pk],
                kind=Kind.CONNECTION_FAILING,
                condition=f"failing:{run.first_pk}",
                level=Level.BAD,
                title=f"Connection failing: {run.count} tests in a row",
                message=message,
                hint=hint,
                now=now,
            )
            if notice is not None:
                raised.append(notice)
        elif notice is not None and run is None and pk in last_passes:
            recovered = _recover(notice, names[pk], last_passes[pk], now)
            if recovered is not None:
                raised.append(recovered)
    return raised


def _recover(
    failing: MonitoringNotice, name: str, passed_pk: int, now: dt.datetime
) -> MonitoringNotice | None:
    passed = ConnectionTest.objects.filter(pk=passed_pk).values_list("started_at", flat=True)
    when = _when(passed.first() or now)
    with transaction.atomic():
        # The conditional UPDATE decides which of two schedulers tells the recovery.
        if not MonitoringNotice.objects.filter(pk=failing.pk, resolved_at__isnull=True).update(
            resolved_at=now
        ):
            return None
        return _raise(
            subscription_id=failing.subscription_id,
            subscription_name=name,
            kind=Kind.CONNECTION_RECOVERED,
            condition=f"recovered:{failing.pk}",
            level=Level.OK,
            title="Connection recovered",
            message=(
                f"The connection test of {name} passed again ({when}), after the failures "
                f"noticed on {_when(failing.created_at)}."
            ),
            hint="Nothing to do. A new run of failures will be noticed again.",
            now=now,
            resolved=True,
        )


# -- scheduled tests ------------------------------------------------------------------------


def _claim_due(now: dt.datetime) -> list[Subscription]:
    """Take this tick's due tests, all in one transaction and a fixed number of queries: the
    rows still claimed as they were when found due (another scheduler that claimed one
    meanwhile moved its ``last_scheduled_at``; one holding its lock right now keeps it,
    ``skip_locked``). The subscriptions to test, without their secrets."""
    due = {row.pk: row.last_scheduled_at for row in selectors.due_for_test(now)}
    if not due:
        return []
    with transaction.atomic():
        seen_now = (
            MonitoringSettings.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(due))
            .values_list("pk", "last_scheduled_at")
        )
        claimed = [pk for pk, seen in seen_now if due[pk] == seen]
        MonitoringSettings.objects.filter(pk__in=claimed).update(last_scheduled_at=now)
    # Deleted meanwhile: not tested.
    return list(Subscription.objects.without_secrets().filter(pk__in=claimed).order_by("pk"))


def _scheduled_test(subscription: Subscription) -> str:
    """One due test: ``passed``, ``failed`` or ``errors`` (not run, or broken)."""
    try:
        test = connection_test_run(subscription=subscription, actor=SYSTEM)
    except ServiceError as exc:
        logger.warning("Scheduled test of %s not run: %s", subscription.name, exc.message)
        return "errors"
    except Exception:
        # A bug in one subscription's test must not stop the others' monitoring; the
        # traceback goes to the log.
        logger.exception("Scheduled connection test of %s broke", subscription.name)
        return "errors"
    return "passed" if test.outcome == ConnectionTest.Outcome.PASSED else "failed"


def _in_a_thread(subscription: Subscription) -> str:
    try:
        return _scheduled_test(subscription)
    finally:
        # A pool thread's own connection, not left open once its test is stored.
        connection.close()


def _test_threads(due: int) -> int:
    # Inside a caller's transaction the other threads' connections could not see its rows;
    # SQLite takes one writer at a time anyway.
    if connection.in_atomic_block or connection.vendor == "sqlite":
        return 1
    return max(1, min(due, settings.MONITORING_TEST_THREADS))


def _scheduled_tests(now: dt.datetime, counts: dict) -> None:
    due = _claim_due(now)
    threads = _test_threads(len(due))
    if threads == 1:
        outcomes = [_scheduled_test(subscription) for subscription in due]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="monitoring") as pool:
            outcomes = list(pool.map(carrying_context(_in_a_thread), due))
    for outcome in outcomes:
        counts[outcome] += 1
        if outcome != "errors":
            counts["tested"] += 1


# -- emails ---------------------------------------------------------------------------------


def _link(notice: MonitoringNotice) -> str:
    view = (
        "subscriptions:certificates"
        if notice.kind == Kind.CERTIFICATE_EXPIRY
        else "subscriptions:connection_tests"
    )
    return settings.DASHBOARD_URL.rstrip("/") + reverse(view, args=[notice.subscription_id])


def _claim_email(notice: MonitoringNotice) -> bool:
    return bool(
        MonitoringNotice.objects.filter(
            pk=notice.pk, emailed_at__isnull=True, email_attempts=notice.email_attempts
        ).update(email_attempts=notice.email_attempts + 1)
    )


def _send(notice: MonitoringNotice, recipients: list, now: dt.datetime) -> int:
    """Email one notice; the number of administrators it went to (0 when there are none)."""
    if not _claim_email(notice):
        return 0  # another scheduler is sending it
    name = notice.subscription.name
    if recipients:
        body = render_to_string(
            EMAIL_TEMPLATE,
            {
                "notice": notice,
                "subscription_name": name,
                "link": _link(notice),
                "list_link": settings.DASHBOARD_URL.rstrip("/") + reverse("subscriptions:list"),
            },
        )
        subject = f"{EMAIL_SUBJECT_PREFIX}{name}: {notice.title}"
        # One message each: administrators need not learn each other's addresses.
        messages = [EmailMessage(subject, body, None, [user.email]) for user in recipients]
        try:
            mailers.default.send_messages(messages)
        except OSError as exc:  # smtplib's errors are OSErrors
            logger.warning(
                "Monitoring notice %s not emailed (attempt %s of %s): %s",
                notice.pk,
                notice.email_attempts + 1,
                EMAIL_MAX_ATTEMPTS,
                exc,
            )
            metrics.NOTICE_EMAIL_FAILURES.labels(notice.kind).inc()
            return 0
    told = ", ".join(user.get_username() for user in recipients)
    with transaction.atomic():
        MonitoringNotice.objects.filter(pk=notice.pk).update(
            emailed_at=now, emailed_to=len(recipients)
        )
        audit.record(
            actor=SYSTEM,
            action="notice.emailed",
            target_type="subscription",
            target_id=str(notice.subscription_id),
            target_repr=name,
            subscription_id=notice.subscription_id,
            changes={
                "notice": [None, notice.title],
                "emailed to": [
                    None,
                    told or "nobody: no active administrator has an email address",
                ],
            },
        )
    if recipients:
        metrics.NOTICES_EMAILED.labels(notice.kind).inc()
    return len(recipients)


def _send_pending(now: dt.datetime) -> int:
    pending = selectors.notices_to_email(EMAIL_MAX_ATTEMPTS)
    if not pending:
        return 0
    recipients = selectors.administrators_to_email()
    return sum(_send(notice, recipients, now) for notice in pending)


# -- the entry points -----------------------------------------------------------------------


def monitoring_run(*, now: dt.datetime | None = None) -> dict:
    """One tick of monitoring; the counts of what it did, for the scheduler to print:
    ``tested`` (``passed``/``failed``), ``notices`` raised, ``emails`` sent, ``errors``."""
    now = now or timezone.now()
    counts = {"tested": 0, "passed": 0, "failed": 0, "notices": 0, "emails": 0, "errors": 0}
    _scheduled_tests(now, counts)
    raised = _expiry_notices(now) + _connection_notices(now)
    counts["notices"] = len(raised)
    for notice in raised:
        metrics.NOTICES_RAISED.labels(notice.kind).inc()
    counts["emails"] = _send_pending(now)
    return counts


def monitoring_settings_set(
    *, subscription: Subscription, minutes: int, actor: ActorLike, reason: str = ""
) -> MonitoringSettings:
    """Test the subscription's connection every ``minutes`` (0 = off); audited when changed."""
    low, high = MONITORING_MINUTES_LIMITS
    if not (minutes == 0 or low <= minutes <= high):
        raise InvalidInput(
            {
                "monitoring_minutes": f"Enter 0 to switch scheduled tests off, or {low} to "
                f"{high} minutes (a week)."
            }
        )
    with transaction.atomic():
        row, _ = MonitoringSettings.objects.select_for_update().get_or_create(
            subscription_id=subscription.pk
        )
        before = row.monitoring_minutes
        if before == minutes:
            return row
        row.monitoring_minutes = minutes
        row.updated_by = actor_name(actor)
        row.updated_at = timezone.now()
        row.save(update_fields=["monitoring_minutes", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action="monitoring.settings_changed",
            target=subscription,
            target_type="subscription",
            changes={"monitoring_minutes": [before, minutes]},
            reason=reason,
        )
    return row


def notice_acknowledge(*, notice: MonitoringNotice, actor: ActorLike) -> MonitoringNotice:
    """Take the notice off the list (it stays on the subscription's page and the trail).
    Its condition is not over: a failing connection raises no second notice until a test
    passed."""
    with transaction.atomic():
        current = MonitoringNotice.objects.select_for_update().get(pk=notice.pk)
        if current.acknowledged_at is not None:
            return current
        current.acknowledged_at = timezone.now()
        current.acknowledged_by = actor_name(actor)
        current.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(
            actor=actor,
            action="notice.acknowledged",
            target_type="subscription",
            target_id=str(current.subscription_id),
            target_repr=Subscription.objects.values_list("name", flat=True).get(
                pk=current.subscription_id
            ),
            subscription_id=current.subscription_id,
            changes={"notice": [None, current.title]},
        )
    return current
