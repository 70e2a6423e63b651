"""Every NetSuite action, for each role: allowed ones work, refused ones are 403 and change
nothing (locally or in NetSuite), whatever the page showed. No page carries a secret."""

import pytest
from django.urls import reverse

from subscriptions.models import (
    AuditEvent,
    Certificate,
    ConnectionTest,
    NetSuiteSnapshot,
    Role,
    Subscription,
)
from subscriptions.services import certificates as certificate_service
from subscriptions.services.connection import connection_test_start
from tests.factories import pem_body_lines
from tests.html import forms, parse, urls

pytestmark = pytest.mark.django_db

ADMIN, SUPPORT, AUDITOR = Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR


@pytest.fixture
def clients(role_users, client_for):
    return {role: client_for(user) for role, user in role_users.items()}


@pytest.fixture
def setup(netsuite_sim, ec_pair, admin_user):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    cert = certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    certificate_service.certificate_set_id(
        certificate=cert,
        certificate_id=netsuite_sim.register(subscription.consumer_id, cert.certificate_pem),
        actor=admin_user,
    )
    running = connection_test_start(subscription=subscription, actor=admin_user)
    staged_running = connection_test_start(
        subscription=subscription, actor=admin_user, certificate=cert
    )
    netsuite_sim.sim.reset_stats()
    return {
        "subscription": subscription,
        "cert": cert,
        "test": running,
        "staged_test": staged_running,
        "sim": netsuite_sim,
    }


def actions(s):
    """(name, url, data, roles allowed) for every state-changing request."""
    pk, cert = s["subscription"].pk, s["cert"].pk
    return [
        ("test", reverse("subscriptions:connection_test", args=[pk]), {}, {ADMIN, SUPPORT}),
        (
            "test staged",
            reverse("subscriptions:connection_test", args=[pk]),
            {"certificate": str(cert)},
            {ADMIN},
        ),
        (
            "step",
            reverse("subscriptions:connection_test_step", args=[pk, s["test"].pk]),
            {},
            {ADMIN, SUPPORT},
        ),
        (
            "staged step",
            reverse("subscriptions:connection_test_step", args=[pk, s["staged_test"].pk]),
            {},
            {ADMIN},
        ),
        (
            "generate",
            reverse("subscriptions:certificate_generate", args=[pk]),
            {"key_type": "ec-p256", "days": "30"},
            {ADMIN},
        ),
        (
            "set id",
            reverse("subscriptions:certificate_set_id", args=[pk, cert]),
            {"certificate_id": "changed-id"},
            {ADMIN},
        ),
        (
            "register in simulator",
            reverse("subscriptions:certificate_register_in_simulator", args=[pk, cert]),
            {},
            {ADMIN},
        ),
        (
            "activate",
            reverse("subscriptions:certificate_activate", args=[pk, cert]),
            {"confirmed": "1"},
            {ADMIN},
        ),
        (
            "discard",
            reverse("subscriptions:certificate_discard", args=[pk, cert]),
            {"confirmed": "1"},
            {ADMIN},
        ),
        ("upload", reverse("subscriptions:certificate_upload", args=[pk]), {}, {ADMIN}),
        (
            "toggle",
            reverse("subscriptions:webhook_toggle", args=[pk]),
            {"deployment": "245", "flag": "create", "create": "on"},
            {ADMIN, SUPPORT},
        ),
        (
            "enable all",
            reverse("subscriptions:webhook_set_all", args=[pk]),
            {"enabled": "1", "confirmed": "1"},
            {ADMIN, SUPPORT},
        ),
        (
            "reapply",
            reverse("subscriptions:webhook_reapply", args=[pk]),
            {"confirmed": "1"},
            {ADMIN, SUPPORT},
        ),
        (
            "auth details",
            reverse("subscriptions:auth_details_edit", args=[pk, 1]),
            {"entry1-webhook_url": "https://hooks.example.com/x/"},
            {ADMIN},
        ),
        (
            "use dashboard",
            reverse("subscriptions:auth_details_use_dashboard", args=[pk, 1]),
            {"confirmed": "1", "confirm_name": "Production"},
            {ADMIN},
        ),
        ("detect", reverse("subscriptions:governance", args=[pk]), {}, {ADMIN}),
        (
            "apply",
            reverse("subscriptions:governance_apply", args=[pk]),
            {"concurrent_connections": "2", "revision": "1"},
            {ADMIN},
        ),
    ]


