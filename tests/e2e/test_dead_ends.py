"""Dead ends in the browser: an expired session in an in-page action, the webhook table's
unknown flags, saving state, focus and stale answers, and the confirmation of bulk writes."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
CUSTOMER = 245
QUIET = ".htmx-request, .htmx-swapping, .htmx-settling"


def log_in_here(page, user):
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_subscription(page, login, user, subscription):
    """Log in and open the subscription's Webhooks section, its table loaded."""
    login(page, user)
    page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
    page.locator(f"#webhook-{CUSTOMER}-create").wait_for()
    expect(page.locator(QUIET)).to_have_count(0)


def expire_sessions():
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()


# --- 1. an expired session during an in-page action ------------------------------------------


def test_an_expired_session_leads_to_the_full_login_page_and_back(
    page, login, admin_user, subscription
):
    connection = f"/subscriptions/{subscription.pk}/connection-tests/"
    webhooks = f"/subscriptions/{subscription.pk}/webhooks/"
    login(page, admin_user)
    page.goto(connection)

    expire_sessions()
    page.get_by_role("button", name="Test connection").click()
    # The session existed: the login page is told it expired (login_required.py).
    page.wait_for_url(re.compile(r"/login/\?next=" + re.escape(connection) + "&expired=1$"))
    assert page.locator("h1").all_inner_texts() == ["Log in"]
    assert page.locator("header.topbar").count() == 1
    log_in_here(page, admin_user)
    page.wait_for_url(f"**{connection}")
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()

    # A webhook checkbox the same way: the row is not replaced by a login page.
    page.goto(webhooks)
    page.locator(f"#webhook-{CUSTOMER}-create").wait_for()
    expect(page.locator(QUIET)).to_have_count(0)
    expire_sessions()
    page.get_by_label("Customer create").click()
    page.wait_for_url(re.compile(r"/login/\?next=" + re.escape(webhooks) + "&expired=1$"))
    assert page.locator("#webhook-table").count() == 0
    log_in_here(page, admin_user)
    page.wait_for_url(f"**{webhooks}")
    from subscriptions.models import WebhookState

    assert not WebhookState.objects.exists(), "the click without a session changed nothing"


# --- 6. the webhook table --------------------------------------------------------------------


def test_unknown_flags_saving_state_announcement_focus_and_badge(
    page, login, support_user, subscription, sim, axe
):
    open_subscription(page, login, support_user, subscription)
    create = page.locator(f"#webhook-{CUSTOMER}-create")
    assert create.evaluate("box => box.indeterminate") is True
    row = page.locator(f"#webhook-customer-{CUSTOMER}")
    expect(row.get_by_text("unknown", exact=True).first).to_be_visible()
    expect(row.locator(".badge", has_text=re.compile("^deployed$"))).to_be_visible()

    axe(page, "the webhook table with unknown flags")
    # The toggle's request is held in the browser until axe-core has looked at the row saving.
    held = []
    page.route("**/webhooks/toggle/", lambda route: held.append(route))
    create.focus()
    page.keyboard.press("Space")
    expect(row.locator(".row-saving")).to_be_visible()
    axe(page, "a webhook row saving")
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url):
        held[0].continue_()
    expect(page.locator(QUIET)).to_have_count(0)
    row = page.locator(f"#webhook-customer-{CUSTOMER}")
    expect(row.locator(".row-saving")).to_be_hidden()
    expect(page.locator("#webhook-announce")).to_have_text(
        "Customer create on: NetSuite confirmed."
    )
    assert page.evaluate("document.activeElement.id") == f"webhook-{CUSTOMER}-create"
    expect(page.get_by_label("Customer create")).to_be_checked()
    assert page.locator(f"#webhook-{CUSTOMER}-update").evaluate("b => b.indeterminate") is False
    expect(row.locator(".badge", has_text=re.compile("^deployed$"))).to_be_visible()
    assert sim.webhook_flags(ACCOUNT)[CUSTOMER]["create"] is True
    axe(page, "after a toggle, announced")


