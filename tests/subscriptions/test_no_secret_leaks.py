"""A whole working session, then a search for secrets in everything it produced.

Every response (body, headers, cookies), every log record at DEBUG (SQL with its parameters
included) and every audit event is collected. No base64 line of any private key may appear
anywhere; each Webhook API Key may appear in exactly one place: the response that shows it
once. (The CSV export of the audit trail is tested by its own module.)
"""

import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from tests.factories import (
    PKCS8,
    TRADITIONAL,
    create_form_data,
    ec_key,
    edit_form_data,
    key_pem,
    pem_body_lines,
    rsa_key,
)
from tests.html import text_of

LOGGERS = ["", "django", "django.request", "django.server", "django.db.backends", "axes"]


class Session:
    def __init__(self, caplog):
        self.caplog = caplog
        self.responses = []  # (label, text)

    def keep(self, label, response):
        parts = [response.content.decode(errors="replace"), str(dict(response.headers))]
        parts += [morsel.OutputString() for morsel in response.cookies.values()]
        self.responses.append((label, "\n".join(parts)))
        return response

    def logs(self) -> str:
        lines = []
        for record in self.caplog.records:
            lines.append(record.getMessage())
            lines.append(repr(record.args))
            lines.append(repr(getattr(record, "params", "")))
            lines.append(repr(getattr(record, "sql", "")))
        return "\n".join(lines)


def audit_json() -> str:
    return json.dumps(list(AuditEvent.objects.order_by("id").values()), default=str)


@pytest.mark.django_db
def test_a_full_session_leaks_no_secret(caplog, admin_user, support_user, auditor_user, client_for):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    # SQL is logged with its parameters, as under DEBUG=True: the values written must be
    # ciphertext only.
    connection.force_debug_cursor = True
    try:
        session = Session(caplog)
        run_session(session, admin_user, support_user, auditor_user, client_for)
    finally:
        connection.force_debug_cursor = False
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"

    logs = session.logs()
    audit = audit_json()
    assert "Acme Production" in audit and "Acme Production" in logs  # the collection works

    private_pems = session.private_pems
    secret_lines = {line for pem in private_pems for line in pem_body_lines(pem)}
    assert len(secret_lines) > 40
    for line in secret_lines:
        for label, text in session.responses:
            assert line not in text, f"private key material in the response to {label}"
        assert line not in logs, "private key material in the logs"
        assert line not in audit, "private key material in the audit trail"

    for key, label in session.webhook_keys:
        showing = [lbl for lbl, text in session.responses if key in text]
        assert showing == [label], f"webhook key shown in {showing}, expected only {label}"
        assert key not in logs and key not in audit


def run_session(session, admin_user, support_user, auditor_user, client_for):
    admin = client_for(admin_user)
    first_key = rsa_key(3072)
    pasted = key_pem(first_key, TRADITIONAL)  # PKCS#1 as pasted; stored re-encoded as PKCS#8
    replacement = ec_key("P-256")
    refused_key = key_pem(ec_key("P-384"))
    session.private_pems = [
        pasted,
        key_pem(first_key, PKCS8),
        key_pem(replacement),
        key_pem(replacement, TRADITIONAL),
        refused_key,
    ]

    # Creating: a refused attempt with the key present, then the real one.
    session.keep("create GET", admin.get(reverse("subscriptions:create")))
    refused = admin.post(
        reverse("subscriptions:create"),
        create_form_data(private_key_pem=pasted, concurrent_connections="0"),
    )
    assert refused.status_code == 200 and not Subscription.objects.exists()
    session.keep("create refused", refused)
    created = session.keep(
        "create",
        admin.post(
            reverse("subscriptions:create"), create_form_data(private_key_pem=pasted), follow=True
        ),
    )
    sub = Subscription.objects.get()
    first_webhook_key = text_of(created, "new-webhook-key")
    session.webhook_keys = [(first_webhook_key, "create")]

    # Reading, as each role.
    for role, user in (("admin", admin_user), ("support", support_user), ("auditor", auditor_user)):
        client = admin if role == "admin" else client_for(user)
        session.keep(f"list as {role}", client.get(reverse("subscriptions:list")))
        detail = client.get(reverse("subscriptions:detail", args=[sub.pk]))
        session.keep(f"detail as {role}", detail)
    session.keep("edit GET", admin.get(reverse("subscriptions:edit", args=[sub.pk])))
    session.keep(
        "api url preview",
        admin.get(reverse("subscriptions:api_url_preview"), {"account_id": "1234567_SB1"}),
    )

    # Editing without a key, then with a new key, then refused with a key present.
    edit_url = reverse("subscriptions:edit", args=[sub.pk])
    saved = admin.post(edit_url, edit_form_data(sub, consumer_id="consumer-2"), follow=True)
    session.keep("edit without key", saved)
    saved = admin.post(
        edit_url,
        edit_form_data(sub, private_key_pem=key_pem(replacement, TRADITIONAL)),
        follow=True,
    )
    session.keep("edit with new key", saved)
    assert Subscription.objects.get().private_key_type == "EC P-256"
    refused = admin.post(
        edit_url, edit_form_data(sub, private_key_pem=refused_key, account_id="not an account")
    )
    assert refused.status_code == 200
    session.keep("edit refused", refused)

    # A conflict while a key is pasted.
    stale = edit_form_data(sub, private_key_pem=refused_key, name="Stale")
    admin.post(edit_url, edit_form_data(sub, certificate_id="cert-3"))
    conflict = admin.post(edit_url, stale)
    assert conflict.status_code == 409
    session.keep("conflict", conflict)

    # Regenerating the webhook key: ask, confirm (htmx), then look again.
    regen_url = reverse("subscriptions:webhook_key_regenerate", args=[sub.pk])
    session.keep("regenerate GET", admin.get(regen_url, headers={"HX-Request": "true"}))
    regenerated = session.keep(
        "regenerate", admin.post(regen_url, {"reason": "rotation"}, headers={"HX-Request": "true"})
    )
    second_webhook_key = text_of(regenerated, "new-webhook-key")
    session.webhook_keys.append((second_webhook_key, "regenerate"))
    session.keep("detail after", admin.get(reverse("subscriptions:detail", args=[sub.pk])))
    session.keep("edit after", admin.get(edit_url))

    # Someone without the right tries; then the deletion.
    support = client_for(support_user)
    session.keep("support regenerate", support.post(regen_url))
    session.keep(
        "support edit", support.post(edit_url, edit_form_data(sub, private_key_pem=pasted))
    )
    delete_url = reverse("subscriptions:delete", args=[sub.pk])
    session.keep("delete GET", admin.get(delete_url))
    session.keep("delete", admin.post(delete_url, {"reason": "done"}, follow=True))
    assert not Subscription.objects.exists()
