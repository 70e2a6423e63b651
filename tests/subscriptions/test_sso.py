"""Single sign-on against a real OpenID Connect provider process (tests/oidc_provider.py): the
dashboard's client walks the code flow over HTTP, the dashboard exchanges the code and checks
the token itself. Stored people, identities, roles, sessions and audit events are asserted;
every refusal ends on the login page with its sentence and nobody logged in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent, Role, SsoIdentity
from subscriptions.permissions import ensure_role_groups
from tests.factories import PASSWORD
from tests.oidc import oidc_fixture, oidc_process_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]
LANDING = {
    "ipaas-admins": "subscriptions:list",
    "ipaas-support": "subscriptions:webhooks_overview",
    "ipaas-auditors": "subscriptions:audit_list",
}


@pytest.fixture(autouse=True)
def _roles(db):
    ensure_role_groups()


def sign_in(client: Client, next_url: str = ""):
    """Click "Sign in with Test IdP": to the provider, which approves at once, and back."""
    start = client.get(reverse("sso_login"), {"next": next_url} if next_url else {})
    assert start.status_code == 302, start
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == reverse("sso_callback")
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def landed(client: Client, response) -> str:
    """Where a signed-in person ends up: ``/start/`` (LOGIN_REDIRECT_URL) sends on by role."""
    assert response.status_code == 302, response
    if response["Location"] != reverse("subscriptions:landing"):
        return response["Location"]
    return client.get(response["Location"])["Location"]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def role_of(user) -> list[str]:
    labels = {role.label for role in Role}
    return sorted(g.name for g in User.objects.get(pk=user.pk).groups.all() if g.name in labels)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.parametrize("group", sorted(LANDING))
def test_first_sign_in_creates_the_person_with_their_groups_role(oidc, group, settings):
    oidc.person("casey", group, "unrelated-group")
    client = Client()
    response = sign_in(client)

    assert landed(client, response) == reverse(LANDING[group])
    person = User.objects.get(username="casey")
    assert role_of(person) == [Role(settings.OIDC_ROLE_GROUPS[group]).label]
    assert person.email == "casey@example.com" and not person.has_usable_password()
    identity = SsoIdentity.objects.get(user=person)
    assert (identity.issuer, identity.subject) == (oidc.issuer, "sub-casey")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.session["login_method"] == "sso"
    # The session ends OIDC_SESSION_SECONDS after the sign-in at the latest, however active.
    assert settings.OIDC_SESSION_SECONDS - 60 < client.session.get_expiry_age()
    assert client.session.get_expiry_age() <= settings.OIDC_SESSION_SECONDS
    assert [e.target_id for e in events("user.sso_created")] == [str(person.pk)]
    [login] = events("user.sso_login")
    assert login.actor_id == person.pk and login.changes["subject"] == "sub-casey"
    assert client.get(reverse(LANDING[group])).status_code == 200


def test_next_is_kept_through_the_provider(oidc):
    oidc.person("casey", "ipaas-admins")
    response = sign_in(Client(), next_url=reverse("subscriptions:jobs"))
    assert response["Location"] == reverse("subscriptions:jobs")


REFUSALS = {
    "wrong_audience": "the ID token is for another client (audience)",
    "expired": "the ID token has expired",
    "bad_signature": "the ID token's signature does not verify",
    "wrong_nonce": "the ID token's nonce is not this sign-in's",
}


@pytest.mark.parametrize("fault", sorted(REFUSALS))
def test_an_untrustworthy_id_token_is_refused(oidc, fault):
    oidc.person("casey", "ipaas-admins")
    oidc.fault(fault)
    client = Client()
    response = sign_in(client)

    assert response.status_code == 302 and response["Location"] == reverse("login")
    [message] = messages_of(response)
    assert message.startswith("Signing in with Test IdP did not work: its answer could not be")
    assert REFUSALS[fault] in message
    assert not logged_in(client)
    assert not User.objects.filter(username="casey").exists()
    assert not SsoIdentity.objects.exists()
    [refused] = events("user.sso_refused")
    assert refused.reason == REFUSALS[fault]
    assert "eyJ" not in str(refused.changes) + refused.reason  # never a token
    # The next sign-in, with a good token, works.
    assert logged_in(client) is False and sign_in(client).status_code == 302
    assert logged_in(client)


def test_a_token_without_the_group_claim_is_refused(oidc):
    oidc.person("casey", "ipaas-admins")
    oidc.fault("no_groups")
    client = Client()
    response = sign_in(client)

    [message] = messages_of(response)
    assert message.startswith("Test IdP did not say which groups your account is in")
    assert not logged_in(client)
    assert not User.objects.filter(username="casey").exists()
    assert events("user.sso_refused")[0].reason == "no 'groups' claim"


def test_someone_in_no_mapped_group_is_refused_with_the_message(oidc):
    oidc.person("casey", "everyone", "contractors")
    client = Client()
    response = sign_in(client)

    assert response["Location"] == reverse("login")
    [message] = messages_of(response)
    assert message.startswith(
        "Your account at Test IdP is not in a group that may use this dashboard."
    )
    assert not logged_in(client)
    assert not User.objects.filter(username="casey").exists()
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_the_role_follows_the_groups_at_every_sign_in(oidc, admin_user):
    oidc.person("casey", "ipaas-support")
    sign_in(Client())
    person = User.objects.get(username="casey")
    assert role_of(person) == ["Support"]

    # Promoted at the provider; also in the auditors' group: the highest role wins.
    oidc.person("casey", "ipaas-auditors", "ipaas-admins")
    client = Client()
    assert landed(client, sign_in(client)) == reverse("subscriptions:list")
    assert role_of(person) == ["Administrator"]
    [change] = events("user.role_changed")
    assert change.actor_name == "single sign-on (Test IdP)"
    assert change.changes == {"role": ["Support", "Administrator"]}

    # Removed from every mapped group: refused, and the role is gone at once (the open
    # session above loses its permissions), the account kept.
    oidc.person("casey", "everyone")
    refused = Client()
    assert sign_in(refused)["Location"] == reverse("login")
    assert not logged_in(refused)
    assert role_of(person) == []
    assert User.objects.get(pk=person.pk).is_active
    assert client.get(reverse("subscriptions:list")).status_code == 403
    assert events("user.role_changed")[-1].changes == {"role": ["Administrator", "(none)"]}
    assert events("user.sso_refused")[-1].reason == "not in a mapped group"

    # Back in a group: back in, with that role; still the same person (one identity).
    oidc.person("casey", "ipaas-auditors")
    again = Client()
    assert landed(again, sign_in(again)) == reverse("subscriptions:audit_list")
    assert role_of(person) == ["Auditor"]
    assert SsoIdentity.objects.filter(user=person).count() == 1
    assert User.objects.filter(username="casey").count() == 1


def test_people_are_matched_by_subject_never_by_username_or_email(oidc, make_user):
    local = make_user("bob", Role.AUDITOR)
    local.email = "bob@example.com"
    local.save()
    # Someone at the provider calling themselves bob, with bob's address, is not bob here.
    oidc.person("bob", "ipaas-admins", sub="someone-else")
    client = Client()
    response = sign_in(client)
    [message] = messages_of(response)
    assert message.startswith("Someone here already has your username")
    assert not logged_in(client)
    assert not SsoIdentity.objects.exists()
    assert role_of(local) == ["Auditor"]

    # A person renamed at the provider stays the same person here (their subject).
    oidc.person("dana", "ipaas-support")
    sign_in(Client())
    oidc.person("dana-renamed", "ipaas-support", sub="sub-dana")
    assert sign_in(Client()).status_code == 302
    assert list(User.objects.filter(sso_identities__subject="sub-dana").values_list(
        "username", flat=True)) == ["dana"]


def test_a_look_alike_of_a_local_username_is_refused(oidc, make_user):
    make_user("admin", Role.ADMINISTRATOR)
    # Cyrillic а: reads as admin, is another name.
    oidc.person("\u0430dmin", "ipaas-admins", sub="sub-lookalike")
    client = Client()
    [message] = messages_of(sign_in(client))
    assert message.startswith("Someone here already has your username")
    assert not logged_in(client)
    assert not SsoIdentity.objects.filter(subject="sub-lookalike").exists()


def test_the_username_is_nfkc_normalised(oidc):
    oidc.person("ｃａｓｅｙ", "ipaas-support", sub="sub-wide")
    sign_in(Client())
    assert SsoIdentity.objects.get(subject="sub-wide").user.username == "casey"


def test_a_deactivated_person_is_refused(oidc):
    oidc.person("casey", "ipaas-support")
    sign_in(Client())
    User.objects.filter(username="casey").update(is_active=False)
    client = Client()
    [message] = messages_of(sign_in(client))
    assert "deactivated" in message
    assert not logged_in(client)


def test_the_last_active_administrator_is_not_demoted_by_the_provider(oidc):
    oidc.person("casey", "ipaas-admins")
    sign_in(Client())
    person = User.objects.get(username="casey")
    oidc.person("casey", "ipaas-support")
    client = Client()
    [message] = messages_of(sign_in(client))
    assert message.startswith("You are the last active administrator here")
    assert not logged_in(client)
    assert role_of(person) == ["Administrator"]


def test_an_answer_is_used_once(oidc):
    oidc.person("casey", "ipaas-support")
    client = Client()
    start = client.get(reverse("sso_login"))
    back = urlsplit(requests.get(start["Location"], allow_redirects=False, timeout=10)
                    .headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert client.get(back.path, query).status_code == 302 and logged_in(client)
    client.logout()
    replay = client.get(back.path, query)
    assert replay["Location"] == reverse("login")
    assert "was not started here" in messages_of(replay)[0]
    assert not logged_in(client)


def test_the_providers_own_refusal_is_said(oidc):
    oidc.set_user()  # approves nobody: the provider answers access_denied
    client = Client()
    response = sign_in(client)
    [message] = messages_of(response)
    assert message.startswith("Test IdP did not sign you in (access_denied)")
    assert events("user.sso_refused")[0].reason == "the provider answered access_denied"


def test_an_unreachable_provider_is_said_before_leaving(oidc, settings):
    from tests.processes import free_port

    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    response = Client().get(reverse("sso_login"))
    assert response["Location"] == reverse("login")
    assert "could not be reached" in messages_of(response)[0]


def test_the_login_page_offers_the_provider_only_when_set_up(oidc, settings):
    page = Client().get(reverse("login"), {"next": "/jobs/"})
    assert page.context["sso_provider"] == "Test IdP"
    assert page.context["sso_url"] == reverse("sso_login") + "?next=%2Fjobs%2F"
    settings.OIDC_ISSUER = ""
    assert "sso_provider" not in Client().get(reverse("login")).context
    response = Client().get(reverse("sso_login"))
    assert response["Location"] == reverse("login")
    assert messages_of(response)[0].startswith("Single sign-on is not set up")


def test_local_passwords_off_admits_only_break_glass_users(oidc, settings, make_user):
    settings.LOCAL_PASSWORDS = "off"
    settings.BREAK_GLASS_USERS = ["alice-admin"]
    admin = make_user("alice-admin", Role.ADMINISTRATOR)
    make_user("sam-support", Role.SUPPORT)

    refused = Client()
    response = refused.post(reverse("login"), {"username": "sam-support", "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].local_passwords_refused
    assert response.context["form"].non_field_errors() == [
        "Passwords are switched off on this dashboard: sign in with Test IdP. Only "
        "break-glass administrators log in with a password."
    ]
    assert not logged_in(refused)
    assert not AuditEvent.objects.filter(action="login_failed").exists()  # no lockout count

    admitted = Client()
    response = admitted.post(reverse("login"), {"username": "alice-admin", "password": PASSWORD})
    assert response.status_code == 302
    assert admitted.session["_auth_user_id"] == str(admin.pk)

    # The People page invites (and sends password links to) break-glass users only.
    sent = admitted.post(
        reverse("subscriptions:people_invite"),
        {"username": "newcomer", "email": "n@example.com", "role": "auditor", "reason": "x"},
    )
    assert sent.status_code == 400
    assert not User.objects.filter(username="newcomer").exists()
    assert "Passwords are switched off here" in str(sent.context["form"].errors)


def test_local_passwords_on_by_default(oidc, make_user):
    make_user("sam-support", Role.SUPPORT)
    client = Client()
    response = client.post(reverse("login"), {"username": "sam-support", "password": PASSWORD})
    assert response.status_code == 302 and logged_in(client)


def check_with(**env) -> subprocess.CompletedProcess:
    """``manage.py check`` in a process of its own, with the test run's settings and ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "LOCAL_PASS"))}
    base.update(DJANGO_TESTING="1", DJANGO_READ_DOT_ENV="0", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"OIDC_ISSUER": "https://idp.example.com", "OIDC_CLIENT_ID": "x"},
         "single sign-on also needs: OIDC_CLIENT_SECRET, OIDC_ROLE_GROUPS"),
        ({"OIDC_ROLE_GROUPS": "admin=ipaas-admins"}, "OIDC_ROLE_GROUPS: 'admin=ipaas-admins'"),
        ({"LOCAL_PASSWORDS": "off"}, "LOCAL_PASSWORDS=off needs single sign-on"),
    ],
)
def test_a_broken_sso_configuration_stops_the_start_with_a_message(env, said):
    result = check_with(**env)
    assert result.returncode != 0
    assert said in result.stderr