def test_a_refresh_answered_after_a_toggle_does_not_overwrite_the_toggled_row(
    page, login, support_user, subscription, sim
):
    """The table asked for before the toggle is read by the server first, but its answer
    reaches the page after the row's (held back here in the browser's network)."""
    open_subscription(page, login, support_user, subscription)
    held = []

    def hold(route):
        held.append((route, route.fetch()))  # the server answers now, from the old state

    page.route("**/webhooks/?refresh=1", hold)
    page.get_by_role("link", name="Refresh").click()
    while not held:
        page.wait_for_timeout(50)
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url):
        page.get_by_label("Customer create").click()
    expect(page.get_by_label("Customer create")).to_be_checked()

    route, stale = held[0]
    # The stale table is dropped and asked for again; that answer has the new state.
    with page.expect_response(lambda r: r.url.endswith("/webhooks/") and r.request.method == "GET"):
        route.fulfill(response=stale)
    expect(page.locator(QUIET)).to_have_count(0)
    expect(page.get_by_label("Customer create")).to_be_checked()
    row = page.locator(f"#webhook-customer-{CUSTOMER}")
    expect(row.get_by_text(f"set by {support_user.username}")).to_be_visible()


def test_a_row_saved_after_a_refresh_replaced_the_table_still_shows(
    page, login, support_user, subscription, sim
):
    """The other order: the toggle is slow in NetSuite, a refresh answers first and replaces
    the table, then the toggle's answer goes into the row now shown."""
    open_subscription(page, login, support_user, subscription)
    sim.add_fault(kind="restlet", method="POST", delay=1.5, count=1)
    with page.expect_response(lambda r: "/webhooks/toggle/" in r.url):
        page.get_by_label("Customer create").click()
        with page.expect_response(lambda r: "refresh=1" in r.url):
            page.get_by_role("link", name="Refresh").click()
    expect(page.locator(QUIET)).to_have_count(0)
    expect(page.get_by_label("Customer create")).to_be_checked()
    row = page.locator(f"#webhook-customer-{CUSTOMER}")
    expect(row.get_by_text(f"set by {support_user.username}")).to_be_visible()
    assert sim.webhook_flags(ACCOUNT)[CUSTOMER]["create"] is True


# --- 7. bulk writes are confirmed ------------------------------------------------------------


def test_enable_all_asks_the_browser_first(page, login, admin_user, subscription, sim):
    open_subscription(page, login, admin_user, subscription)
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Enable all modules").click()
    page.wait_for_timeout(300)
    assert asked and "every module" in asked[0]
    assert not any(any(f.values()) for f in sim.webhook_flags(ACCOUNT).values())

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: "/webhooks/all/" in r.url):
        page.get_by_role("button", name="Enable all modules").click()
    page.get_by_text("NetSuite confirmed 7 deployments").wait_for()
    assert all(all(sim.webhook_flags(ACCOUNT)[CUSTOMER + i].values()) for i in range(7))


def test_without_javascript_a_bulk_write_has_a_confirmation_step(
    browser, live_url, admin_user, subscription, sim
):
    context = browser.new_context(base_url=live_url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login/")
        log_in_here(page, admin_user)
        page.wait_for_url("**/subscriptions/**")
        page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
        page.get_by_role("button", name="Re-apply the recorded state").click()
        page.get_by_role("heading", name="Re-apply the recorded state?").wait_for()
        assert sim.stats()["calls"].get("restlet", 0) == 1  # only the table's list
        assert page.get_by_role("button", name="Enable all modules").count() == 0
        page.get_by_role("link", name="Cancel").click()
        page.get_by_role("button", name="Enable all modules").click()
        page.get_by_role("heading", name="Enable all webhooks of every module?").wait_for()
        page.get_by_role("button", name="Enable all", exact=True).click()
        page.get_by_text("NetSuite confirmed 7 deployments").wait_for()
        assert all(all(sim.webhook_flags(ACCOUNT)[CUSTOMER + i].values()) for i in range(7))
    finally:
        context.close()


def test_the_confirmation_steps_without_htmx_pass_axe(page, login, admin_user, subscription, axe):
    """The same steps checked by axe-core, which needs JavaScript itself: here the browser
    runs scripts but the page's own (htmx, app.js) are refused, so the forms post plainly."""
    page.route("**/*.js", lambda route: route.abort())
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
    page.get_by_role("button", name="Re-apply the recorded state").click()
    page.get_by_role("heading", name="Re-apply the recorded state?").wait_for()
    axe(page, "the re-apply confirmation step, without htmx")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("button", name="Enable all modules").click()
    page.get_by_role("heading", name="Enable all webhooks of every module?").wait_for()
    axe(page, "the enable-all confirmation step, without htmx")