def snapshot(s):
    subscription = Subscription.objects.get(pk=s["subscription"].pk)
    return {
        "revision": subscription.revision,
        "certificate_id": subscription.certificate_id,
        "certs": sorted(
            Certificate.objects.values_list("pk", "status", "certificate_id")
        ),
        "tests": sorted(ConnectionTest.objects.values_list("pk", "outcome")),
        "steps": sorted(len(t.steps) for t in ConnectionTest.objects.all()),
        "audit": AuditEvent.objects.count(),
        "netsuite_calls": s["sim"].stats()["requests"] + s["sim"].stats()["token_requests"],
        "flags": s["sim"].flags(),
    }


@pytest.mark.parametrize("role", [SUPPORT, AUDITOR])
@pytest.mark.parametrize("htmx", [False, True])
def test_refused_actions_answer_403_and_change_nothing(setup, clients, role, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    refused = [a for a in actions(setup) if role not in a[3]]
    assert refused
    before = snapshot(setup)
    for name, url, data, _allowed in refused:
        response = clients[role].post(url, data, **headers)
        assert response.status_code == 403, name
    assert snapshot(setup) == before


@pytest.mark.parametrize("role", [ADMIN, SUPPORT])
def test_allowed_actions_are_not_refused(setup, clients, role):
    for name, url, data, allowed in actions(setup):
        if role not in allowed:
            continue
        response = clients[role].post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 302), name


def test_the_download_is_for_administrators_only(setup, clients):
    url = reverse(
        "subscriptions:certificate_download", args=[setup["subscription"].pk, setup["cert"].pk]
    )
    assert clients[ADMIN].get(url).status_code == 200
    assert clients[SUPPORT].get(url).status_code == 403
    assert clients[AUDITOR].get(url).status_code == 403


@pytest.mark.parametrize("role", [ADMIN, SUPPORT, AUDITOR])
def test_every_role_may_read_the_results(setup, clients, role):
    pk = setup["subscription"].pk
    for name in ("detail", "certificates", "webhooks", "auth_details", "connection_tests"):
        response = clients[role].get(reverse(f"subscriptions:{name}", args=[pk]))
        assert response.status_code == 200, name
    governance = clients[role].get(reverse("subscriptions:governance", args=[pk]))
    assert governance.status_code == (200 if role == ADMIN else 403)


def test_auditors_see_results_without_buttons(setup, clients):
    pk = setup["subscription"].pk
    sections = {
        name: clients[AUDITOR].get(reverse(f"subscriptions:{name}", args=[pk])).content.decode()
        for name in ("detail", "connection_tests", "certificates")
    }
    assert "Connection to NetSuite" in sections["connection_tests"]
    assert "Certificate SHA-256" in sections["certificates"]
    for html in sections.values():
        for button in ("Test connection", "Generate certificate", "Detect from NetSuite"):
            assert button not in html
    # The Webhooks section asks NetSuite only when the auditor asks (show=1).
    table = clients[AUDITOR].get(reverse("subscriptions:webhooks", args=[pk]), {"show": "1"})
    assert table.status_code == 200
    assert "Customer create" in table.content.decode()
    boxes = parse(table).find_all("input", type="checkbox")
    assert boxes and all(box.has("disabled") for box in boxes)
    assert parse(table).find(hx_post=True) is None
    changes = {
        reverse(f"subscriptions:{name}", args=[pk])
        for name in ("webhook_toggle", "webhook_set_all", "webhook_reapply")
    }
    assert not changes & urls(table)


