"""A subscription with every kind of secret, then a search for them in everything the
dashboard produced: every page every role may open (and the refusals of the others), the
answers of the state-changing POSTs (the create with a pasted key, accepted and refused; a new
Webhook API Key; a certificate generated, uploaded, given its ID, tested with, activated,
rotated through NetSuite; connection tests; Auth Details pointed here; the inbound webhook's
202, 401 and 400) and the pages their redirects lead to, the CSV export, the error pages (400,
403, 404, 500, with DEBUG off), every log record of every logger at DEBUG (the NetSuite
client's and the simulator's included, SQL with its parameters), the audit trail, connection
tests and sessions as stored; and, apart, what a real ``db_worker`` and ``run_scheduler
--once`` print.

The secrets: the private keys pasted, uploaded and generated (and the stored PKCS#8 form of the
pasted one), each Webhook API Key (shown once, on the page after the create or the
regenerate, and only there), and the access tokens the simulator issued. No 16-character piece
of a key's base64 body may appear anywhere, except the pieces that are its public key (also in
its certificate, which pages may show), and no key or token either.
"""

from __future__ import annotations

import json
import logging
import subprocess

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from netsuite import certificates as nscert
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, Certificate, ConnectionTest, Job, Subscription
from subscriptions.services.initialization import initialization_start
from subscriptions.services.monitoring import monitoring_settings_set
from subscriptions.services.polling import polling_settings_set
from tests import factories
from tests.html import text_of
from tests.processes import ROOT, ProcessGroup, django_env, manage
from tests.property.strategies import secret_windows

from .hardening import ACCESS, ANON, ROLES, build_world, every_url, path_of

pytestmark = pytest.mark.django_db

WINDOW = 16  # characters of a key's base64 body that count as a leak


