"""Signing in with the identity provider in a real browser: the login page's "Sign in with
Test IdP", the test provider process (tests/oidc_provider.py) approving at once, and each role
on its own landing page; a refused sign-in back on the login page with its sentence. axe-core
finds nothing on either, and the browser reports no error (the ``page`` fixture)."""

import pytest
from django.contrib.auth import get_user_model

from subscriptions.models import SsoIdentity
from subscriptions.permissions import ensure_role_groups
from tests.oidc import oidc_fixture, oidc_process_fixture  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDINGS = [
    ("ipaas-admins", "**/subscriptions/", "Subscriptions"),
    ("ipaas-support", "**/webhooks/", None),
    ("ipaas-auditors", "**/audit/", "Audit trail"),
]


def click_sign_in(page) -> None:
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()


@pytest.mark.parametrize(("group", "landing", "heading"), LANDINGS)
def test_each_role_signs_in_with_the_provider_and_lands_on_its_page(
    page, axe, oidc, group, landing, heading
):
    ensure_role_groups()
    oidc.person("casey", group)
    page.goto("/login/")
    axe(page, "login page offering single sign-on")
    click_sign_in(page)
    page.wait_for_url(landing)
    if heading:
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    assert page.get_by_text("casey").first.is_visible()
    axe(page, f"landing page after single sign-on ({group})")
    person = get_user_model().objects.get(username="casey")
    assert SsoIdentity.objects.filter(user=person, subject="sub-casey").exists()


def test_someone_in_no_mapped_group_is_told_on_the_login_page(page, axe, oidc):
    ensure_role_groups()
    oidc.person("casey", "everyone")
    click_sign_in(page)
    page.wait_for_url("**/login/")
    assert page.get_by_text(
        "Your account at Test IdP is not in a group that may use this dashboard."
    ).is_visible()
    assert page.get_by_role("link", name="Sign in with Test IdP").is_visible()
    axe(page, "after a refused single sign-on")
    assert not get_user_model().objects.filter(username="casey").exists()