def test_actions_on_another_subscriptions_objects_are_not_found(setup, clients, netsuite_sim):
    other = netsuite_sim.subscription("Other")
    cert = setup["cert"].pk
    for name in ("certificate_activate", "certificate_discard", "certificate_set_id"):
        url = reverse(f"subscriptions:{name}", args=[other.pk, cert])
        assert clients[ADMIN].post(url, {"certificate_id": "x"}).status_code == 404
    step = reverse("subscriptions:connection_test_step", args=[other.pk, setup["test"].pk])
    assert clients[ADMIN].post(step).status_code == 404
    staged = clients[ADMIN].post(
        reverse("subscriptions:connection_test", args=[other.pk]), {"certificate": str(cert)}
    )
    assert staged.status_code == 404


def test_anonymous_requests_go_to_the_login_page(setup, client):
    url = reverse("subscriptions:webhook_toggle", args=[setup["subscription"].pk])
    response = client.post(url, {"deployment": "245", "flag": "create", "create": "on"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not any(setup["sim"].flags()[245].values())


def test_no_secret_reaches_any_page(setup, clients, admin_user, netsuite_sim):
    from subscriptions.services.connection import connection_test_run

    subscription = setup["subscription"]
    connection_test_run(subscription=subscription, actor=admin_user)
    stored = Subscription.objects.get(pk=subscription.pk)
    staged_key = Certificate.objects.get(pk=setup["cert"].pk).private_key
    with netsuite_sim.sim.state.lock:
        tokens = list(netsuite_sim.sim.state.tokens)
    assert tokens
    secrets = [stored.webhook_api_key, *tokens]
    for pem in (stored.private_key, staged_key):
        secrets += pem_body_lines(pem)
    pk = subscription.pk
    pages = [
        reverse("subscriptions:detail", args=[pk]),
        reverse("subscriptions:certificates", args=[pk]),
        reverse("subscriptions:webhooks", args=[pk]),
        reverse("subscriptions:auth_details", args=[pk]),
        reverse("subscriptions:connection_tests", args=[pk]),
        reverse("subscriptions:list"),
        reverse("subscriptions:audit_list"),
    ]
    for role in (ADMIN, SUPPORT, AUDITOR):
        for page in pages:
            response = clients[role].get(page)
            if response.status_code != 200:
                continue
            html = response.content.decode()
            for secret in secrets:
                assert secret not in html, (role, page)
    for event in AuditEvent.objects.all():
        for secret in secrets:
            assert secret not in str(event.changes)


def test_only_roles_that_act_on_webhooks_load_them_from_netsuite_on_every_page_view(
    setup, clients
):
    # The Webhooks section: its table for people who may toggle, a button for the others.
    url = reverse("subscriptions:webhooks", args=[setup["subscription"].pk])
    sim = setup["sim"]

    support_page = clients[SUPPORT].get(url)
    assert parse(support_page).by_id("webhook-table").find("tr", data_webhook_version=True)
    assert sim.stats()["calls"].get("restlet", 0) == 1
    sim.sim.reset_stats()
    tab = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "subscription-section"}
    # Support's read left NetSuite's answer (a snapshot): the auditor is shown it, no call.
    for page in (clients[AUDITOR].get(url), clients[AUDITOR].get(url, headers=tab)):
        assert parse(page).by_id("webhook-table").find("tr", data_webhook_version=True)
        assert "As NetSuite answered at" in page.content.decode()
    assert sim.stats()["calls"].get("restlet", 0) == 0
    # Never read: a button asks (test_netsuite_snapshots covers the counts).
    NetSuiteSnapshot.objects.all().delete()
    for page in (clients[AUDITOR].get(url), clients[AUDITOR].get(url, headers=tab)):
        assert parse(page).by_id("webhook-table").find("tr") is None
        (ask,) = [f for f in forms(page) if f.action == url]
        assert ask.fields == {"show": "1"}
        assert ask.buttons == ["Show the webhook deployments from NetSuite"]
    assert sim.stats()["calls"].get("restlet", 0) == 0
    # Asking is still allowed: reading what NetSuite has is part of viewing a subscription.
    shown = clients[AUDITOR].get(url, {"show": "1"})
    assert parse(shown).by_id("webhook-table").find("tr", data_webhook_version=True)
    asked = clients[AUDITOR].get(url, headers={"HX-Request": "true"})
    assert asked.status_code == 200 and "<html" not in asked.content.decode()
    assert parse(asked).by_id("webhook-table").find("tr", data_webhook_version=True)
