"""Daily use in the browser, with axe-core on every page and state: the invitation flow
through Django's test mailbox, the lockout page's way back, the list's search, the audit
trail's way back with its filters, and focus on the first error after a refused post."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from subscriptions.actors import SYSTEM
from subscriptions.models import AuditEvent, Role
from tests import factories
from tests.e2e.conftest import axe_violations
from tests.factories import PASSWORD, lock_out

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a long new passphrase 9137"


def test_the_axe_check_finds_a_violation_when_there_is_one(page):
    page.set_content("<html><body><img src='data:,'><input type='text'></body></html>")
    assert any(v.startswith("image-alt") for v in axe_violations(page))


def test_an_administrator_invites_a_person_who_sets_a_password_and_logs_in(
    page, login, axe, admin_user, browser, live_url
):
    login(page, admin_user)
    page.get_by_role("link", name="People").click()
    page.get_by_role("heading", name="Invite a person").wait_for()
    axe(page, "people")

    page.get_by_label("Username").fill("nina")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send invitation").click()
    # Focus lands on the first field in error, and the page in that state passes axe.
    expect(page.get_by_label("Email address")).to_be_focused()
    axe(page, "invitation refused")
    assert mail.outbox == []

    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Role", exact=True).select_option(Role.SUPPORT.value)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("nina is invited")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/people/set-password/\S+/", mail.outbox[0].body).group(0)

    # The invited person has no session: a context of their own.
    invited = browser.new_context(base_url=live_url)
    other = invited.new_page()
    try:
        other.goto(link)
        other.get_by_role("heading", name="Set your password").wait_for()
        assert other.url.endswith("/set-password/")  # the token left the address bar
        assert link.rstrip("/").rsplit("/", 1)[-1] not in other.url
        axe(other, "set password")
        other.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        other.get_by_label("New password confirmation").fill(NEW_PASSWORD)
        other.get_by_role("button", name="Set password").click()
        other.wait_for_url("**/login/")
        expect(other.locator(".messages")).to_contain_text("Your password is set")
        axe(other, "login after setting the password")
        other.get_by_label("Username").fill("nina")
        other.get_by_label("Password").fill(NEW_PASSWORD)
        other.get_by_role("button", name="Log in").click()
        # Support lands on the webhooks of every subscription.
        other.wait_for_url("**/webhooks/")

        other.goto(link)
        other.get_by_role("heading", name="This link cannot be used").wait_for()
        axe(other, "used link")
    finally:
        invited.close()
    assert AuditEvent.objects.filter(action="user.password_set").count() == 1


def test_the_lockout_page_leads_back_to_login(page, axe, support_user):
    lock_out(support_user.username, address="127.0.0.1")
    page.goto("/login/")
    page.get_by_label("Username").fill(support_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Too many failed logins").wait_for()
    axe(page, "locked out")
    page.get_by_role("link", name="log in again").click()
    page.wait_for_url("**/login/")
    axe(page, "login")


def test_list_search_audit_back_and_a_refused_form(page, login, axe, admin_user):
    factories.make_subscription(SYSTEM, name="Acme Production")
    factories.make_subscription(
        SYSTEM, name="Beta", account_id="7654321", api_url=factories.api_url("7654321")
    )
    login(page, admin_user)
    page.goto("/subscriptions/")
    axe(page, "list")
    page.get_by_role("searchbox", name="Search").fill("7654321")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#subscription-results tbody tr")).to_have_count(1)
    axe(page, "list searched")

    page.goto("/audit/?action=subscription.created")
    axe(page, "audit list filtered")
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator("#audit-chain-result")).to_contain_text("Newest event")
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    axe(page, "the audit chain verified")
    page.locator("#audit-results tbody tr a").first.click()
    page.get_by_role("heading", name=re.compile("Audit event")).wait_for()
    axe(page, "audit detail")
    page.get_by_role("link", name="Back to the audit trail").click()
    page.wait_for_url("**/audit/?action=subscription.created")

    page.goto("/subscriptions/new/")
    # The server's checks, not the browser's: a duplicate name and fields left empty.
    page.evaluate("document.querySelector('main form.card').noValidate = true")
    page.get_by_label("Name", exact=True).fill("Acme Production")
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("alert").first.wait_for()
    expect(page.locator('[aria-invalid="true"]').first).to_be_focused()
    axe(page, "form with errors")
