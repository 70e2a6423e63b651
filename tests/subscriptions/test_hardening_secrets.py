"""A subscription with every kind of secret, then a search for them in everything the
dashboard produced: every page every role may open (and the refusals of the others), the
CSV export, the error pages (400, 403, 404, 500, with DEBUG off), every log record of every
logger at DEBUG (the NetSuite client's and the simulator's included, SQL with its
parameters), and the audit trail and connection tests as stored.

The secrets: the private key pasted into the create form (and its stored PKCS#8 form), the
staged certificate's generated key, the Webhook API Key (shown once, on the page after the
create, and only there), and the access tokens the simulator issued to the connection test.
No 16-character piece of a key's body and no key or token may appear anywhere else.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from subscriptions.models import AuditEvent, ConnectionTest, Subscription
from subscriptions.services.auth_details import auth_details_use_dashboard
from tests import factories
from tests.html import text_of
from tests.property.strategies import leaked_window

from .hardening import ACCESS, ANON, ROLES, build_world, every_url, path_of

pytestmark = pytest.mark.django_db


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
    created = admin.post(
        reverse("subscriptions:create"),
        factories.create_form_data(
            private_key_pem=pasted,
            account_id="1234567",
            consumer_id=consumer_id,
            certificate_id=certificate_id,
            api_throttle_limit="1000",
        ),
    )
    assert created.status_code == 302, created.content
    shown_once = admin.get(created["Location"])
    webhook_key = text_of(shown_once, "new-webhook-key")
    assert "no-store" in shown_once["Cache-Control"]
    subscription = Subscription.objects.get(name="Acme Production")
    tested = admin.post(reverse("subscriptions:connection_test", args=[subscription.pk]))
    collected.response("connection test", tested)
    tokens = set(netsuite_sim.sim.state.tokens)
    assert tokens, "the connection test got no access token"
    auth_details_use_dashboard(
        subscription=subscription,
        entry_id="1",
        inbound_url=f"http://testserver/hooks/netsuite/{subscription.pk}/",
        actor=admin_user,
        allow_http=True,
    )
    world = build_world(netsuite_sim, ec_pair, admin_user, subscription=subscription)
    staged_key = world["certificate"].private_key
    assert "PRIVATE KEY" in staged_key
    yield {
        "admin": admin,
        "world": world,
        "collected": collected,
        "shown_once": shown_once,
        "keys": [pasted, factories.key_pem(key, factories.TRADITIONAL), staged_key],
        "webhook_key": webhook_key,
        "tokens": tokens,
    }
    connection.force_debug_cursor = False


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


def test_no_secret_reaches_a_page_an_export_a_log_or_the_stored_trail(session, role_users, caplog):
    visit_everything(session, role_users)
    collected = session["collected"]
    stored = json.dumps(
        [
            list(AuditEvent.objects.order_by("id").values()),
            list(ConnectionTest.objects.order_by("id").values()),
        ],
        default=str,
    )
    logs = log_text(caplog)
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"
    assert any(r.name.startswith("netsuite") for r in caplog.records), "no NetSuite log"
    assert "Acme Production" in stored and "subscription.created" in stored
    everything = [*collected.texts, ("logs", logs), ("stored audit and tests", stored)]
    assert len(collected.texts) > 100

    for pem in session["keys"]:
        for label, text in everything:
            window = leaked_window(text, pem)
            assert window is None, f"private key material {window!r} in {label}"
    for token in session["tokens"]:
        for label, text in everything:
            assert token not in text, f"an access token in {label}"
    webhook_key = session["webhook_key"]
    assert webhook_key in session["shown_once"].content.decode()
    for label, text in everything:
        assert webhook_key not in text, f"the Webhook API Key in {label}"
