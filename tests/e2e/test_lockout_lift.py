"""An administrator lifts an address's login lockout from the People page: listed, confirmed,
lifted, on record; each state accessible (axe-core) and free of console errors."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.browser

SPRAYER = "198.51.100.7"


def test_an_administrator_lifts_an_address_lockout(page, login, axe, admin_user, settings):
    from axes.models import AccessAttempt

    from subscriptions.models import AuditEvent

    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    sprayer = Client(REMOTE_ADDR=SPRAYER)
    for n in range(6):
        sprayer.post(reverse("login"), {"username": f"guess{n}", "password": "wrong"})

    login(page, admin_user)
    page.goto("/people/")
    lockouts = page.locator("#lockouts")
    assert SPRAYER in lockouts.inner_text() and "every username" in lockouts.inner_text()
    axe(page, "People with a locked address")

    page.get_by_role("button", name=f"Lift the lockout of {SPRAYER}").click()
    page.get_by_role("heading", name=f"Lift the lockout of {SPRAYER}?").wait_for()
    axe(page, "the confirmation")
    page.get_by_label("Reason").fill("our office proxy")
    page.get_by_role("button", name="Lift the lockout").click()

    page.wait_for_url("**/people/")
    assert page.get_by_text(f"The lockout of {SPRAYER} is lifted").is_visible()
    assert "Nobody is locked out." in page.locator("#lockouts").inner_text()
    axe(page, "People after the lift")
    assert not AccessAttempt.objects.filter(ip_address=SPRAYER).exists()
    event = AuditEvent.objects.get(action="lockout.lifted")
    assert (event.target_repr, event.reason) == (SPRAYER, "our office proxy")
