"""The security review's findings on audit, users, keys and forms (issue 18, part D1): one
test per finding, each failing on the code before its fix.

Every test drives the real parts: the verify command and page, the people pages, the
subscription form, the set-password link through Django's test client; state is read back
from the database.
"""

import hashlib
import importlib
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from netsuite import certificates as nscert
from subscriptions import audit
from subscriptions.actors import COMMAND_LINE
from subscriptions.models import AuditEvent, AuditKeying, Role, Subscription
from subscriptions.models.audit import LEGACY_SCHEME
from tests import factories
from tests.html import text_of
from tests.subscriptions.test_audit_chain import raw_update, tampering

VERIFY = reverse("subscriptions:audit_verify")
INVITE = reverse("subscriptions:people_invite")
PEOPLE = reverse("subscriptions:people")
NEW_PASSWORD = "a long new passphrase 9137"


def verify_command(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def recorded(n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit.record(actor=COMMAND_LINE, action=f"test.{i}", reason=f"r{i}"))
    return events


def forge_as_plain_sha256(events) -> None:
    """What someone with table access but without the key can do: rewrite every event from
    the first one as plain SHA-256, each linked to the forged one before it."""
    previous = audit.GENESIS
    with tampering():
        for event in events:
            event = AuditEvent.objects.get(pk=event.pk)
            event.hash_scheme, event.prev_hash = LEGACY_SCHEME, previous
            event.hash = previous = hashlib.sha256(event.canonical()).hexdigest()
            raw_update(
                event.pk, hash_scheme=LEGACY_SCHEME, prev_hash=event.prev_hash, hash=event.hash
            )


# F1: the chain forged without its key ----------------------------------------------------


def test_f1_a_trail_forged_as_plain_sha256_from_its_first_event_is_broken(auditor_client):
    events = list(AuditEvent.objects.order_by("id")) + recorded(3)
    assert verify_command()[0] == 0
    forge_as_plain_sha256(events)

    code, output = verify_command()
    assert code == 1
    assert output.startswith(f"broken at event {events[0].pk}: it has a plain hash")
    answer = auditor_client.get(VERIFY)
    assert answer.status_code == 200
    assert f"The chain is broken at event {events[0].pk}" in text_of(answer, "audit-chain-result")


def test_f1_the_verify_page_takes_an_anchor_and_says_whether_it_still_holds(auditor_client):
    recorded(2)
    head = AuditEvent.objects.order_by("-id").first()
    anchor = f"{head.pk}:{head.hash}"

    held = auditor_client.get(VERIFY, {"anchor": anchor}, HTTP_HX_REQUEST="true")
    assert held.status_code == 200
    result = text_of(held, "audit-chain-result")
    assert "The chain is intact" in result
    assert f"still ends in the anchor's hash at event {head.pk}" in result

    wrong = auditor_client.get(VERIFY, {"anchor": f"{head.pk}:{'0' * 64}"})
    assert wrong.status_code == 200
    result = text_of(wrong, "audit-chain-result")
    assert f"The chain is broken at event {head.pk}" in result
    assert "differs from the anchor" in result

    malformed = auditor_client.get(VERIFY, {"anchor": "not-an-anchor"})
    assert malformed.status_code == 400
    assert "ID:HASH" in text_of(malformed, "audit-chain-result")


def upgrade_keying_point() -> None:
    """What migration 0018 does on an installation upgraded with plain events: record the
    keying point after them (the test database's own record, written on an empty trail, is
    removed first, as an intruder could)."""
    from django.apps import apps

    migration = importlib.import_module("subscriptions.migrations.0018_audit_keying")
    with tampering(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM subscriptions_auditkeying")
    migration.record_keying(apps, None)


def test_f1_events_from_before_the_recorded_keying_point_stay_accepted(db):
    older = factories.append_events([{"action": f"old.{i}"} for i in range(2)], legacy=True)
    upgrade_keying_point()
    assert AuditKeying.objects.get().legacy_until_id == older[-1].pk
    recorded(1)
    assert verify_command() == (0, "intact, 3 events (2 from before the chain was keyed)\n")


def test_f1_a_removed_or_moved_keying_point_blesses_no_forged_event(db):
    events = recorded(3)
    forge_as_plain_sha256(events)
    # Removed: no record reads as one that accepts no plain event, and a write never
    # records a point that would bless the plain events already there.
    with tampering(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM subscriptions_auditkeying")
    assert verify_command()[0] == 1
    later = recorded(1)[0]
    assert not AuditKeying.objects.filter(legacy_until_id__gt=0).exists()
    assert verify_command()[0] == 1
    AuditKeying.sealed(legacy_until_id=0, keyed_at=later.created_at).save()
    # Moved forward without the key: its seal no longer matches.
    with tampering(), connection.cursor() as cursor:
        cursor.execute("UPDATE subscriptions_auditkeying SET legacy_until_id = %s", [later.pk])
    code, output = verify_command()
    assert code == 1 and "does not match its seal" in output


# 500s ------------------------------------------------------------------------------------


def test_500_inviting_the_full_width_look_alike_of_a_username_is_a_form_error(
    admin_client_, admin_user
):
    before = get_user_model().objects.count()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in "alice-admin")
    response = admin_client_.post(
        INVITE, {"username": fullwidth, "email": "m@example.com", "role": Role.AUDITOR}
    )
    assert response.status_code == 400
    assert "looks like alice-admin" in response.content.decode()
    assert get_user_model().objects.count() == before


@pytest.mark.parametrize("page", ["audit", "events"])
def test_500_a_date_to_of_9999_12_31_is_a_form_error(page, admin_client_, admin_user):
    if page == "audit":
        url = reverse("subscriptions:audit_list")
    else:
        subscription, _ = factories.make_subscription(admin_user)
        url = reverse("subscriptions:events", args=[subscription.pk])
    for field in ("date_to", "date_from"):
        response = admin_client_.get(url, {field: "9999-12-31"})
        assert response.status_code == 200
        assert "Enter a date between 1900-01-01 and 9998-12-31" in response.content.decode()


def test_500_an_invitation_email_over_254_characters_is_a_form_error(admin_client_):
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.com"
    assert len(email) > 254
    response = admin_client_.post(
        INVITE, {"username": "longmail", "email": email, "role": Role.AUDITOR}
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    assert not get_user_model().objects.filter(username="longmail").exists()


# Accepted wrongly ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookalike",
    ["\u0430dmin", "adm\u0131n", "\uff41\uff44\uff4d\uff49\uff4e", "ADM\u0406N"],
    ids=["cyrillic-a", "dotless-i", "full-width", "upper-cyrillic-i"],
)
def test_accepted_wrongly_look_alike_usernames_are_refused(lookalike, admin_client_, make_user):
    make_user("admin", Role.ADMINISTRATOR)
    before = get_user_model().objects.count()
    response = admin_client_.post(
        INVITE, {"username": lookalike, "email": "m@example.com", "role": Role.AUDITOR}
    )
    assert response.status_code == 400
    assert "looks like admin" in response.content.decode()

    # Refused before the password is asked for.
    with pytest.raises(CommandError, match="looks like admin"):
        call_command("create_user", lookalike, "--role", "auditor")
    from subscriptions.services.errors import InvalidInput
    from subscriptions.services.users import user_create

    with pytest.raises(InvalidInput):
        user_create(username=lookalike, password=NEW_PASSWORD, role="auditor", actor=COMMAND_LINE)
    assert get_user_model().objects.count() == before
    # A plainly different name is still welcome.
    ok = admin_client_.post(
        INVITE, {"username": "admins", "email": "s@example.com", "role": Role.AUDITOR}
    )
    assert ok.status_code == 302


@pytest.mark.parametrize(
    "extra",
    ["second-key", "markup"],
)
def test_accepted_wrongly_a_pasted_key_with_more_after_it_is_refused(
    extra, admin_client_, rsa_pem
):
    other = nscert.private_key_to_pem(nscert.generate_private_key("ec-p256"))
    pasted = rsa_pem + (other if extra == "second-key" else "<script>alert(1)</script>\n")
    with pytest.raises(nscert.CertificateError, match="exactly one private key"):
        nscert.load_private_key(pasted)

    response = admin_client_.post(
        reverse("subscriptions:create"), factories.create_form_data(private_key_pem=pasted)
    )
    assert response.status_code in (200, 400)
    assert "exactly one private key" in response.content.decode()
    assert not Subscription.objects.exists()

    # Whitespace around the one block is fine, and what is stored is the key re-serialised.
    response = admin_client_.post(
        reverse("subscriptions:create"),
        factories.create_form_data(private_key_pem="\n\n  " + rsa_pem + "\n\n"),
    )
    assert response.status_code == 302
    stored = Subscription.objects.get().private_key
    assert stored == nscert.private_key_to_pem(nscert.load_private_key(rsa_pem))


def test_accepted_wrongly_a_multipart_post_that_is_not_utf8_is_a_400(admin_user, support_user):
    web = Client(enforce_csrf_checks=True)
    web.force_login(admin_user)
    web.get(PEOPLE)
    token = web.cookies["csrftoken"].value.encode()
    boundary = b"BoUnDaRy"

    def part(name: bytes, value: bytes) -> bytes:
        return (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
        )

    body = (
        part(b"csrfmiddlewaretoken", token)
        + part(b"active", b"false")
        + part(b"reason", b"\xff\xff")
        + b"--" + boundary + b"--\r\n"
    )
    before = AuditEvent.objects.count()
    response = web.post(
        reverse("subscriptions:people_set_active", args=[support_user.pk]),
        body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert response.status_code == 400
    support_user.refresh_from_db()
    assert support_user.is_active
    assert AuditEvent.objects.count() == before

    # The same post in UTF-8 goes through.
    body = body.replace(b"\xff\xff", "café".encode())
    response = web.post(
        reverse("subscriptions:people_set_active", args=[support_user.pk]),
        body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="user.deactivated").reason == "café"


# Tokens and links ------------------------------------------------------------------------


def link_in(message) -> str:
    match = re.search(r"http://testserver(/people/set-password/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_tokens_the_set_password_token_is_not_readable_in_the_session_table(admin_client_):
    admin_client_.post(INVITE, {"username": "nina", "email": "n@example.com", "role": "support"})
    link = link_in(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    anonymous = Client()
    opened = anonymous.get(link)
    assert opened.status_code == 302
    stored = [s.get_decoded() for s in Session.objects.all()]
    assert stored and not any(token in repr(data) for data in stored)
    # The link still works from that session, once.
    form_page = anonymous.get(opened["Location"])
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    posted = anonymous.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert posted.status_code == 302
    assert get_user_model().objects.get(username="nina").check_password(NEW_PASSWORD)


def test_tokens_a_link_is_refused_after_its_person_is_deactivated_and_reactivated(
    admin_client_, support_user
):
    support_user.email = "sam@example.com"
    support_user.save(update_fields=["email"])
    admin_client_.post(reverse("subscriptions:people_send_password_link", args=[support_user.pk]))
    link = link_in(mail.outbox[0])
    for active in ("false", "true"):
        admin_client_.post(
            reverse("subscriptions:people_set_active", args=[support_user.pk]),
            {"active": active},
        )
    support_user.refresh_from_db()
    assert support_user.is_active
    again = Client().get(link)
    assert again.status_code == 200
    assert "already been used or has expired" in again.content.decode()
