"""Logins through the real login view are audited; repeated failures lock the account out at
that address, many failures lock the address; failed logins are coalesced on the trail."""

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from subscriptions import signals
from subscriptions.models import AuditEvent
from tests.factories import PASSWORD

LOGIN = reverse("login")
WRONG = "not-the-password-XYZ-987"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The coalescing of failed logins counts in the cache.
    cache.clear()
    yield
    cache.clear()


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
    limit = settings.LOGIN_FAILURE_LIMIT
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
    # Coalesced: the first failure of the minute is on record, the rest are counted.
    assert AuditEvent.objects.filter(action="login_failed").count() == 1


def test_another_account_from_the_same_address_still_logs_in(web, support_user, auditor_user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    other = Client()
    response = other.post(LOGIN, {"username": "ada-auditor", "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in(other)


# The address behind the TLS proxy -----------------------------------------------------------

PROXY = "10.0.0.2"


def post_from(web, address, username, password=WRONG, *, forwarded=None):
    """A login through the proxy: REMOTE_ADDR is the proxy, the client is what it appended."""
    chain = f"{forwarded}, {address}" if forwarded else address
    return web.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=chain,
    )


@pytest.fixture
def behind_proxy(settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0


def test_behind_the_proxy_one_address_cannot_lock_out_a_person_at_another(
    behind_proxy, web, support_user
):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        post_from(web, "203.0.113.66", "sam-support")
    assert post_from(web, "203.0.113.66", "sam-support", PASSWORD).status_code == 429
    other = Client()
    response = post_from(other, "198.51.100.7", "sam-support", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(other)
    event = AuditEvent.objects.get(action="login")
    assert event.remote_addr == "198.51.100.7"
    assert AuditEvent.objects.get(action="login_failed").remote_addr == "203.0.113.66"


def test_behind_the_proxy_a_forged_forwarded_for_does_not_choose_the_address(
    behind_proxy, web, support_user
):
    # Whatever the client writes itself ends up left of what the proxy appends.
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        post_from(web, "203.0.113.66", "sam-support", forwarded=f"198.51.100.{i}")
    assert post_from(web, "203.0.113.66", "sam-support", PASSWORD).status_code == 429
    assert set(AuditEvent.objects.values_list("remote_addr", flat=True).filter(
        action="login_failed"
    )) == {"203.0.113.66"}


def test_without_the_proxy_setting_the_forwarded_header_is_ignored(web, support_user):
    assert settings.AXES_IPWARE_META_PRECEDENCE_ORDER == ("REMOTE_ADDR",)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        post_from(web, "203.0.113.66", "sam-support")
    # Every post came from the proxy's address, whatever the header said.
    assert post_from(web, "198.51.100.7", "sam-support", PASSWORD).status_code == 429
    assert AuditEvent.objects.get(action="login_failed").remote_addr == PROXY


def test_password_spraying_from_one_address_is_locked_at_the_address_limit(web, make_user):
    per_address = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    assert per_address > settings.LOGIN_FAILURE_LIMIT
    make_user("victim-1")
    # Each username fails fewer times than the per-person limit ...
    names = [f"guess-{i}" for i in range(per_address)]
    for name in names[:-1]:
        assert web.post(LOGIN, {"username": name, "password": WRONG}).status_code == 200
    assert web.post(LOGIN, {"username": names[-1], "password": WRONG}).status_code == 429
    # ... yet the address is locked, even for a right password of an untouched account ...
    right = web.post(LOGIN, {"username": "victim-1", "password": PASSWORD})
    assert right.status_code == 429
    assert not _logged_in(web)
    # ... and only that address.
    other = Client()
    response = other.post(
        LOGIN, {"username": "victim-1", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302


def test_a_few_failures_by_different_people_at_one_address_lock_nobody(
    web, support_user, auditor_user
):
    for name in ("sam-support", "ada-auditor", "someone-else"):
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            web.post(LOGIN, {"username": name, "password": WRONG})
    response = web.post(LOGIN, {"username": "ada-auditor", "password": PASSWORD})
    assert response.status_code == 302


# Failed logins coalesced on the trail ------------------------------------------------------


def test_twenty_failed_logins_in_a_row_are_one_event_and_the_rest_are_counted(
    web, support_user, monkeypatch, settings
):
    settings.LOGIN_FAILURE_LIMIT = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 1000
    monkeypatch.setattr(signals, "_window", lambda: 1)
    for _ in range(20):
        web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    events = AuditEvent.objects.filter(action="login_failed")
    assert events.count() == 1
    assert events.get().changes == {}
    # The next minute's first failure puts the 19 that were only counted on record.
    monkeypatch.setattr(signals, "_window", lambda: 2)
    web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    assert events.count() == 2
    assert events.order_by("id").last().changes == {signals.UNRECORDED: 19}
    # Counted once: a third minute starts from nothing.
    monkeypatch.setattr(signals, "_window", lambda: 3)
    web.post(LOGIN, {"username": "sam-support", "password": WRONG})
    assert events.order_by("id").last().changes == {}


def test_failed_logins_are_coalesced_per_username_and_address(db, web, monkeypatch, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 1000
    monkeypatch.setattr(signals, "_window", lambda: 1)
    for address in ("198.51.100.1", "198.51.100.2"):
        for name in ("one", "two"):
            for _ in range(3):
                web.post(LOGIN, {"username": name, "password": WRONG}, REMOTE_ADDR=address)
    recorded = AuditEvent.objects.filter(action="login_failed")
    assert sorted(recorded.values_list("target_repr", "remote_addr")) == [
        ("one", "198.51.100.1"), ("one", "198.51.100.2"),
        ("two", "198.51.100.1"), ("two", "198.51.100.2"),
    ]
