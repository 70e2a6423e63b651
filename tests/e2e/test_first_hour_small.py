"""Issue 16's small points in a real browser, at 1280 and 390 px: after a filter is applied in
place (audit trail, Events, Jobs, records) the focus is on the results' heading, not lost to
<body>; a Copy button puts its value on the clipboard and says "Copied" in a live region,
with no console error; axe-core finds nothing in either state."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from subscriptions.models import Record
from tests import factories
from tests.e2e.conftest import settled

pytestmark = pytest.mark.browser

WIDTHS = [1280, 390]


@pytest.fixture
def console_errors(page):
    """Every console error and script error of the page (the page fixture keeps only CSP's)."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    return seen


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def apply_and_expect_focus(page, button_name: str, heading_id: str) -> None:
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name=button_name, exact=True).click()
    settled(page)
    expect(page.locator(f"#{heading_id}")).to_be_focused()
    assert focused_id(page) == heading_id
    # Swapped in place: the page was not reloaded.
    assert page.evaluate("window.__noReload") is True


@pytest.mark.parametrize("width", WIDTHS)
def test_a_filter_applied_in_place_puts_the_focus_on_the_results_heading(
    page, login, admin_user, subscription, axe, console_errors, width
):
    page.set_viewport_size({"width": width, "height": 900})
    factories.append_events([{"action": "login", "actor_name": "Rita-Reviewer"}])
    factories.inbound_event(subscription, module="customer", external_id="107")
    for internal_id in ("1", "2", "10"):
        Record.objects.create(
            subscription=subscription, record_type="location", internal_id=internal_id,
            name=f"Depot {internal_id}", content_hash=internal_id,
            fields={"id": internal_id, "name": f"Depot {internal_id}", "isinactive": "F"},
        )
    login(page, admin_user)

    page.goto(reverse("subscriptions:audit_list"))
    page.locator('#audit-results input[name="person"]').fill("rita")
    apply_and_expect_focus(page, "Apply filters", "audit-results-title")
    expect(page.locator("#audit-results tbody tr")).to_have_count(1)
    axe(page, f"audit trail filtered at {width} px")

    page.goto(reverse("subscriptions:events", args=[subscription.pk]))
    page.locator("#event-results").get_by_label("Module").select_option("customer")
    apply_and_expect_focus(page, "Apply filters", "events-title")
    axe(page, f"events filtered at {width} px")

    page.goto(reverse("subscriptions:jobs"))
    page.get_by_label("Status").select_option("queued")
    apply_and_expect_focus(page, "Show", "jobs-title")
    axe(page, f"jobs filtered at {width} px")

    page.goto(reverse("subscriptions:records", args=[subscription.pk, "location"]))
    page.get_by_label("Name or internal ID").fill("Depot")
    apply_and_expect_focus(page, "Search", "records-title")
    ids = page.locator("#records tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.internalId)")
    assert ids == ["1", "2", "10"]
    axe(page, f"records searched at {width} px")
    assert not console_errors


@pytest.mark.parametrize("width", WIDTHS)
def test_a_copy_button_puts_the_value_on_the_clipboard_and_says_copied(
    page, live_url, login, admin_user, subscription, axe, console_errors, width
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, admin_user)
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))

    for label, value in (("Account ID", subscription.account_id),
                         ("Consumer ID", subscription.consumer_id)):
        button = page.get_by_role("button", name=f"Copy {label}", exact=True)
        button.click()
        status = button.locator("xpath=following-sibling::*[@role='status']")
        expect(status).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == value
    axe(page, f"after a copy at {width} px")

    page.goto(reverse("subscriptions:audit_verify"))
    button = page.get_by_role("button", name="Copy audit chain head")
    button.click()
    expect(button.locator("xpath=following-sibling::*[@role='status']")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    head_id, _, head_hash = copied.partition(":")
    assert head_id.isdigit() and len(head_hash) == 64
    axe(page, f"audit chain copied at {width} px")
    assert not console_errors
