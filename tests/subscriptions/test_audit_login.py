"""Logins through the real login view are audited; repeated failures lock the account out."""

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent
from tests.factories import PASSWORD

LOGIN = reverse("login")
WRONG = "not-the-password-XYZ-987"


@pytest.fixture
def web():
    return Client()


def _logged_in(web) -> bool:
    return "_auth_user_id" in web.session


def test_a_login_is_audited_with_address_and_request_id(web, support_user):
    response = web.post(
        LOGIN,
        {"username": "sam-support", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
        headers={"X-Request-ID": "forged-by-the-client"},
    )
    assert response.status_code == 302
    assert _logged_in(web)
    event = AuditEvent.objects.get(action="login")
    assert (event.actor_name, event.actor_id) == ("sam-support", support_user.pk)
    # The id is the server's own (also sent back), never one the client chose.
    assert event.remote_addr == "198.51.100.7"
    assert event.request_id == response["X-Request-ID"]
    assert event.request_id != "forged-by-the-client" and len(event.request_id) == 32


def test_a_failed_login_is_audited_without_the_password(web, support_user):
    response = web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert not _logged_in(web)
    event = AuditEvent.objects.get(action="login_failed")
    assert event.actor_name == "anonymous (sam-support)"
    assert event.actor_id is None
    everything = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert WRONG not in everything


def test_logout_is_audited(web, support_user):
    web.post(LOGIN, {"username": "sam-support", "password": PASSWORD})
    web.post(reverse("logout"))
    assert not _logged_in(web)
    assert AuditEvent.objects.filter(action="logout", actor_name="sam-support").count() == 1


def test_repeated_failures_lock_the_account_even_against_the_right_password(web, support_user):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _ in range(limit - 1):
        response = web.post(LOGIN, {"username": "sam-support", "password": WRONG})
        assert response.status_code == 200
    locked = web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content

    right = web.post(LOGIN, {"username": "sam-support", "password": PASSWORD})
    assert right.status_code == 429
    assert b"Too many failed logins" in right.content
    assert not _logged_in(web)
    assert not AuditEvent.objects.filter(action="login").exists()
    assert AuditEvent.objects.filter(action="login_failed").count() >= limit


def test_another_account_from_the_same_address_still_logs_in(web, support_user, auditor_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    other = Client()
    response = other.post(LOGIN, {"username": "ada-auditor", "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in(other)