class Collected:
    """Everything the session produced, by where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def response(self, label: str, response) -> None:
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
        parts = [body.decode(errors="replace"), str(dict(response.headers))]
        parts += [morsel.OutputString() for morsel in response.cookies.values()]
        self.texts.append((label, "\n".join(parts)))

    def text(self, label: str, text: str) -> None:
        self.texts.append((label, text))


def capture_every_logger(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        if not logger.propagate:
            logger.addHandler(caplog.handler)


def log_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        lines += [record.getMessage(), repr(record.args), repr(record.__dict__)]
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def post(admin, collected, label: str, path: str, data=None, *, partial=False, status=None):
    """A POST as the page makes it (``partial``: as htmx does), collected; a redirect is
    followed once and the page it leads to is collected too (it shows the flashed outcome).
    Returns the last response."""
    headers = {"HTTP_HX_REQUEST": "true"} if partial else {}
    response = admin.post(path, data or {}, **headers)
    if status is not None:
        assert response.status_code == status, (label, response.status_code, response.content)
    assert response.status_code < 500, label
    collected.response(f"POST {label} ({response.status_code})", response)
    if response.status_code == 302:
        followed = admin.get(response["Location"])
        collected.response(f"POST {label}, then GET {response['Location']}", followed)
        return followed
    return response


@pytest.fixture
def session(netsuite_sim, ec_pair, role_users, caplog, settings):
    """Creates the subscription through the form, tests its connection, points NetSuite's
    Auth Details at it; returns the secrets and what was collected meanwhile."""
    settings.DEBUG = False
    capture_every_logger(caplog)
    connection.force_debug_cursor = True
    admin_user = role_users[factories.Role.ADMINISTRATOR]
    admin = factories.logged_in_client(admin_user)
    collected = Collected()

    key = factories.rsa_key(3072)
    pasted = factories.key_pem(key)
    consumer_id = netsuite_sim.sim.create_integration("1234567")
    certificate_id = netsuite_sim.register(consumer_id, factories.certificate_pem(key))
    form = factories.create_form_data(
        private_key_pem=pasted,
        account_id="1234567",
        consumer_id=consumer_id,
        certificate_id=certificate_id,
        api_throttle_limit="1000",
    )
    created = admin.post(reverse("subscriptions:create"), form)
    assert created.status_code == 302, created.content
    collected.response("POST create (302)", created)
    shown_once = admin.get(created["Location"])
    webhook_key = text_of(shown_once, "new-webhook-key")
    assert "no-store" in shown_once["Cache-Control"]
    collected.response(SHOWN_AFTER_CREATE, shown_once)
    # The same form again: refused (the name is taken), the pasted key kept but not shown.
    refused = admin.post(reverse("subscriptions:create"), form)
    assert refused.status_code in (200, 400) and "already exists" in refused.content.decode()
    collected.response(f"POST create, refused ({refused.status_code})", refused)
    subscription = Subscription.objects.get(name="Acme Production")
    post(admin, collected, "connection test",
         reverse("subscriptions:connection_test", args=[subscription.pk]), status=302)
    tokens = set(netsuite_sim.sim.state.tokens)
    assert tokens, "the connection test got no access token"
    use_dashboard(admin, collected, subscription)
    world = build_world(netsuite_sim, ec_pair, admin_user, subscription=subscription)
    staged_key = world["certificate"].private_key
    assert "PRIVATE KEY" in staged_key
    yield {
        "admin": admin,
        "world": world,
        "collected": collected,
        "keys": [pasted, factories.key_pem(key, factories.TRADITIONAL), staged_key],
        # Each Webhook API Key and the one text that may show it.
        "webhook_keys": {webhook_key: SHOWN_AFTER_CREATE},
        "tokens": tokens,
    }
    connection.force_debug_cursor = False


SHOWN_AFTER_CREATE = "the page after the create, which shows the Webhook API Key once"
SHOWN_AFTER_REGENERATE = "the page after the regenerate, which shows the new key once"


def use_dashboard(admin, collected, subscription) -> None:
    """Auth Details' Production entry pointed at this dashboard: the confirmation step, then
    the confirmed overwrite (which sends the Webhook API Key to NetSuite)."""
    path = reverse("subscriptions:auth_details_use_dashboard", args=[subscription.pk, 1])
    entry = {"name": "Production", "token_set": "0"}
    asked = post(admin, collected, "use-dashboard (confirmation step)", path, entry)
    assert "Point Production at this dashboard?" in asked.content.decode()
    done = post(
        admin, collected, "use-dashboard (confirmed)", path,
        {**entry, "confirmed": "1", "confirm_name": "Production"}, partial=True, status=200,
    )
    assert "NetSuite now sends webhooks to this dashboard" in done.content.decode()


def visit_everything(session, role_users) -> None:
    collected, world = session["collected"], session["world"]
    clients = {ANON: Client()}
    for role, user in role_users.items():
        clients[role] = factories.logged_in_client(user)
    for client in clients.values():
        client.raise_request_exception = False
    for url in every_url():
        spec = ACCESS.get(url.name, {})
        if "GET" not in spec or url.name == "logout":
            continue
        path = path_of(url, world)
        for role in ROLES:
            response = clients[role].get(path)
            assert response.status_code < 500, (url.name, role)
            collected.response(f"GET {path} as {role}", response)
            if role == "administrator":  # the partials of the role that sees the most
                partial = clients[role].get(path, HTTP_HX_REQUEST="true")
                collected.response(f"GET {path} as {role} (HTMX)", partial)
    for role in ("administrator", "auditor"):
        export = clients[role].post(reverse("subscriptions:audit_export"))
        assert export.status_code == 200
        collected.response(f"CSV export as {role}", export)
    admin = clients["administrator"]
    bad_form = admin.post(
        reverse("subscriptions:create"),
        data=b"name=\xff\xfe",
        content_type="application/x-www-form-urlencoded",
    )
    assert bad_form.status_code == 400
    collected.response("400", bad_form)
    forbidden = clients["auditor"].get(reverse("subscriptions:create"))
    assert forbidden.status_code == 403
    collected.response("403", forbidden)
    missing = admin.get(reverse("subscriptions:detail", args=[world["subscription"].pk + 999]))
    assert missing.status_code == 404
    collected.response("404", missing)
    request = RequestFactory().get(reverse("subscriptions:detail", args=[world["subscription"].pk]))
    request.user = role_users["administrator"]
    callback = get_resolver().resolve_error_handler(500)
    collected.response("500", callback(request))


def inbound(collected, subscription, label: str, body, key: str | None, status: int) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key is not None else {}
    response = Client().post(
        reverse("subscriptions:inbound_webhook", args=[subscription.pk]),
        data=body, content_type="application/json", **headers,
    )
    assert response.status_code == status, (label, response.content)
    collected.response(f"POST inbound webhook, {label} ({status})", response)


def post_everything(session, netsuite_sim) -> None:
    """The state-changing POSTs, each answer collected (and the page a redirect leads to):
    a new Webhook API Key and the inbound webhook with it, the old one and no JSON; a
    certificate generated, given its ID, tested, activated; uploads, refused and staged; a
    rotation through NetSuite; Auth Details pointed here again with the new key."""
    admin, collected, world = session["admin"], session["collected"], session["world"]
    subscription = world["subscription"]
    pk = subscription.pk
    old_key = next(iter(session["webhook_keys"]))

    # -- a new Webhook API Key, shown once; the inbound webhook with it and with the old one
    regenerated = admin.post(
        reverse("subscriptions:webhook_key_regenerate", args=[pk]), {"reason": "hardening"}
    )
    assert regenerated.status_code == 302
    collected.response("POST webhook key regenerate (302)", regenerated)
    shown = admin.get(regenerated["Location"])
    new_key = text_of(shown, "new-webhook-key")
    assert new_key and new_key != old_key
    collected.response(SHOWN_AFTER_REGENERATE, shown)
    session["webhook_keys"][new_key] = SHOWN_AFTER_REGENERATE
    notification = json.dumps(
        {"notifications": [{"scope": "customer/updated", "external_id": "107"}]}
    )
    inbound(collected, subscription, "the new key", notification, new_key, 202)
    inbound(collected, subscription, "the old key", notification, old_key, 401)
    inbound(collected, subscription, "no key", notification, None, 401)
    inbound(collected, subscription, "not JSON", '{"notifications": [', new_key, 400)
    use_dashboard(admin, collected, subscription)

    # -- generated, given its Certificate ID, tested with, activated -------------------------
    post(admin, collected, "certificate generate",
         reverse("subscriptions:certificate_generate", args=[pk]),
         {"key_type": "ec-p256", "days": "365"}, partial=True, status=200)
    staged = Certificate.objects.get(subscription=subscription, status=Certificate.Status.STAGED)
    session["keys"].append(staged.private_key)
    set_id = reverse("subscriptions:certificate_set_id", args=[pk, staged.pk])
    post(admin, collected, "certificate set-id, refused", set_id,
         {"certificate_id": "has spaces in it"}, status=400)
    netsuite_id = netsuite_sim.register(subscription.consumer_id, staged.certificate_pem)
    post(admin, collected, "certificate set-id", set_id, {"certificate_id": netsuite_id},
         partial=True, status=200)
    connection_test = reverse("subscriptions:connection_test", args=[pk])
    post(admin, collected, "connection test of the staged certificate (htmx)", connection_test,
         {"certificate": staged.pk}, partial=True, status=200)
    test = ConnectionTest.objects.latest("id")
    step = reverse("subscriptions:connection_test_step", args=[pk, test.pk])
    while ConnectionTest.objects.get(pk=test.pk).is_running:
        post(admin, collected, "connection test step", step, partial=True, status=200)
    assert ConnectionTest.objects.get(pk=test.pk).outcome == ConnectionTest.Outcome.PASSED
    activate = reverse("subscriptions:certificate_activate", args=[pk, staged.pk])
    post(admin, collected, "certificate activate (confirmation step)", activate, status=200)
    post(admin, collected, "certificate activate", activate, {"confirmed": "1"},
         partial=True, status=200)
    assert Subscription.objects.get(pk=pk).certificate_id == netsuite_id

    # -- uploads: a key with another key's certificate is refused, a pair is staged ----------
    upload = reverse("subscriptions:certificate_upload", args=[pk])
    uploaded, certificate = nscert.generate_key_and_certificate("ec-p256")
    stranger, _ = nscert.generate_key_and_certificate("ec-p256")
    session["keys"] += [uploaded, stranger]

    def files(pem: str, certificate: str) -> dict:
        return {
            "private_key_file": SimpleUploadedFile("key.pem", pem.encode()),
            "certificate_file": SimpleUploadedFile("cert.pem", certificate.encode()),
        }

    post(admin, collected, "certificate upload, refused", upload,
         files(stranger, certificate), status=400)
    post(admin, collected, "certificate upload", upload,
         files(uploaded, certificate), partial=True, status=200)
    assert Certificate.objects.get(
        subscription=subscription, status=Certificate.Status.STAGED
    ).public_key_fingerprint

    # -- a rotation through NetSuite: a key made here, its certificate sent there -----------
    rotated = post(admin, collected, "certificate rotate",
                   reverse("subscriptions:certificate_rotate", args=[pk]),
                   {"rotate-key_type": "ec-p256", "rotate-days": "365"}, partial=True, status=200)
    assert "Rotated through NetSuite" in rotated.content.decode()
    now_active = Subscription.objects.get(pk=pk)
    assert now_active.certificate_id != netsuite_id
    session["keys"].append(now_active.private_key)
    session["tokens"] |= set(netsuite_sim.sim.state.tokens)


def leaked(texts: list[tuple[str, str]], pem: str) -> tuple[str, str] | None:
    """``(label, window)`` of the first text holding a secret window of ``pem``."""
    secret = secret_windows(pem, WINDOW)
    assert len(secret) > 20, "too little of the key left to look for"
    for label, text in texts:
        flat = "".join(text.split())
        for window in secret:
            if window in text or window in flat:
                return label, window
    return None


def assert_no_secret_in(everything, session) -> None:
    for pem in session["keys"]:
        found = leaked(everything, pem)
        assert found is None, "private key material {1!r} in {0}".format(*found or ("", ""))
    for token in session["tokens"]:
        for label, text in everything:
            assert token not in text, f"an access token in {label}"
    for webhook_key, shown_in in session["webhook_keys"].items():
        holding = [label for label, text in everything if webhook_key in text]
        assert holding == [shown_in], f"the Webhook API Key in {holding}"


def test_no_secret_reaches_a_page_an_export_a_log_or_the_stored_trail(
    session, role_users, caplog, netsuite_sim
):
    visit_everything(session, role_users)
    post_everything(session, netsuite_sim)
    collected = session["collected"]
    stored = json.dumps(
        [
            list(AuditEvent.objects.order_by("id").values()),
            list(ConnectionTest.objects.order_by("id").values()),
            # Kept keys and shown-once keys live in the session, encrypted.
            [s.get_decoded() for s in Session.objects.all()],
        ],
        default=str,
    )
    logs = log_text(caplog)
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"
    assert any(r.name.startswith("netsuite") for r in caplog.records), "no NetSuite log"
    assert "Acme Production" in stored and "subscription.created" in stored
    everything = [*collected.texts, ("logs", logs), ("stored audit and tests", stored)]
    assert len(collected.texts) > 100
    posts = [label for label, _ in collected.texts if label.startswith("POST")]
    assert len(posts) >= 25, posts
    assert len(session["keys"]) == 7 and len(session["tokens"]) >= 3
    assert_no_secret_in(everything, session)


@pytest.mark.django_db(transaction=True)
def test_no_secret_in_what_a_worker_and_the_scheduler_print(netsuite_sim, tmp_path):
    """A real ``manage.py db_worker`` (logging at DEBUG) runs an initialization, with a 503 it
    retries, and the inventory poll a real ``run_scheduler --once`` queued beside a scheduled
    connection test; nothing either printed holds the subscription's key, its Webhook API Key
    or an access token the simulator issued."""
    state = netsuite_sim.sim.state
    state.record_counts.update(customercategory=2500)
    subscription = netsuite_sim.subscription("Process Co", concurrent_connections=2)
    stored = Subscription.objects.get(pk=subscription.pk)
    monitoring_settings_set(subscription=subscription, minutes=15, actor=COMMAND_LINE)
    polling_settings_set(subscription=subscription, actor=COMMAND_LINE, enabled=True, minutes=30)
    state.add_fault(kind="suiteql", status=503, count=1)
    env = django_env(
        NETSUITE_BASE_URL=netsuite_sim.base_url,
        NETSUITE_SIMULATOR="1",
        NETSUITE_TIMEOUT_READ="5",
        LOG_LEVEL="DEBUG",
    )
    group = ProcessGroup(tmp_path / "logs")
    job = initialization_start(subscription=subscription, types=None, actor=COMMAND_LINE)
    worker_out = tmp_path / "db_worker.out"
    argv = manage("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1",
                  "--worker-id", "secrets-worker")
    try:
        with open(worker_out, "wb") as out:
            group.start("db_worker", argv, env, stdout=out)

        def ended(pk):
            return lambda: not Job.objects.get(pk=pk).is_active

        group.wait_for(ended(job.pk), 60, "the initialization to end")
        scheduler = subprocess.run(
            manage("run_scheduler", "--once"),
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert scheduler.returncode == 0, scheduler.stderr
        poll = Job.objects.get(subscription=subscription, kind=Job.Kind.INVENTORY_POLL)
        group.wait_for(ended(poll.pk), 60, "the inventory poll to end")
    finally:
        group.stop()
    for finished in (job, poll):
        finished.refresh_from_db()
        assert finished.status == Job.Status.SUCCEEDED, (finished.kind, finished.log)
    assert "inventory poll(s) queued: Process Co" in scheduler.stdout
    assert "monitoring: tested 1, passed 1" in scheduler.stdout, scheduler.stdout
    worker = worker_out.read_text(errors="replace") + group.said("db_worker", chars=10**9)
    # What there was to look at: the worker's DEBUG log of its NetSuite calls, the retry.
    assert "netsuite token issued" in worker and "suiteql" in worker, worker[-2000:]
    assert state.counters["faults_served"] == 1
    printed = [
        ("db_worker output", worker),
        ("run_scheduler --once stdout", scheduler.stdout),
        ("run_scheduler --once stderr", scheduler.stderr),
    ]
    tokens = set(state.tokens)
    assert len(tokens) >= 2  # the job's and the scheduled connection test's
    for pem in (subscription.test_key_pem, stored.private_key):
        found = leaked(printed, pem)
        assert found is None, "private key material {1!r} in {0}".format(*found or ("", ""))
    for label, text in printed:
        assert stored.webhook_api_key not in text, f"the Webhook API Key in {label}"
        for token in tokens:
            assert token not in text, f"an access token in {label}"
