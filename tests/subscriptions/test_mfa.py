"""The second factor through the real views, middleware and lockout: enrolment, the code
step, recovery codes, an administrator's reset, and the gate in front of every other URL for
a person who owes one. Codes are computed here from the stored key (RFC 6238)."""

from __future__ import annotations

from binascii import unhexlify
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from subscriptions.models import AuditEvent, Role
from subscriptions.second_factor import LOGIN_METHOD
from subscriptions.services.mfa import mfa_enrol, mfa_new_key
from tests.factories import PASSWORD, logged_in_client

from .hardening import ACCESS, ANON, every_url, path_of

pytestmark = pytest.mark.django_db

ENROL = reverse("subscriptions:mfa_enrol")
VERIFY = reverse("subscriptions:mfa_verify")
LIST = reverse("subscriptions:list")
# Views a person who owes a second factor still reaches (besides those needing no login).
OPEN = {"logout", "subscriptions:mfa_enrol", "subscriptions:mfa_verify"}


@pytest.fixture(autouse=True)
def _administrators_need_it(settings):
    settings.REQUIRE_MFA_FOR = ["administrator"]
    settings.OIDC_IDP_ENFORCES_MFA = False


def code_for(key_hex: str, steps_ahead: int = 0) -> str:
    return f"{totp(unhexlify(key_hex), drift=steps_ahead):06d}"


def tokens_of(user) -> list[str]:
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def enrolled(user) -> tuple[str, list[str]]:
    """Enrol ``user`` through the service as the page would; (key, recovery codes)."""
    key = mfa_new_key()
    _device, codes = mfa_enrol(user=user, key=key, code=code_for(key), actor=user)
    return key, codes


def password_login(user, address: str = "192.0.2.50") -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


class FakeWorld(dict):
    """Path values only: the gate answers before any view looks anything up."""

    def __missing__(self, name):
        return SimpleNamespace(pk=1, id=1, certificate_id="cert")


def fake_world() -> dict:
    return FakeWorld(record_type="customer", entry_id=1)


def gated(url) -> bool:
    """Whether the gate stands in front of ``url``: it needs a session, and is not one of the
    second factor's own pages, the way out or the API (a token, no session)."""
    spec = ACCESS[url.name]
    return (
        url.login_required
        and url.name not in OPEN
        and not url.route.startswith("api/")
        and all(isinstance(roles, frozenset) and ANON not in roles for roles in spec.values())
    )


