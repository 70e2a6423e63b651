"""Back and reload always show whole pages (issue 16) in Chromium.

htmx fetches a part of a page under the page's own URL (a sort, a filter, a pager, a section
tab) and pushes that URL. Leaving the page by a real navigation and pressing Back used to hand
the browser's cached part to the window: no header, no stylesheet. Every answer now says
``Vary: HX-Request`` (and the other headers deciding it), and htmx restores history without
HX-Request. Each case here: an htmx step, a real navigation away, Back, and the whole page
(the main navigation present, app.css applied); then a reload, whole again. No console error
on the way: no CSP violation (htmx's inline indicator style is off) and no 404 (the favicon).
"""

import re

import pytest
from playwright.sync_api import expect

from subscriptions.actors import SYSTEM
from subscriptions.models import Subscription
from tests import factories

from .conftest import settled

pytestmark = pytest.mark.browser


@pytest.fixture
def console_errors(page):
    """Every console error of the page (a CSP violation, a resource that failed to load)."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def assert_whole_page(page, url_pattern: str, console_errors) -> None:
    expect(page).to_have_url(re.compile(url_pattern))
    settled(page)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("main#main")).to_have_count(1)
    # app.css is applied: the body's margin is gone and the page's colours are defined.
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert (
        page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        == "#1f5fbf"
    )
    assert "iPaaS admin" in page.title()
    assert not console_errors, console_errors


def back_then_reload(page, url_pattern: str, console_errors) -> None:
    page.go_back()
    assert_whole_page(page, url_pattern, console_errors)
    page.reload()
    assert_whole_page(page, url_pattern, console_errors)


def htmx_get(page, url_part: str):
    """Wait for the htmx request a click makes (an XHR, not a navigation)."""
    return page.expect_response(
        lambda r: url_part in r.url and r.request.headers.get("hx-request") == "true"
    )


def test_back_after_a_sort_and_a_pager_shows_the_whole_list(
    page, login, admin_user, console_errors
):
    Subscription.objects.bulk_create(factories.unsaved_subscription(i) for i in range(55))
    login(page, admin_user)
    page.goto("/subscriptions/")
    assert_whole_page(page, r"/subscriptions/$", console_errors)

    # A sort (htmx, URL pushed), then a real navigation to a subscription, then Back.
    with htmx_get(page, "sort=-name"):
        page.get_by_role("link", name=re.compile(r"^Name")).click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    settled(page)
    first = page.locator("#subscription-results tbody tr a").first
    expect(first).to_have_text("Subscription 000054")
    first.click()
    page.wait_for_url(re.compile(r"/subscriptions/\d+/$"))
    back_then_reload(page, r"/subscriptions/\?sort=-name$", console_errors)
    expect(page.locator("#subscription-results tbody tr a").first).to_have_text(
        "Subscription 000054"
    )

    # The pager (htmx), away, Back.
    with htmx_get(page, "page=2"):
        page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    settled(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    page.wait_for_url(re.compile(r"/jobs/$"))
    back_then_reload(page, r"/subscriptions/\?sort=-name&page=2$", console_errors)
    expect(page.locator("#subscription-results tbody tr")).to_have_count(5)
    # Back once more, inside htmx's own history: the whole first page again.
    page.go_back()
    assert_whole_page(page, r"/subscriptions/\?sort=-name$", console_errors)


def test_back_after_a_filter_and_an_event_detail_shows_the_whole_audit_trail(
    page, login, admin_user, console_errors
):
    factories.make_subscription(
        SYSTEM, name="Acme", account_id="1234567", api_url=factories.api_url("1234567")
    )
    login(page, admin_user)
    page.goto("/audit/")
    assert_whole_page(page, r"/audit/$", console_errors)
    # Only the administrator's own events (their login): a filter, pushed into the URL by htmx.
    page.locator('#audit-results input[name="person"]').fill(admin_user.get_username())
    with htmx_get(page, "/audit/?"):
        page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/audit/\?"))
    settled(page)
    filtered = page.url
    # An event's detail page (a real navigation), then Back to the filtered trail.
    page.locator("#audit-results tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/audit/\d+/"))
    assert_whole_page(page, r"/audit/\d+/", console_errors)
    back_then_reload(page, re.escape(filtered) + "$", console_errors)


def test_back_after_a_section_tab_shows_the_whole_subscription_page(
    page, login, admin_user, console_errors
):
    subscription, _key = factories.make_subscription(
        SYSTEM, name="Acme", account_id="1234567", api_url=factories.api_url("1234567")
    )
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/")
    assert_whole_page(page, rf"/subscriptions/{subscription.pk}/$", console_errors)
    sections = page.get_by_role("navigation", name="Subscription sections")
    with htmx_get(page, "/jobs/"):
        sections.get_by_role("link", name="Jobs", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/subscriptions/{subscription.pk}/jobs/$"))
    settled(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    page.wait_for_url(re.compile(r"/audit/$"))
    back_then_reload(page, rf"/subscriptions/{subscription.pk}/jobs/$", console_errors)
    expect(sections.get_by_role("link", name="Jobs", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", name="Acme", level=1)).to_be_visible()


def test_the_favicon_loads_and_favicon_ico_is_no_404(page, login, admin_user, console_errors):
    login(page, admin_user)
    page.goto("/subscriptions/")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_count(1)
    href = icon.get_attribute("href")
    assert page.request.get(href).status == 200
    answer = page.request.get("/favicon.ico")
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert not console_errors, console_errors
