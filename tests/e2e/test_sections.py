"""A subscription's sections in Chromium: the tabs swap only the section with htmx, the address
bar and the back button follow, focus goes to the new section's heading; without JavaScript the
same tabs are plain links. Each role lands on its page after login, and axe-core finds nothing
on any section."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

QUIET = ".htmx-request, .htmx-swapping, .htmx-settling"
ADMIN_TABS = [
    "Overview",
    "Connection",
    "Certificate",
    "Webhooks",
    "Auth Details",
    "Governance",
    "Jobs",
    "Inventory",
    "Events",
    "History",
]


def tabs(page):
    return page.get_by_role("navigation", name="Subscription sections")


def tab(page, label):
    return tabs(page).get_by_role("link", name=label, exact=True)


def expect_section(page, label, url):
    expect(page).to_have_url(url)
    expect(tab(page, label)).to_have_attribute("aria-current", "page")
    expect(tabs(page).locator('[aria-current="page"]')).to_have_count(1)


def test_the_tabs_swap_the_section_keep_back_and_forward_and_move_the_focus(
    page, login, axe, admin_user, subscription, live_url
):
    base = f"{live_url}/subscriptions/{subscription.pk}/"
    urls = {
        "Overview": base,
        "Connection": base + "connection-tests/",
        "Certificate": base + "certificates/",
        "Webhooks": base + "webhooks/",
        "Auth Details": base + "auth-details/",
        "Governance": base + "governance/",
        "Jobs": base + "jobs/",
        "Inventory": base + "inventory/",
        "Events": base + "events/",
        "History": base + "history/",
    }
    login(page, admin_user)
    page.goto(urls["Overview"])
    expect(tabs(page).get_by_role("link")).to_have_text(ADMIN_TABS)
    axe(page, "Overview")
    # A marker on the window survives htmx swaps and disappears on a real navigation.
    page.evaluate("window.__noReload = true")

    for label in ADMIN_TABS[1:]:
        with page.expect_response(lambda r, u=urls[label]: r.url == u):
            tab(page, label).click()
        expect(page.locator(QUIET)).to_have_count(0)
        expect_section(page, label, urls[label])
        expect(page.locator("#section-heading")).to_be_focused()
        expect(page.locator("#section-announce")).to_contain_text("section")
        assert page.evaluate("window.__noReload") is True, label
        assert page.locator("h1").all_inner_texts() == ["Acme"]
        assert " · Acme · " in page.title(), label
        axe(page, f"{label} after a tab click")

    page.go_back()
    expect_section(page, "Events", urls["Events"])
    page.go_back()
    expect_section(page, "Inventory", urls["Inventory"])
    page.go_forward()
    expect_section(page, "Events", urls["Events"])
    # The webhook table is never kept for the back button (hx-history="false"): htmx asks the
    # server for that page again, still without reloading the window.
    for label in ("Inventory", "Jobs", "Governance", "Auth Details", "Webhooks"):
        page.go_back()
        expect_section(page, label, urls[label])
    page.get_by_label("Customer create").wait_for()
    assert page.evaluate("window.__noReload") is True
    # A section's own controls still work after the swap: the connection test runs in place.
    tab(page, "Connection").click()
    expect_section(page, "Connection", urls["Connection"])
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("Passed").wait_for()
    assert page.evaluate("window.__noReload") is True


def test_without_javascript_the_tabs_are_links_and_back_works(
    browser, live_url, admin_user, subscription
):
    context = browser.new_context(base_url=live_url, java_script_enabled=False)
    page = context.new_page()
    base = f"{live_url}/subscriptions/{subscription.pk}/"
    try:
        page.goto("/login/")
        page.get_by_label("Username").fill(admin_user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/subscriptions/")
        page.goto(base)
        tab(page, "Certificate").click()
        expect_section(page, "Certificate", base + "certificates/")
        tab(page, "Webhooks").click()
        expect_section(page, "Webhooks", base + "webhooks/")
        # Loaded with the page, without a script to ask for it.
        page.get_by_label("Customer create").wait_for()
        tab(page, "History").click()
        expect_section(page, "History", base + "history/")
        expect(page.locator("#audit-results tbody tr").first).to_contain_text("Subscription")
        page.go_back()
        expect_section(page, "Webhooks", base + "webhooks/")
        page.go_back()
        expect_section(page, "Certificate", base + "certificates/")
        # A form in a section comes back to it.
        tab(page, "Connection").click()
        page.get_by_role("button", name="Test connection").click()
        expect_section(page, "Connection", base + "connection-tests/")
        expect(page.locator(".messages")).to_contain_text("Connection test passed")
    finally:
        context.close()


def test_support_lands_on_the_webhooks_and_the_auditor_on_the_trail(
    page, login, axe, support_user, auditor_user, subscription, live_url
):
    login(page, support_user)
    # Support lands on the webhooks of every subscription, each linking to its section.
    expect(page).to_have_url(f"{live_url}/webhooks/")
    axe(page, "support's landing")
    page.get_by_role("link", name=subscription.name, exact=True).click()
    expect_section(page, "Webhooks", f"{live_url}/subscriptions/{subscription.pk}/webhooks/")
    page.get_by_label("Customer create").wait_for()
    expect(tabs(page).get_by_role("link")).to_have_text(
        ["Overview", "Connection", "Certificate", "Webhooks", "Auth Details", "Jobs", "Inventory",
         "Events"]
    )
    axe(page, "support's webhooks section")

    login(page, auditor_user)
    expect(page).to_have_url(f"{live_url}/audit/")
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
    # A read-only role is shown NetSuite's last answer (support's read), with when it answered.
    page.get_by_label("Customer create").wait_for()
    page.get_by_text("As NetSuite answered at").wait_for()
    assert page.get_by_label("Customer create").is_disabled()
    axe(page, "auditor's webhooks")
    tab(page, "History").click()
    expect_section(page, "History", f"{live_url}/subscriptions/{subscription.pk}/history/")
    expect(page.locator("#section-heading")).to_be_focused()


def test_a_next_given_to_the_login_wins_over_the_landing(page, auditor_user, subscription):
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    page.wait_for_url(lambda url: "/login/" in url and "next=" in url)
    page.get_by_label("Username").fill(auditor_user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/subscriptions/{subscription.pk}/certificates/")
    expect(tab(page, "Certificate")).to_have_attribute("aria-current", "page")