def test_a_complete_sso_configuration_starts():
    result = check_with(
        OIDC_ISSUER="https://idp.example.com/",
        OIDC_CLIENT_ID="ipaas",
        OIDC_CLIENT_SECRET="s3cret",
        OIDC_ROLE_GROUPS="administrator=a, administrator=b ,support=s",
        LOCAL_PASSWORDS="off",
        BREAK_GLASS_USERS="admin",
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def es256_provider(tmp_path_factory):
    from tests.oidc import start_provider

    provider, group = start_provider(tmp_path_factory.mktemp("oidc-es256"), alg="ES256")
    try:
        yield provider
    finally:
        group.stop()


def test_es256_tokens_are_taken_when_configured(es256_provider, settings):
    es256_provider.reset()
    es256_provider.configure(settings, OIDC_RP_SIGN_ALGO="ES256")
    es256_provider.person("casey", "ipaas-support")
    client = Client()
    assert landed(client, sign_in(client)) == reverse("subscriptions:webhooks_overview")


def test_a_token_in_another_algorithm_than_configured_is_refused(oidc, settings):
    settings.OIDC_RP_SIGN_ALGO = "ES256"  # the provider signs RS256
    oidc.person("casey", "ipaas-support")
    client = Client()
    [message] = messages_of(sign_in(client))
    assert "ID token signed with 'RS256', not ES256" in message
    assert not logged_in(client)