def test_an_administrator_without_a_second_factor_is_sent_to_enrolment_from_every_url(
    admin_user,
):
    client = password_login(admin_user)
    world = fake_world()
    wrong, checked = [], 0
    for url in every_url():
        if url.name not in ACCESS or not gated(url):
            continue
        path = path_of(url, world)
        for method in ACCESS[url.name]:
            response = getattr(client, method.lower())(path)
            checked += 1
            if response.status_code != 302 or not response["Location"].startswith(ENROL):
                wrong.append(f"{method} {path}: {response.status_code} {response.get('Location')}")
    assert checked > 60
    assert not wrong, "\n".join(wrong)
    # An HTMX request is told where to go rather than given a page to swap in.
    htmx = client.post(
        reverse("subscriptions:webhook_toggle", args=[1]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/subscriptions/1/webhooks/",
    )
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"].startswith(ENROL + "?next=")
    # Its own pages, and the way out, stay open.
    assert client.get(ENROL).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_a_support_person_without_one_is_admitted_and_may_enrol(support_user):
    client = password_login(support_user)
    assert client.session[LOGIN_METHOD] == "password"
    assert client.get(LIST).status_code == 200
    assert client.get(reverse("subscriptions:mfa_page")).status_code == 200
    assert client.get(ENROL).status_code == 200


def test_enrolment_on_first_login_then_the_codes_once_then_every_page(admin_user):
    client = password_login(admin_user)
    page = client.get(ENROL + "?next=/jobs/")
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    assert b"<svg" in page.content and page.context["secret"].encode() in page.content
    from base64 import b32decode

    key = b32decode(secret).hex()
    wrong = client.post(ENROL, {"code": "000000" if code_for(key) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=admin_user).exists()

    done = client.post(ENROL, {"code": code_for(key), "next": "/jobs/"})
    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device = TOTPDevice.objects.get(user=admin_user, confirmed=True)
    assert device.key == key
    assert set(tokens_of(admin_user)) == set(codes)
    event = AuditEvent.objects.filter(action="user.mfa_enrolled").get()
    assert event.actor_id == admin_user.pk and event.target_id == str(admin_user.pk)
    assert key not in str(event.changes) and not any(c in str(event.changes) for c in codes)
    assert client.get(LIST).status_code == 200  # this session passed it


def test_the_code_step_takes_a_totp_or_a_recovery_code_once(admin_user):
    key, codes = enrolled(admin_user)
    client = password_login(admin_user)
    assert client.get(LIST)["Location"] == VERIFY + "?next=" + "%2Fsubscriptions%2F"
    ok = client.post(VERIFY, {"code": code_for(key, 1), "next": LIST})
    assert ok.status_code == 302 and ok["Location"] == LIST
    assert client.get(LIST).status_code == 200
    # The same TOTP is never accepted twice.
    again = password_login(admin_user)
    assert again.post(VERIFY, {"code": code_for(key, 1)}).status_code == 400

    first = password_login(admin_user)
    spent = codes[0]
    assert first.post(VERIFY, {"code": spent.upper()}).status_code == 302
    assert first.get(LIST).status_code == 200
    assert not StaticToken.objects.filter(token=spent).exists()
    assert StaticToken.objects.filter(device__user=admin_user).count() == 9
    assert AuditEvent.objects.filter(action="user.mfa_recovery_code_used").count() == 1
    second = password_login(admin_user)
    refused = second.post(VERIFY, {"code": spent})
    assert refused.status_code == 400
    assert "used already" in refused.context["form"].errors["code"][0]
    assert second.get(LIST)["Location"].startswith(VERIFY)


def test_five_wrong_codes_lock_out_and_log_out(admin_user, settings):
    key, _codes = enrolled(admin_user)
    client = password_login(admin_user)
    wrong = "000000" if code_for(key) != "000000" else "111111"
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": wrong}).status_code == 400
    locked = client.post(VERIFY, {"code": wrong})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username=admin_user.username)
    assert attempt.failures_since_start == settings.LOGIN_FAILURE_LIMIT
    assert AuditEvent.objects.filter(action="user.mfa_failed").count() == 5
    assert not AuditEvent.objects.filter(action="login_failed").exists()
    # The password no longer opens a session either, until the lockout ends.
    blocked = Client(REMOTE_ADDR="192.0.2.50").post(
        reverse("login"), {"username": admin_user.username, "password": PASSWORD}
    )
    assert blocked.status_code == 429


def test_another_administrator_resets_it_after_a_confirmation(admin_user, make_user):
    other = make_user("olga-admin", Role.ADMINISTRATOR)
    enrolled(other)
    key, _ = enrolled(admin_user)
    client = logged_in_client(admin_user)
    session = client.session
    session[LOGIN_METHOD] = "password"
    session.save()
    verify = client.post(VERIFY, {"code": code_for(key, 1)})
    assert verify.status_code == 302
    url = reverse("subscriptions:people_mfa_reset", args=[other.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and b"Reset second factor" in confirm.content
    assert TOTPDevice.objects.filter(user=other).exists()  # a GET changes nothing
    done = client.post(url, {"reason": "new phone"})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=other).exists()
    assert not StaticDevice.objects.filter(user=other).exists()
    event = AuditEvent.objects.get(action="user.mfa_reset")
    assert (event.actor_id, event.target_id) == (admin_user.pk, str(other.pk))
    assert event.reason == "new phone"
    # Their own cannot be reset by themselves.
    own = client.post(reverse("subscriptions:people_mfa_reset", args=[admin_user.pk]))
    assert own.status_code == 302
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    assert AuditEvent.objects.filter(action="user.mfa_reset").count() == 1
    # At their next login the reset person enrols again.
    assert password_login(other).get(LIST)["Location"].startswith(ENROL)


def test_new_recovery_codes_replace_the_old_ones(support_user):
    key, old = enrolled(support_user)
    client = password_login(support_user)
    assert client.get(LIST)["Location"].startswith(VERIFY)  # enrolled: asked whatever the role
    assert client.post(VERIFY, {"code": code_for(key, 1)}).status_code == 302
    response = client.post(reverse("subscriptions:mfa_recovery_codes_regenerate"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = response.context["codes"]
    stored = set(tokens_of(support_user))
    assert stored == set(new) and not stored & set(old)
    assert AuditEvent.objects.filter(action="user.mfa_recovery_codes_regenerated").count() == 1


def test_an_sso_login_counts_only_when_the_identity_provider_enforces_a_second_factor(
    admin_user, settings
):
    client = logged_in_client(admin_user)
    session = client.session
    session[LOGIN_METHOD] = "sso"
    session.save()
    assert client.get(LIST)["Location"].startswith(ENROL)
    settings.OIDC_IDP_ENFORCES_MFA = True
    assert client.get(LIST).status_code == 200
    # A password login says so, even in a session an unfinished SSO attempt marked "sso".
    client = Client(REMOTE_ADDR="192.0.2.50")
    client.get(reverse("login"))
    session = client.session
    session[LOGIN_METHOD] = "sso"
    session.save()
    client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    assert client.session[LOGIN_METHOD] == "password"
    assert client.get(LIST)["Location"].startswith(ENROL)


def test_production_asks_it_of_administrators_and_refuses_an_unknown_role():
    from .test_settings import production_env, run_manage

    show = "from django.conf import settings; print(settings.REQUIRE_MFA_FOR)"
    default = run_manage("shell", "-c", show, **production_env())
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip().splitlines()[-1] == "['administrator']"
    typo = run_manage(
        "shell", "-c", show, **production_env(REQUIRE_MFA_FOR="administrator, admins")
    )
    assert typo.returncode != 0
    assert "REQUIRE_MFA_FOR names unknown roles: admins" in typo.stderr
