"""The connection test against the simulator: steps, failures, history, pages and command."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection
from django.urls import reverse
from psycopg.pq import TransactionStatus

from netsuite import certificates as nscert
from subscriptions.audit import verify_chain
from subscriptions.models import AuditEvent, ConnectionTest, Subscription
from subscriptions.services.connection import (
    HISTORY_KEPT,
    SAVE_AFTER_SECONDS,
    STEPS,
    connection_test_run,
)
from tests.html import badges, parse, text_of

pytestmark = pytest.mark.django_db


def keys(test):
    return [s["key"] for s in test.steps]


@pytest.fixture
def run_test(netsuite_sim, admin_user, ec_pair):
    """``run_test(**options)``: the connection test of a new subscription made with options."""

    def run(**options):
        subscription = netsuite_sim.subscription(**{"pair": ec_pair, **options})
        return connection_test_run(subscription=subscription, actor=admin_user)

    return run


def next_step(response):
    """The step the page asks for as soon as it is shown, if any."""
    loader = parse(response).find(hx_trigger="load")
    return loader.get("hx-post") if loader else None


def test_a_registered_subscription_passes_every_step(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    seen = []
    test = connection_test_run(subscription=subscription, actor=admin_user, on_step=seen.append)
    assert test.outcome == "passed", test.steps
    assert keys(test) == [key for key, _ in STEPS]
    assert seen == test.steps
    assert all(s["status"] == "ok" for s in test.steps)
    assert "certificate valid 364 more days" in test.steps[0]["detail"]
    assert test.steps[1]["detail"].startswith("ES256, key SHA-256 ")
    assert "3 iPaaS Auth Details entries" in test.steps[3]["detail"]
    assert "8 deployments found (1 not placed in a module)" in test.steps[4]["detail"]
    assert "account concurrency 5" in test.steps[5]["detail"]
    event = AuditEvent.objects.filter(action="connection_test.passed").get()
    assert event.subscription_id == subscription.pk
    assert event.actor_name == admin_user.username
    assert event.changes["result"] == [None, "passed"]


def test_each_test_fetches_a_fresh_token_on_purpose(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    connection_test_run(subscription=subscription, actor=admin_user)
    connection_test_run(subscription=subscription, actor=admin_user)
    assert netsuite_sim.stats()["tokens_issued"] == 2


def test_an_unregistered_certificate_stops_at_the_token_with_netsuites_code_and_a_hint(
    run_test,
):
    test = run_test(register=False)
    assert test.outcome == "failed"
    assert keys(test) == ["settings", "assertion", "token"]
    error = test.failed_step["error"]
    assert error["code"] == "invalid_grant"
    assert error["status"] == 400
    assert "Certificate ID" in error["hint"] and "Login Audit Trail" in error["hint"]
    event = AuditEvent.objects.filter(action="connection_test.failed").get()
    assert event.changes["NetSuite code"] == [None, "invalid_grant"]
    assert event.changes["failed step"] == [None, "Token"]


def test_an_expired_certificate_fails_before_any_call(netsuite_sim, run_test):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    test = run_test(pair=nscert.generate_key_and_certificate("ec-p256", days=30, not_before=past))
    assert keys(test) == ["settings"]
    assert "expired on" in test.failed_step["error"]["message"]
    assert netsuite_sim.stats()["token_requests"] == 0
    assert netsuite_sim.stats()["requests"] == 0


def test_a_key_typed_into_the_form_still_tests_without_a_certificate_here(run_test):
    test = run_test(certificate_row=False)
    assert test.outcome == "passed"
    assert "certificate not uploaded here" in test.steps[0]["detail"]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_governance_limits_a_role_may_not_read_are_skipped_not_failed(
    netsuite_sim, admin_user, ec_pair, status
):
    # NetSuite documents no status for a non-administrator role: all four mean the same, and
    # a 401 here is no reason to mint another token.
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.update_integration(subscription.consumer_id, administrator=False)
    netsuite_sim.sim.configure(governance_refusal_status=status)
    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.outcome == "passed"
    assert test.steps[-1]["status"] == "skipped"
    assert test.steps[-1]["detail"].startswith("this role can't read governance limits")
    assert f"HTTP {status}" in test.steps[-1]["detail"]
    assert netsuite_sim.stats()["tokens_issued"] == 1  # the test's one fresh token


def test_the_governance_step_names_the_shared_pool_for_an_integration_without_a_limit(
    run_test, netsuite_sim
):
    test = run_test()
    assert test.outcome == "passed"
    assert "shared unallocated pool" in test.steps[-1]["detail"]


@pytest.mark.parametrize(
    ("fault", "step", "expected"),
    [
        ({"kind": "record", "delay": 1.5}, "rest", "did not answer within"),
        ({"kind": "restlet", "status": 429, "count": 5}, "restlet", "concurrency limit"),
        ({"kind": "record", "status": 503, "count": 5}, "rest", "server error"),
        (
            {"kind": "restlet", "action": "disconnect", "count": 5},
            "restlet",
            "could not be reached",
        ),
    ],
)
def test_faults_fail_their_step_with_an_explanation(
    netsuite_sim, admin_user, ec_pair, fault, step, expected
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.add_fault(**fault)
    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.outcome == "failed"
    assert test.failed_step["key"] == step
    assert expected in test.failed_step["error"]["message"]
    assert test.failed_step["error"]["hint"]
    assert AuditEvent.objects.filter(action="connection_test.failed").count() == 1


def test_a_simulator_that_is_down_fails_the_token_step(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.stop()
    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.failed_step["key"] == "token"
    assert "could not be reached" in test.failed_step["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_a_test_run_in_one_go_commits_its_row_and_audit_event_together(
    netsuite_sim, admin_user, ec_pair
):
    # Outside any test-case transaction, so its own COMMIT (sent with its last statements on
    # PostgreSQL, bulk_sql.pipelined) is the one that counts.
    subscription = netsuite_sim.subscription(pair=ec_pair)
    for _ in range(HISTORY_KEPT + 1):
        ConnectionTest.objects.create(subscription=subscription, outcome="passed")
    test = connection_test_run(subscription=subscription, actor=admin_user)
    assert test.outcome == "passed" and not connection.in_atomic_block
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    assert ConnectionTest.objects.get(pk=test.pk).steps == test.steps
    # The older ones pruned to the history's size, the new one kept.
    assert ConnectionTest.objects.filter(subscription=subscription).count() == HISTORY_KEPT
    assert AuditEvent.objects.filter(action="connection_test.passed").count() == 1
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
def test_a_test_whose_closing_transaction_fails_leaves_no_audit_event(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    for _ in range(HISTORY_KEPT):
        ConnectionTest.objects.create(subscription=subscription, outcome="passed")
    events = AuditEvent.objects.count()

    def remove_the_subscription(step):
        # Gone while the last call was made: the test's row refers to nothing, which the
        # database refuses at the COMMIT (deferred foreign key), after the audit event and
        # the prune were sent.
        if step["key"] == STEPS[-1][0]:
            ConnectionTest.objects.filter(subscription=subscription).delete()
            Subscription.objects.filter(pk=subscription.pk).delete()

    with pytest.raises(IntegrityError):
        connection_test_run(
            subscription=subscription, actor=admin_user, on_step=remove_the_subscription
        )
    assert not connection.in_atomic_block
    assert AuditEvent.objects.count() == events
    assert not ConnectionTest.objects.exists()
    assert verify_chain().intact


def test_history_keeps_the_last_tests_only(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair, register=False)
    for _ in range(HISTORY_KEPT + 2):
        connection_test_run(subscription=subscription, actor=admin_user)
    assert ConnectionTest.objects.filter(subscription=subscription).count() == HISTORY_KEPT



def test_a_test_run_in_one_go_is_written_once_when_netsuite_answers_at_once(
    netsuite_sim, admin_user, ec_pair
):
    """Steps that end quickly are saved together with the outcome: while they run there is
    no half-written test, and the one saved holds every step and the audit event."""
    subscription = netsuite_sim.subscription(pair=ec_pair)
    stored = []

    def watch(step):
        stored.append(list(
            ConnectionTest.objects.filter(subscription=subscription).values_list("steps", flat=True)
        ))

    test = connection_test_run(subscription=subscription, actor=admin_user, on_step=watch)
    assert test.outcome == "passed", test.steps
    assert stored == [[]] * len(STEPS)
    saved = ConnectionTest.objects.get(subscription=subscription)
    assert keys(saved) == [key for key, _ in STEPS]
    assert saved.finished_at is not None and not saved.interrupted
    assert AuditEvent.objects.filter(action="connection_test.passed").count() == 1


def test_a_slow_test_run_in_one_go_saves_its_steps_as_they_go(netsuite_sim, admin_user, ec_pair):
    """Once a step has taken SAVE_AFTER_SECONDS, the steps so far are saved at once, so a
    page watching the test sees it move (and never takes it for interrupted)."""
    subscription = netsuite_sim.subscription(pair=ec_pair)
    # Only calls to the API wait (the token does not): the REST and RESTlet steps each take
    # 0.6 s, so the steps up to the RESTlet call have taken over a second by its end.
    netsuite_sim.sim.state.latency = 0.6
    assert 0.6 < SAVE_AFTER_SECONDS < 1.2
    stored = {}

    def watch(step):
        rows = list(ConnectionTest.objects.filter(subscription=subscription))
        stored[step["key"]] = [(row.outcome, keys(row)) for row in rows]

    test = connection_test_run(subscription=subscription, actor=admin_user, on_step=watch)
    assert test.outcome == "passed", test.steps
    assert stored["rest"] == []
    assert stored["governance"] == [("running", ["settings", "assertion", "token", "rest",
                                                 "restlet"])]
    saved = ConnectionTest.objects.get(subscription=subscription)
    assert saved.outcome == "passed" and keys(saved) == [key for key, _ in STEPS]
    assert AuditEvent.objects.filter(action="connection_test.passed").count() == 1

# -- pages -----------------------------------------------------------------------------------


def test_the_page_runs_the_test_one_htmx_step_at_a_time(
    netsuite_sim, support_client, ec_pair, htmx_headers
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    response = support_client.post(
        reverse("subscriptions:connection_test", args=[subscription.pk]), **htmx_headers
    )
    assert response.status_code == 200
    assert "Settings complete…" in response.content.decode()
    test = ConnectionTest.objects.get()
    assert test.steps == []  # nothing ran yet: the page asks for each step
    step_url = reverse("subscriptions:connection_test_step", args=[subscription.pk, test.pk])
    assert next_step(response) == step_url
    for expected_steps in range(1, len(STEPS) + 1):
        response = support_client.post(step_url, **htmx_headers)
        test.refresh_from_db()
        assert len(test.steps) == expected_steps
    assert "Passed" in response.content.decode()
    assert next_step(response) is None
    assert "connection-tested" in response["HX-Trigger"]
    # A step posted again after the end changes nothing.
    support_client.post(step_url, **htmx_headers)
    test.refresh_from_db()
    assert len(test.steps) == len(STEPS)
    assert AuditEvent.objects.filter(action="connection_test.passed").count() == 1


def test_without_javascript_the_test_runs_whole_and_redirects_with_a_message(
    netsuite_sim, admin_client_, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair, register=False)
    detail = reverse("subscriptions:connection_tests", args=[subscription.pk])
    response = admin_client_.post(
        reverse("subscriptions:connection_test", args=[subscription.pk]),
        {"next": detail},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail
    html = response.content.decode()
    assert "Connection test failed at “Token”" in html
    assert "invalid_grant" in html and "What to do:" in html
    # The panel shows the failed test with its steps, and the history page lists it.
    assert ConnectionTest.objects.get(subscription=subscription).outcome == "failed"
    panel = text_of(response, "connection-test")
    assert "Failed" in panel and "Client assertion signed" in panel
    assert "invalid_grant" in panel
    history = admin_client_.get(reverse("subscriptions:connection_tests", args=[subscription.pk]))
    assert "invalid_grant" in history.content.decode()


def test_the_list_shows_health_and_expiry(netsuite_sim, admin_client_, admin_user, ec_pair):
    healthy = netsuite_sim.subscription("Healthy one", pair=ec_pair)
    failing = netsuite_sim.subscription("Failing one", register=False)
    netsuite_sim.subscription("Untested one", certificate_row=False)
    connection_test_run(subscription=healthy, actor=admin_user)
    connection_test_run(subscription=failing, actor=admin_user)
    response = admin_client_.get(reverse("subscriptions:list"))
    html = response.content.decode()
    ok = parse(response).find_all(class_="badge-ok")
    assert len([b for b in ok if b.get("title", "").startswith("tested")]) == 1
    assert "Failing: Token" in html
    assert "Not tested" in html
    assert "days left" in html and "not uploaded here" in html


def test_a_certificate_expiring_soon_warns_on_the_list(netsuite_sim, admin_client_):
    pair = nscert.generate_key_and_certificate("ec-p256", days=20)
    netsuite_sim.subscription("Soon", pair=pair)
    shown = badges(admin_client_.get(reverse("subscriptions:list")))
    assert ("warn", "19 days left, renew it") in shown or (
        ("warn", "20 days left, renew it") in shown
    )


# -- command ---------------------------------------------------------------------------------


def test_the_command_prints_every_step_and_exits_0_when_all_pass(netsuite_sim, ec_pair, capsys):
    netsuite_sim.subscription("Acme Prod", pair=ec_pair)
    call_command("test_connection", "acme prod")
    out = capsys.readouterr().out
    for _, label in STEPS:
        assert f"PASS {label} (" in out
    assert "Connection test passed" in out
    event = AuditEvent.objects.filter(action="connection_test.passed").get()
    assert event.actor_name == "system (command line)"


def test_the_command_fails_with_the_step_and_netsuites_answer(netsuite_sim, capsys):
    netsuite_sim.subscription("Acme Prod", register=False)
    with pytest.raises(CommandError, match="failed at step “Token”"):
        call_command("test_connection", "Acme Prod")
    out = capsys.readouterr().out
    assert "FAIL Token" in out
    assert "NetSuite code invalid_grant" in out and "What to do:" in out


def test_the_command_exit_status_is_not_0_on_failure(netsuite_sim):
    from django.core.management import ManagementUtility

    netsuite_sim.subscription("Acme Prod", register=False)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "test_connection", "Acme Prod"]).execute()
    assert exited.value.code == 1


def test_the_command_names_an_unknown_subscription(netsuite_sim):
    with pytest.raises(CommandError, match="No subscription is named 'Nope'"):
        call_command("test_connection", "Nope")
