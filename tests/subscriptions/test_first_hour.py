"""Issue 16, "the first hour: pages that stay true", on the server side: every answer varies on
the headers that decide a partial; the favicon; the invitation's least privileged default;
mail bodies whose links survive a copy from the console; and each role's landing whatever the
way in (``/login/`` or ``/`` -> ``/login/?next=/``). The browser's half is in
tests/e2e/test_back_button.py."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from subscriptions.actors import SYSTEM
from subscriptions.context_processors import SECTION_TARGET
from subscriptions.models import Role, WebhookState
from subscriptions.permissions import least_privileged_role, role_permissions
from subscriptions.views.htmx import DECIDING_HEADERS
from tests import factories
from tests.factories import PASSWORD
from tests.html import forms, links, parse

from .hardening import ACCESS, ADMIN, build_world, every_url, path_of

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def vary(response) -> set[str]:
    return {h.strip().lower() for h in response.get("Vary", "").split(",") if h.strip()}


# --- 1. Vary: HX-Request on every answer that can be partial ---------------------------------


def test_every_page_an_administrator_can_open_varies_on_the_htmx_headers(
    netsuite_sim, ec_pair, admin_user, admin_client_
):
    world = build_world(netsuite_sim, ec_pair, admin_user)
    wanted = {h.lower() for h in DECIDING_HEADERS}
    checked, wrong = 0, []
    for url in every_url():
        spec = ACCESS.get(url.name, {})
        if ADMIN not in spec.get("GET", ()) or url.name == "logout":
            continue
        path = path_of(url, world)
        for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-Boosted": "true"}):
            response = admin_client_.get(path, headers=headers)
            checked += 1
            if not wanted <= vary(response):
                wrong.append(f"{url.name} {headers}: {response.status_code} Vary={vary(response)}")
    assert checked > 60
    assert not wrong, "\n".join(wrong)


def test_a_section_tab_and_its_page_are_two_answers_of_one_url_kept_apart_by_vary(
    netsuite_sim, ec_pair, admin_client_
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    url = reverse("subscriptions:subscription_jobs", args=[subscription.pk])
    page = admin_client_.get(url)
    tab = admin_client_.get(
        url, headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Target": SECTION_TARGET}
    )
    assert page.status_code == tab.status_code == 200
    # The page has the layout; the tab's answer only the section, and both say so in Vary.
    assert parse(page).find("header") is not None and parse(tab).find("header") is None
    for response in (page, tab):
        assert {"hx-request", "hx-target", "hx-boosted"} <= vary(response)


def test_an_answer_without_a_session_varies_too(client):
    # The login check answers HTMX with HX-Redirect and a page with a 302: one URL, two answers.
    plain = client.get(reverse("subscriptions:list"))
    htmx = client.get(reverse("subscriptions:list"), headers={"HX-Request": "true"})
    assert plain.status_code == 302 and htmx.status_code == 200 and "HX-Redirect" in htmx
    assert "hx-request" in vary(plain) and "hx-request" in vary(htmx)


# --- 3. The favicon ---------------------------------------------------------------------------


def test_the_pages_link_an_svg_icon_that_is_served(client, admin_client_):
    for page in (client.get(reverse("login")), admin_client_.get(reverse("subscriptions:list"))):
        icons = parse(page).find_all("link", rel="icon")
        assert len(icons) == 1 and icons[0]["type"] == "image/svg+xml"
        icon = Client().get(icons[0]["href"])
        assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")


def test_favicon_ico_is_not_a_404_with_or_without_a_session(client, admin_client_):
    for web in (client, admin_client_):
        response = web.get("/favicon.ico")
        assert response.status_code == 302
        icon = Client().get(response["Location"])
        assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
        assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])


# --- 4. The invitation offers the least privileged role -----------------------------------------


def test_least_privileged_role_is_the_auditor():
    assert least_privileged_role() == Role.AUDITOR
    held = {role: len(role_permissions(role)) for role in Role}
    assert held[Role.AUDITOR] < held[Role.SUPPORT] < held[Role.ADMINISTRATOR]


def test_the_invitation_form_defaults_to_the_auditor_role(admin_client_):
    page = admin_client_.get(reverse("subscriptions:people"))
    (invite,) = [f for f in forms(page) if f.action == reverse("subscriptions:people_invite")]
    # What the browser sends when the administrator leaves the role alone:
    assert invite.fields["role"] == Role.AUDITOR
    invite.fields.update(username="nina", email="nina@example.com")
    response = admin_client_.post(invite.action, invite.fields)
    assert response.status_code == 302
    nina = get_user_model().objects.get(username="nina")
    assert [g.name for g in nina.groups.all()] == [Role.AUDITOR.label]


# --- 5. Mail bodies in whole lines --------------------------------------------------------------


def test_the_development_mailer_is_the_whole_line_console():
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "DJANGO_ENV")}
    env.update(DJANGO_TESTING="1", DJANGO_SETTINGS_MODULE="ipaas_admin.settings")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert out == "subscriptions.mail.ConsoleBackend"


def test_an_invitation_printed_on_the_console_carries_its_link_whole(settings, admin_client_):
    console = io.StringIO()
    settings.MAILERS = {
        "default": {"BACKEND": "subscriptions.mail.ConsoleBackend", "OPTIONS": {"stream": console}}
    }
    response = admin_client_.post(
        reverse("subscriptions:people_invite"),
        {"username": "zoë", "email": "zoe@example.com", "role": Role.SUPPORT, "reason": ""},
    )
    assert response.status_code == 302
    printed = console.getvalue()
    headers, _, body = printed.partition("\n\n")
    assert "Content-Transfer-Encoding: 8bit" in headers  # a non-ASCII name: 8-bit UTF-8
    assert "quoted-printable" not in headers.lower()
    assert "=\n" not in body and "=3D" not in body and "Hello zoë," in body
    (line,) = [line for line in body.splitlines() if "/people/set-password/" in line]
    link = re.fullmatch(r"http://testserver(/people/set-password/\S+/)", line.strip())
    assert link, line
    # The line as copied from the console opens the page that sets the password.
    anonymous = Client()
    opened = anonymous.get(link.group(1))
    assert opened.status_code == 302
    posted = anonymous.post(
        opened["Location"],
        {
            "new_password1": "a long new passphrase 9137",
            "new_password2": "a long new passphrase 9137",
        },
    )
    assert posted.status_code == 302
    assert get_user_model().objects.get(username="zoë").has_usable_password()


def test_a_line_beyond_the_rfc_limit_is_still_encoded():
    from django.core.mail import EmailMessage

    from subscriptions.mail import LINE_LIMIT, WholeLines

    short = WholeLines(EmailMessage("s", "x" * 200 + "\n", None, ["a@example.com"])).message()
    assert short["Content-Transfer-Encoding"] == "7bit"
    assert "x" * 200 in short.as_string()
    long = WholeLines(EmailMessage("s", "x" * (LINE_LIMIT + 1), None, ["a@example.com"]))
    assert long.message()["Content-Transfer-Encoding"] in ("quoted-printable", "base64")


# --- 6. Landing by role, whatever the way in ----------------------------------------------------


def make(name, account_id):
    subscription, _key = factories.make_subscription(
        SYSTEM, name=name, account_id=account_id, api_url=factories.api_url(account_id)
    )
    return subscription


def follow(client, location: str) -> str:
    """Where a chain of redirects ends (each hop a 302 of this site)."""
    for _ in range(5):
        response = client.get(location)
        if response.status_code != 302:
            assert response.status_code == 200, (location, response.status_code)
            return location
        location = response["Location"]
    raise AssertionError(f"more than 5 redirects from {location}")


def through_login(user) -> str:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return follow(client, response["Location"])


def through_the_root(user) -> str:
    """``/`` without a session, the login page it sends to, its form posted as it is."""
    client = Client()
    to_login = client.get("/")
    assert to_login.status_code == 302 and to_login["Location"] == reverse("login") + "?next=/"
    (form,) = [f for f in forms(client.get(to_login["Location"])) if f.method == "post"]
    assert form.fields["next"] == "/"
    form.fields.update(username=user.username, password=PASSWORD)
    response = client.post(form.action, form.fields)
    assert response.status_code == 302
    return follow(client, response["Location"])


@pytest.fixture
def two_subscriptions():
    # "alpha" comes first by name: support must not land on it, nor on any one subscription.
    return make("Zulu", "7654321"), make("alpha", "1234567")


@pytest.mark.parametrize("way_in", [through_login, through_the_root])
def test_each_role_lands_on_its_page_whatever_the_way_in(
    way_in, two_subscriptions, admin_user, support_user, auditor_user
):
    assert way_in(admin_user) == reverse("subscriptions:list")
    assert way_in(auditor_user) == reverse("subscriptions:audit_list")
    assert way_in(support_user) == reverse("subscriptions:webhooks_overview")


def test_a_next_of_the_root_or_the_landing_itself_counts_as_none(support_client):
    landing = reverse("subscriptions:landing")
    for next_ in ("/", landing):
        response = support_client.get(landing, {"next": next_})
        assert response["Location"] == reverse("subscriptions:webhooks_overview")


def test_supports_landing_shows_every_subscriptions_recorded_flags(
    two_subscriptions, support_client
):
    zulu, alpha = two_subscriptions
    WebhookState.objects.create(
        subscription=zulu,
        scriptdeploymentid=245,
        scriptid="customdeploy_customer",
        module="customer",
        create_enabled=True,
        update_enabled=False,
        delete_enabled=True,
        set_by="sam-support",
        set_at=timezone.now() - dt.timedelta(hours=1),
    )
    page = support_client.get(reverse("subscriptions:webhooks_overview"))
    assert page.status_code == 200
    tree = parse(page)
    headings = [h.text for h in tree.find_all("h2")]
    assert headings == ["alpha", "Zulu"]
    found = links(page)
    for subscription in (zulu, alpha):
        assert found[reverse("subscriptions:webhooks", args=[subscription.pk])] == subscription.name
    (table,) = tree.find_all("table")
    cells = [td.text for td in table.find_all("td")]
    assert cells[:5] == ["customdeploy_customer", "Customer", "On", "Off", "On"]


def test_the_webhook_overview_is_for_those_who_set_webhooks(auditor_user):
    auditor = factories.logged_in_client(auditor_user)
    assert auditor.get(reverse("subscriptions:webhooks_overview")).status_code == 403
