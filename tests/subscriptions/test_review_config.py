"""The security review's configuration findings: a misspelt DJANGO_ENV ran as development (the
console mailer printed set-password links, cookies were not secure), and a malformed or short
key started the dashboard anyway. Each is now refused at start, saying what is accepted and how
to make it. The settings are imported in a subprocess with the environment under test."""

import pytest

from tests.subscriptions.test_settings import own_secrets, run_manage


@pytest.mark.parametrize("value", ["Production", "prod", "staging", "PRODUCTION", "dev", ""])
def test_an_unknown_environment_name_is_refused_naming_the_accepted_ones(value):
    result = run_manage("check", DJANGO_ENV=value, **own_secrets())
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_ENV" in result.stderr
    assert "'production' or 'development'" in result.stderr


@pytest.mark.parametrize("value", ["development", " development "])
def test_development_is_accepted(value):
    result = run_manage("check", DJANGO_ENV=value, **own_secrets())
    assert result.returncode == 0, result.stderr


def test_a_field_encryption_key_that_is_not_a_fernet_key_is_refused():
    result = run_manage("check", **{**own_secrets(), "FIELD_ENCRYPTION_KEYS": "notakey"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
    assert "Fernet.generate_key()" in result.stderr
    assert "notakey" not in result.stderr  # a key is never printed, not even a wrong one


def test_one_bad_key_among_good_ones_is_refused_by_its_position():
    good = own_secrets()["FIELD_ENCRYPTION_KEYS"]
    result = run_manage(
        "check", **{**own_secrets(), "FIELD_ENCRYPTION_KEYS": f"{good},{good[:-4]}"}
    )
    assert result.returncode != 0
    assert "key 2" in result.stderr


@pytest.mark.parametrize("value", ["short", "x" * 60, "django-insecure-" + "abcdefghij" * 5])
def test_a_weak_secret_key_is_refused_saying_how_to_make_one(value):
    result = run_manage("check", **{**own_secrets(), "DJANGO_SECRET_KEY": value})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert value not in result.stderr


@pytest.mark.parametrize("value", ["short", "a" * 40])
def test_a_weak_audit_chain_key_is_refused_saying_how_to_make_one(value):
    result = run_manage("check", **{**own_secrets(), "AUDIT_CHAIN_KEYS": value})
    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEYS" in result.stderr
    assert "secrets.token_urlsafe(32)" in result.stderr


def test_production_checks_the_keys_too():
    env = {
        **own_secrets(),
        "DJANGO_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "admin.example.com",
        "FIELD_ENCRYPTION_KEYS": "notakey",
    }
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


# Lifting a lockout of an address (password spraying) or a person at an address ---------------

from axes.models import AccessAttempt  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from subscriptions.models import AuditEvent, Role  # noqa: E402
from tests.factories import PASSWORD, lock_out  # noqa: E402
from tests.html import forms, table_rows  # noqa: E402

PEOPLE = reverse("subscriptions:people")
LIFT = reverse("subscriptions:lockout_lift")
SPRAYER = "198.51.100.7"


def spray(address: str = SPRAYER, times: int = 6) -> Client:
    """Fail once each with as many usernames, so only the address's own limit is reached."""
    web = Client(REMOTE_ADDR=address)
    for n in range(times):
        web.post(reverse("login"), {"username": f"guess{n}", "password": "wrong"})
    return web


def lift_forms(page):
    return [form for form in forms(page) if form.action == LIFT]


@pytest.fixture
def address_limit():
    with override_settings(LOGIN_FAILURE_LIMIT_PER_ADDRESS=6):
        yield


def test_a_locked_address_is_listed_and_lifted_after_a_confirmation(
    address_limit, admin_client_, support_user
):
    sprayer = spray()
    login = {"username": "sam-support", "password": PASSWORD}
    assert sprayer.post(reverse("login"), login).status_code == 429

    page = admin_client_.get(PEOPLE)
    rows = table_rows(page, "lockouts")
    assert [row[0] for row in rows] == [SPRAYER]
    assert "every username" in rows[0][1]
    [form] = lift_forms(page)
    assert form.fields["address"] == SPRAYER and "confirmed" not in form.fields

    # The first post only asks: nothing is lifted, nothing on record.
    ask = admin_client_.post(LIFT, form.fields)
    assert ask.status_code == 200
    [confirm] = lift_forms(ask)
    assert confirm.fields["confirmed"] == "1"
    # Six guesses and sam-support's refused try.
    assert AccessAttempt.objects.filter(ip_address=SPRAYER).count() == 7
    assert not AuditEvent.objects.filter(action="lockout.lifted").exists()

    done = admin_client_.post(LIFT, {**confirm.fields, "reason": "our office"})
    assert done.status_code == 302 and done.url == PEOPLE
    assert not AccessAttempt.objects.filter(ip_address=SPRAYER).exists()
    event = AuditEvent.objects.get(action="lockout.lifted")
    assert (event.actor_name, event.target_type, event.target_repr, event.reason) == (
        "alice-admin", "lockout", SPRAYER, "our office"
    )
    assert event.changes == {"address": SPRAYER, "failed login records cleared": 7}
    assert sprayer.post(reverse("login"), login).status_code == 302
    assert table_rows(admin_client_.get(PEOPLE), "lockouts") == []


def test_a_locked_person_at_an_address_is_lifted_there_only(admin_client_, support_user):
    lock_out("sam-support", address="192.0.2.10")
    lock_out("sam-support", address="192.0.2.11")
    page = admin_client_.get(PEOPLE)
    rows = table_rows(page, "lockouts")
    assert sorted(row[0] for row in rows) == ["192.0.2.10", "192.0.2.11"]
    assert all("sam-support" in row[1] for row in rows)

    form = next(f for f in lift_forms(page) if f.fields["address"] == "192.0.2.10")
    assert form.fields["username"] == "sam-support"
    response = admin_client_.post(LIFT, {**form.fields, "confirmed": "1"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(ip_address="192.0.2.10").exists()
    assert AccessAttempt.objects.filter(ip_address="192.0.2.11").exists()
    event = AuditEvent.objects.get(action="lockout.lifted")
    assert event.target_repr == "sam-support at 192.0.2.10"
    assert event.changes == {
        "address": "192.0.2.10", "username": "sam-support", "failed login records cleared": 1
    }
    login = {"username": "sam-support", "password": PASSWORD}
    assert Client(REMOTE_ADDR="192.0.2.10").post(reverse("login"), login).status_code == 302
    assert Client(REMOTE_ADDR="192.0.2.11").post(reverse("login"), login).status_code == 429


@pytest.mark.parametrize(
    "data",
    [
        {"address": "not-an-address", "confirmed": "1"},
        {"address": "", "confirmed": "1"},
        {"address": SPRAYER, "username": "x" * 200, "confirmed": "1"},
        {"address": SPRAYER, "reason": "nul\x00", "confirmed": "1"},
    ],
)
def test_bad_input_lifts_nothing_and_says_why(address_limit, admin_client_, data):
    spray()
    response = admin_client_.post(LIFT, data, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("No lockout lifted:")
    assert AccessAttempt.objects.filter(ip_address=SPRAYER).count() == 6
    assert not AuditEvent.objects.filter(action="lockout.lifted").exists()


def test_lifting_what_is_not_locked_puts_nothing_on_record(admin_client_):
    response = admin_client_.post(LIFT, {"address": SPRAYER, "confirmed": "1"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"{SPRAYER} was not locked out: nothing to lift."
    ]
    assert not AuditEvent.objects.filter(action="lockout.lifted").exists()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR, None])
def test_only_an_administrator_lifts_a_lockout(address_limit, role, role_users, client, client_for):
    spray()
    web = client_for(role_users[role]) if role else client
    response = web.post(LIFT, {"address": SPRAYER, "confirmed": "1"})
    assert response.status_code == (302 if role is None else 403)
    assert AccessAttempt.objects.filter(ip_address=SPRAYER).count() == 6
    assert not AuditEvent.objects.filter(action="lockout.lifted").exists()


def test_lifting_is_a_post(address_limit, admin_client_):
    spray()
    assert admin_client_.get(LIFT, {"address": SPRAYER, "confirmed": "1"}).status_code == 405
    assert AccessAttempt.objects.filter(ip_address=SPRAYER).count() == 6
