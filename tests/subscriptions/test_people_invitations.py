"""Invitations and password links: an administrator invites a person or sends a reset link,
the email (Django's test mailbox) carries a one-time link, the link's page needs no session,
works once, refuses an expired or spent link, and every step is on the audit trail."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent, Role
from subscriptions.permissions import user_role
from tests.factories import PASSWORD, lock_out
from tests.html import form_actions, ids, parse

INVITE = reverse("subscriptions:people_invite")
PEOPLE = reverse("subscriptions:people")
NEW_PASSWORD = "a long new passphrase 9137"


def link_in(message) -> str:
    match = re.search(r"http://testserver(/people/set-password/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def invite(web, **overrides):
    data = {"username": "nina", "email": "nina@example.com", "role": Role.SUPPORT, "reason": ""}
    data.update(overrides)
    return web.post(INVITE, data)


def set_password(link: str, password: str = NEW_PASSWORD):
    """Open the link as the invited person would (no session), then post the new password."""
    anonymous = Client()
    opened = anonymous.get(link)
    assert opened.status_code == 302  # the token moves into the session, out of the URL
    form_page = anonymous.get(opened["Location"])
    assert form_page.status_code == 200
    posted = anonymous.post(
        opened["Location"], {"new_password1": password, "new_password2": password}
    )
    return anonymous, posted


def test_an_invitation_creates_the_person_and_emails_a_link_that_sets_a_password(
    admin_client_, admin_user
):
    response = invite(admin_client_, reason="new on call")
    assert response.status_code == 302 and response["Location"] == PEOPLE
    nina = get_user_model().objects.get(username="nina")
    assert user_role(nina) == Role.SUPPORT.label
    assert not nina.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@example.com"]
    event = AuditEvent.objects.get(action="user.invited")
    assert event.actor_id == admin_user.pk and event.target_id == str(nina.pk)
    assert event.changes["role"] == [None, Role.SUPPORT.label] and event.reason == "new on call"

    anonymous, posted = set_password(link_in(mail.outbox[0]))
    assert posted.status_code == 302 and posted["Location"] == reverse("login")
    nina.refresh_from_db()
    assert nina.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.actor_id == nina.pk and NEW_PASSWORD not in str(event.changes)
    assert anonymous.post(
        reverse("login"), {"username": "nina", "password": NEW_PASSWORD}
    ).status_code == 302


def test_a_used_link_is_refused_with_a_clear_message(admin_client_):
    invite(admin_client_)
    link = link_in(mail.outbox[0])
    set_password(link)
    again = Client().get(link)
    assert again.status_code == 200
    html = again.content.decode()
    assert "already been used or has expired" in html
    assert "new_password1" not in ids(html) and "id_new_password1" not in ids(html)


def test_an_expired_link_is_refused(admin_client_, settings):
    invite(admin_client_)
    link = link_in(mail.outbox[0])
    # The token carries its creation time in seconds: a negative timeout has expired it.
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = Client().get(link)
    assert response.status_code == 200
    assert "already been used or has expired" in response.content.decode()
    assert not get_user_model().objects.get(username="nina").has_usable_password()


def test_a_weak_password_is_refused_and_nothing_is_set(admin_client_):
    invite(admin_client_)
    _anonymous, posted = set_password(link_in(mail.outbox[0]), password="short")
    assert posted.status_code == 200
    assert "id_new_password2_error" in ids(posted.content.decode())
    assert not get_user_model().objects.get(username="nina").has_usable_password()
    assert not AuditEvent.objects.filter(action="user.password_set").exists()


def test_a_refused_invitation_shows_the_errors_and_creates_nobody(admin_client_, support_user):
    response = invite(admin_client_, username=support_user.username.upper(), email="nope")
    assert response.status_code == 400
    page = ids(response.content.decode())
    assert {"id_username_error", "id_email_error"} <= page
    assert get_user_model().objects.filter(username__iexact=support_user.username).count() == 1
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="user.invited").exists()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR])
def test_only_administrators_invite_or_send_links(role, client_for, make_user, support_user):
    other = client_for(make_user("other-" + role, role))
    assert invite(other).status_code == 403
    url = reverse("subscriptions:people_send_password_link", args=[support_user.pk])
    assert other.post(url).status_code == 403
    assert Client().post(INVITE, {"username": "x"}).status_code == 302  # to the login page
    assert not get_user_model().objects.filter(username="nina").exists()
    assert mail.outbox == []


def test_a_reset_link_keeps_the_old_password_until_used_and_is_audited(admin_client_, make_user):
    person = make_user("rosa", Role.SUPPORT)
    person.email = "rosa@example.com"
    person.save()
    page = admin_client_.get(PEOPLE).content.decode()
    url = reverse("subscriptions:people_send_password_link", args=[person.pk])
    assert url in form_actions(page)
    response = admin_client_.post(url, {"reason": "forgot it"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rosa@example.com"]
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.password_link_sent")
    assert event.target_id == str(person.pk) and event.reason == "forgot it"

    set_password(link_in(mail.outbox[0]))
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and not person.check_password(PASSWORD)


def test_no_link_without_an_email_address(admin_client_, support_user):
    url = reverse("subscriptions:people_send_password_link", args=[support_user.pk])
    response = admin_client_.post(url, follow=True)
    assert "no email address on record" in response.content.decode()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="user.password_link_sent").exists()


def test_a_deactivated_persons_link_no_longer_works(admin_client_):
    invite(admin_client_)
    nina = get_user_model().objects.get(username="nina")
    deactivate = reverse("subscriptions:people_set_active", args=[nina.pk])
    admin_client_.post(deactivate, {"active": "false"})
    response = Client().get(link_in(mail.outbox[0]))
    assert response.status_code == 200
    assert "already been used or has expired" in response.content.decode()


def test_the_lockout_page_links_back_to_login(support_user):
    lock_out(support_user.username, address="192.0.2.77")
    response = Client(REMOTE_ADDR="192.0.2.77").post(
        reverse("login"), {"username": support_user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    links = [a.get("href") for a in parse(response.content.decode()).find_all("a")]
    assert reverse("login") in links
