"""Monitoring against the simulator over real HTTP: scheduled connection tests, certificate
expiry warnings at 30, 14 and 7 days and once expired, a failure notice after consecutive
failed tests re-armed by a success, each emailed once to the active administrators, shown on
the list and the subscription's page, audited; the schedule form for administrators only;
two schedulers at once store and send each notice once (PostgreSQL)."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from netsuite import certificates as nscert
from subscriptions import audit
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import (
    AuditEvent,
    ConnectionTest,
    MonitoringNotice,
    MonitoringSettings,
    Role,
)
from subscriptions.services.monitoring import monitoring_run, monitoring_settings_set
from subscriptions.services.users import user_set_active
from tests.html import forms, parse

pytestmark = pytest.mark.django_db

DASHBOARD = "https://admin.example.com"
FAULT = {"kind": "record", "status": 503, "count": 10_000}


@pytest.fixture(autouse=True)
def _dashboard_url(settings):
    settings.DASHBOARD_URL = DASHBOARD
    settings.MONITORING_FAILURES_BEFORE_NOTICE = 3


def with_email(user, address):
    get_user_model().objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


@pytest.fixture
def admin(admin_user):
    return with_email(admin_user, "alice@example.com")


def pair(days: int):
    return nscert.generate_key_and_certificate("ec-p256", days=days)


def monitored(netsuite_sim, *, days: int = 365, minutes: int = 60, **options):
    subscription = netsuite_sim.subscription(pair=pair(days), **options)
    monitoring_settings_set(subscription=subscription, minutes=minutes, actor=COMMAND_LINE)
    return subscription


def ticks(start, minutes: int):
    """Scheduler ticks ``minutes`` apart, from ``start``."""
    n = 0
    while True:
        yield start + dt.timedelta(minutes=minutes * n)
        n += 1


def counts(**done):
    """What ``monitoring_run`` reports: zero for everything not named."""
    return {"tested": 0, "passed": 0, "failed": 0, "notices": 0, "emails": 0, "errors": 0, **done}


def notices(subscription, **filters):
    return list(MonitoringNotice.objects.filter(subscription=subscription, **filters))


# -- certificate expiry -----------------------------------------------------------------------


def test_a_certificate_expiring_within_30_days_is_emailed_once(netsuite_sim, admin):
    subscription = monitored(netsuite_sim, days=29)
    clock = ticks(timezone.now(), 61)
    first = monitoring_run(now=next(clock))
    assert first == counts(tested=1, passed=1, notices=1, emails=1)
    second = monitoring_run(now=next(clock))  # the interval elapsed: tested again
    assert second["tested"] == 1 and second["notices"] == 0 and second["emails"] == 0
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"]
    assert email.subject == "[iPaaS admin] Acme: Certificate expires in 28 days"
    assert "stops being accepted by NetSuite on" in email.body
    assert "What to do:" in email.body and "Certificate section" in email.body
    assert f"{DASHBOARD}/subscriptions/{subscription.pk}/certificates/" in email.body
    (notice,) = notices(subscription)
    assert notice.kind == "certificate_expiry" and notice.level == "warn"
    assert notice.condition.endswith(":30")
    assert notice.emailed_to == 1 and notice.emailed_at is not None


def test_13_days_left_sends_the_14_day_warning_only_then_7_days_then_expired(netsuite_sim, admin):
    subscription = monitored(netsuite_sim, days=13)
    now = timezone.now()
    monitoring_run(now=now)
    (first,) = notices(subscription)
    assert first.condition.endswith(":14") and first.title == "Certificate expires in 12 days"
    monitoring_run(now=now + dt.timedelta(days=7))
    monitoring_run(now=now + dt.timedelta(days=7, hours=1))
    monitoring_run(now=now + dt.timedelta(days=14))
    conditions = [n.condition.rsplit(":", 1)[1] for n in notices(subscription)][::-1]
    assert conditions == ["14", "7", "expired"]
    assert [m.subject.split(": ", 1)[1] for m in mail.outbox] == [
        "Certificate expires in 12 days",
        "Certificate expires in 5 days",
        "Certificate expired",
    ]
    # Only the newest warning is still open: the tighter one replaced the wider one.
    assert [n.condition for n in MonitoringNotice.objects.shown()] == [
        notices(subscription)[0].condition
    ]
    assert notices(subscription)[0].level == "bad"


def test_expiry_is_warned_with_scheduled_tests_off_and_ends_with_the_certificate(
    netsuite_sim, admin
):
    subscription = netsuite_sim.subscription(pair=pair(20))  # never monitored: no test
    assert monitoring_run()["notices"] == 1
    assert not ConnectionTest.objects.exists()
    subscription.certificates.update(status="retired")
    monitoring_run()
    (notice,) = notices(subscription)
    assert notice.resolved_at is not None
    assert not MonitoringNotice.objects.shown().exists()


# -- consecutive failures ---------------------------------------------------------------------


def test_three_failures_in_a_row_send_one_notice_and_a_success_re_arms_it(netsuite_sim, admin):
    subscription = monitored(netsuite_sim, minutes=5)
    clock = ticks(timezone.now(), 5)
    netsuite_sim.sim.add_fault(**FAULT)
    for _ in range(2):
        assert monitoring_run(now=next(clock))["failed"] == 1
    assert notices(subscription) == [] and mail.outbox == []
    assert monitoring_run(now=next(clock))["notices"] == 1
    assert monitoring_run(now=next(clock)) == counts(tested=1, failed=1)
    (failing,) = notices(subscription)
    assert failing.kind == "connection_failing" and failing.level == "bad"
    assert failing.title == "Connection failing: 3 tests in a row"
    assert "REST call (customrecord_otg_ipaas_auth_details)" in failing.message
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[iPaaS admin] Acme: Connection failing: 3 tests in a row"
    assert f"{DASHBOARD}/subscriptions/{subscription.pk}/connection-tests/" in mail.outbox[0].body

    netsuite_sim.sim.clear_faults()
    assert monitoring_run(now=next(clock))["passed"] == 1
    failing.refresh_from_db()
    assert failing.resolved_at is not None
    recovered = notices(subscription, kind="connection_recovered")
    assert len(recovered) == 1 and recovered[0].level == "ok"
    assert mail.outbox[-1].subject == "[iPaaS admin] Acme: Connection recovered"

    netsuite_sim.sim.add_fault(**FAULT)
    for _ in range(3):
        monitoring_run(now=next(clock))
    assert len(notices(subscription, kind="connection_failing")) == 2
    assert len(mail.outbox) == 3


def test_a_revoked_certificate_counts_manual_tests_too_and_only_monitored_ones(netsuite_sim, admin):
    from subscriptions.services.connection import connection_test_run

    watched = monitored(netsuite_sim, name="Watched", minutes=5)
    unwatched = netsuite_sim.subscription(name="Unwatched", pair=pair(365))
    for subscription in (watched, unwatched):
        netsuite_sim.sim.revoke_certificate(subscription.certificate_id)
        for _ in range(3):
            test = connection_test_run(subscription=subscription, actor=admin)
            assert test.failed_step["key"] == "token"
    counts = monitoring_run()  # three failed manual tests just now: no scheduled one is due
    assert counts["tested"] == 0 and counts["notices"] == 1
    assert notices(watched, kind="connection_failing")
    assert notices(unwatched) == []


def test_an_interrupted_test_neither_breaks_nor_extends_a_run(netsuite_sim, admin):
    subscription = monitored(netsuite_sim, minutes=5)
    clock = ticks(timezone.now(), 5)
    netsuite_sim.sim.add_fault(**FAULT)
    monitoring_run(now=next(clock))
    monitoring_run(now=next(clock))
    ConnectionTest.objects.create(
        subscription=subscription,
        actor_name="someone",
        started_at=timezone.now() - dt.timedelta(hours=1),
    )  # left running long ago: interrupted
    assert notices(subscription) == []
    monitoring_run(now=next(clock))
    assert len(notices(subscription, kind="connection_failing")) == 1


# -- who is emailed ---------------------------------------------------------------------------


def test_only_active_administrators_with_an_address_are_emailed(netsuite_sim, admin, make_user):
    with_email(make_user("sam", Role.SUPPORT), "sam@example.com")
    with_email(make_user("ada", Role.AUDITOR), "ada@example.com")
    make_user("nomail-admin", Role.ADMINISTRATOR)
    gone = with_email(make_user("gone-admin", Role.ADMINISTRATOR), "gone@example.com")
    user_set_active(user=gone, active=False, actor=COMMAND_LINE)
    second = with_email(make_user("bob-admin", Role.ADMINISTRATOR), "bob@example.com")
    subscription = netsuite_sim.subscription(pair=pair(10))
    assert monitoring_run()["emails"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == [admin.email, second.email]
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody learns another's address
    (notice,) = notices(subscription)
    assert notice.emailed_to == 2
    event = AuditEvent.objects.get(action="notice.emailed")
    assert event.changes["emailed to"] == [None, "alice-admin, bob-admin"]


def test_a_notice_nobody_can_be_emailed_is_still_shown_and_recorded(netsuite_sim, admin_client_):
    subscription = netsuite_sim.subscription(pair=pair(10))
    assert monitoring_run()["emails"] == 0
    assert mail.outbox == []
    notice = MonitoringNotice.objects.get()
    assert notice.emailed_at is not None and notice.emailed_to == 0
    event = AuditEvent.objects.get(action="notice.emailed")
    assert "nobody" in event.changes["emailed to"][1]
    assert monitoring_run()["emails"] == 0  # not retried
    page = admin_client_.get(reverse("subscriptions:detail", args=[subscription.pk]))
    block = parse(page.content.decode()).by_id("monitoring-notices").text
    assert "nobody was emailed: no active administrator has an email address" in block


# -- audit ------------------------------------------------------------------------------------


def test_each_notice_is_audited_by_the_system_and_the_chain_holds(netsuite_sim, admin):
    subscription = monitored(netsuite_sim, days=20)
    monitoring_run()
    event = AuditEvent.objects.get(action="notice.certificate_expiry")
    assert event.actor_name == "system" and event.actor_id is None
    assert event.subscription_id == subscription.pk
    assert event.changes["notice"] == [None, "Certificate expires in 19 days"]
    test_event = AuditEvent.objects.get(action="connection_test.passed")
    assert test_event.actor_name == "system"
    assert audit.verify_chain().intact


# -- pages ------------------------------------------------------------------------------------


def test_notices_are_shown_on_the_list_and_the_page_and_acknowledged_by_an_admin(
    netsuite_sim, admin, support_client, client_for
):
    subscription = netsuite_sim.subscription(pair=pair(10))
    quiet = netsuite_sim.subscription(name="Quiet", pair=pair(365))
    monitoring_run()
    admin_client = client_for(admin)
    listing = parse(admin_client.get(reverse("subscriptions:list")).content.decode())
    detail = reverse("subscriptions:detail", args=[subscription.pk])
    badges = listing.find_all("a", href=detail + "#monitoring-notices")
    assert [b.text for b in badges] == ["Certificate expires in 9 days"]
    quiet_detail = reverse("subscriptions:detail", args=[quiet.pk])
    assert not listing.find_all("a", href=quiet_detail + "#monitoring-notices")

    page = admin_client.get(detail).content.decode()
    block = parse(page).by_id("monitoring-notices")
    assert "Certificate expires in 9 days" in block.text
    assert "emailed to 1 administrator" in block.text
    notice = MonitoringNotice.objects.get()
    acknowledge = reverse("subscriptions:notice_acknowledge", args=[subscription.pk, notice.pk])
    assert acknowledge in {f.action for f in forms(page)}
    support_page = support_client.get(detail).content.decode()
    assert "Certificate expires in 9 days" in parse(support_page).by_id("monitoring-notices").text
    assert acknowledge not in {f.action for f in forms(support_page)}
    assert support_client.post(acknowledge).status_code == 403

    response = admin_client.post(acknowledge, {"next": detail})
    assert response.status_code == 302 and response["Location"] == detail
    notice.refresh_from_db()
    assert notice.acknowledged_by == admin.username
    assert AuditEvent.objects.filter(action="notice.acknowledged").count() == 1
    listing = parse(admin_client.get(reverse("subscriptions:list")).content.decode())
    assert not listing.find_all("a", href=detail + "#monitoring-notices")
    # Acknowledged is not over: the same condition raises nothing new.
    assert monitoring_run()["notices"] == 0


def test_another_subscriptions_notice_cannot_be_acknowledged_through_this_one(
    netsuite_sim, admin_client_
):
    one = netsuite_sim.subscription(pair=pair(10))
    other = netsuite_sim.subscription(name="Other", pair=pair(365))
    monitoring_run()
    notice = MonitoringNotice.objects.get(subscription=one)
    url = reverse("subscriptions:notice_acknowledge", args=[other.pk, notice.pk])
    assert admin_client_.post(url).status_code == 404
    own = reverse("subscriptions:notice_acknowledge", args=[one.pk, notice.pk])
    assert admin_client_.get(own).status_code == 405


# -- the schedule form ------------------------------------------------------------------------


def test_only_an_administrator_sets_the_schedule_and_it_is_audited(
    netsuite_sim, admin_client_, support_client, auditor_client, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=pair(365))
    url = reverse("subscriptions:connection_test_schedule", args=[subscription.pk])
    section = reverse("subscriptions:connection_tests", args=[subscription.pk])
    for client in (support_client, auditor_client):
        assert client.post(url, {"monitoring_minutes": 30}).status_code == 403
    assert not MonitoringSettings.objects.exists()
    assert url not in {f.action for f in forms(support_client.get(section))}
    card = parse(support_client.get(section).content.decode()).by_id("monitoring-schedule")
    assert "Scheduled connection tests" in card.text and "off" in card.text

    assert url in {f.action for f in forms(admin_client_.get(section))}
    response = admin_client_.post(url, {"monitoring_minutes": 30, "next": section})
    assert response.status_code == 302 and response["Location"] == section
    assert MonitoringSettings.objects.get().monitoring_minutes == 30
    event = AuditEvent.objects.get(action="monitoring.settings_changed")
    assert event.changes == {"monitoring_minutes": [0, 30]}
    assert event.subscription_id == subscription.pk
    admin_client_.post(url, {"monitoring_minutes": 30})  # unchanged: nothing to record
    assert AuditEvent.objects.filter(action="monitoring.settings_changed").count() == 1

    partial = admin_client_.post(url, {"monitoring_minutes": 0}, **htmx_headers)
    assert partial.status_code == 200
    card = parse(partial.content.decode()).by_id("monitoring-schedule")
    assert "Scheduled connection tests are off" in card.text
    assert MonitoringSettings.objects.get().monitoring_minutes == 0


@pytest.mark.parametrize("value", ["3", "-1", "10081", "soon"])
def test_a_refused_interval_says_why_next_to_the_field_and_saves_nothing(
    netsuite_sim, admin_client_, htmx_headers, value
):
    subscription = netsuite_sim.subscription(pair=pair(365))
    url = reverse("subscriptions:connection_test_schedule", args=[subscription.pk])
    page = admin_client_.post(url, {"monitoring_minutes": value})
    assert page.status_code == 400
    field = parse(page.content.decode()).find("input", name="monitoring_minutes")
    assert field.get("aria-invalid") == "true"
    assert parse(page.content.decode()).find("ul", **{"class": "errorlist"}).text
    partial = admin_client_.post(url, {"monitoring_minutes": value}, **htmx_headers)
    assert partial.status_code == 200
    assert parse(partial.content.decode()).find("ul", **{"class": "errorlist"}).text
    assert not MonitoringSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="monitoring.settings_changed").exists()


def test_the_service_refuses_an_interval_whoever_asks(netsuite_sim):
    from subscriptions.services.errors import InvalidInput

    subscription = netsuite_sim.subscription(pair=pair(365))
    with pytest.raises(InvalidInput) as refused:
        monitoring_settings_set(subscription=subscription, minutes=2, actor=COMMAND_LINE)
    assert "monitoring_minutes" in refused.value.errors


def test_a_test_is_not_scheduled_before_its_interval_elapsed(netsuite_sim, admin):
    monitored(netsuite_sim, minutes=60)
    now = timezone.now()
    assert monitoring_run(now=now)["tested"] == 1
    assert monitoring_run(now=now + dt.timedelta(minutes=30))["tested"] == 0
    assert monitoring_run(now=now + dt.timedelta(minutes=61))["tested"] == 1
    assert ConnectionTest.objects.filter(actor_name="system").count() == 2


# -- two schedulers at once -------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_store_and_send_each_notice_once(netsuite_sim, admin):
    failing = monitored(netsuite_sim, minutes=5)
    clock = ticks(timezone.now(), 5)
    netsuite_sim.sim.add_fault(**FAULT)
    for _ in range(2):
        monitoring_run(now=next(clock))
    # Raced by both schedulers from the start: a warning neither has seen yet.
    expiring = netsuite_sim.subscription(name="Expiring", pair=pair(10))
    now = next(clock)
    barrier = threading.Barrier(2)

    def scheduler(_):
        try:
            barrier.wait()
            return monitoring_run(now=now)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(scheduler, range(2)))  # re-raises a scheduler's error here
    assert sum(r["tested"] for r in results) == 1  # one claim per interval
    assert sum(r["notices"] for r in results) == 2
    assert [n.kind for n in notices(failing)] == ["connection_failing"]
    assert [n.kind for n in notices(expiring)] == ["certificate_expiry"]
    assert sorted(m.subject.split(": ", 1)[1] for m in mail.outbox) == [
        "Certificate expires in 9 days",
        "Connection failing: 3 tests in a row",
    ]
    assert AuditEvent.objects.filter(action__startswith="notice.connection").count() == 1
    assert AuditEvent.objects.filter(action="notice.certificate_expiry").count() == 1
    assert AuditEvent.objects.filter(action="notice.emailed").count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_tests_due_in_one_tick_run_side_by_side_within_each_accounts_cap(
    netsuite_sim, admin, settings
):
    """Ten thousand subscriptions tested hourly make about 170 due a minute: one after another
    at NetSuite's speed they would outlast the tick. They run MONITORING_TEST_THREADS at a
    time, each account's calls still within its Concurrent Connections."""
    settings.MONITORING_TEST_THREADS = 4
    settings.NETSUITE_THROTTLE_STORE = "database"
    netsuite_sim.sim.state.latency = 0.2
    subscriptions = [
        monitored(netsuite_sim, name=f"Side by side {i}", concurrent_connections=3)
        for i in range(6)
    ]
    netsuite_sim.sim.reset_stats()
    assert monitoring_run() == counts(tested=6, passed=6)
    stats = netsuite_sim.stats()
    # Overlapping, and never more than the account's cap: no 429 from NetSuite.
    assert stats["max_in_flight"] == 3
    assert stats["rejected_429"] == 0
    for subscription in subscriptions:
        test = ConnectionTest.objects.get(subscription=subscription, actor_name="system")
        assert test.outcome == ConnectionTest.Outcome.PASSED
    assert audit.verify_chain().intact


