"""A session that ends while a webhook box is ticked: the login page says so, and after the
login the person is back on the Webhooks section, told the change was not saved (and it was
not: NetSuite and the dashboard still hold the old flags)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
NOT_SAVED = (
    "Your last change (on Webhooks of “Acme”) was not saved: your session had expired. "
    "Make it again."
)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_webhook_box_ticked_after_the_session_ended(
    page, login, admin_user, sim, subscription, axe, width
):
    from django.contrib.sessions.models import Session

    from subscriptions.models import WebhookState

    page.set_viewport_size({"width": width, "height": 900})
    login(page, admin_user)
    webhooks = f"/subscriptions/{subscription.pk}/webhooks/"
    page.goto(webhooks)
    box = page.get_by_label("Customer create")
    box.wait_for()
    was_checked = box.is_checked()
    flags_before = sim.webhook_flags(ACCOUNT)

    Session.objects.all().delete()  # the server forgets the session (expiry, a cleanup)
    box.click()

    page.wait_for_url("**/login/**")
    expect(page.get_by_role("status").filter(has_text="Your session expired")).to_have_text(
        "Your session expired, so your last change was not saved. Log in again to go back to "
        "the page you were on."
    )
    axe(page, f"the login page after the session expired, {width} px")

    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{webhooks}")
    expect(page.locator(".messages")).to_have_text(NOT_SAVED)
    page.get_by_label("Customer create").wait_for()
    assert page.get_by_label("Customer create").is_checked() == was_checked
    assert sim.webhook_flags(ACCOUNT) == flags_before
    assert not WebhookState.objects.exists()
    axe(page, f"back on the Webhooks section with the not-saved message, {width} px")