# -- queries ----------------------------------------------------------------------------------


def idle_tick_queries(netsuite_sim, client, start: int, n: int) -> tuple[int, int]:
    for i in range(start, start + n):
        netsuite_sim.subscription(name=f"Expiring {i}", pair=pair(10))
    monitoring_run()
    with CaptureQueriesContext(connection) as tick:
        assert monitoring_run() == counts()
    with CaptureQueriesContext(connection) as page:
        assert client.get(reverse("subscriptions:list")).status_code == 200
    return len(tick), len(page)


def test_a_tick_and_the_list_cost_the_same_queries_whatever_the_notices(
    netsuite_sim, admin_client_
):
    few = idle_tick_queries(netsuite_sim, admin_client_, 0, 1)
    many = idle_tick_queries(netsuite_sim, admin_client_, 1, 4)
    assert MonitoringNotice.objects.shown().count() == 5
    assert few == many


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_mail_server_that_refuses_is_tried_again_on_the_next_tick(
    netsuite_sim, admin, settings, client_for
):
    subscription = netsuite_sim.subscription(pair=pair(10))
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }
    assert monitoring_run() == counts(notices=1)
    notice = MonitoringNotice.objects.get()
    assert notice.emailed_at is None and notice.email_attempts == 1
    page = client_for(admin).get(reverse("subscriptions:detail", args=[subscription.pk]))
    assert (
        "the mail server refused 1 time"
        in parse(page.content.decode()).by_id("monitoring-notices").text
    )
    settings.MAILERS = working
    assert monitoring_run() == counts(emails=1)
    assert monitoring_run() == counts()
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.emailed_to == 1 and notice.email_attempts == 2
