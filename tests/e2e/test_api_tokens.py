"""An API token made and revoked in the browser, used by a script (``requests``) against the
live server in between: it works, then it is refused with 401; the tokens page and the API's
docs page have no axe-core violation."""

import pytest
import requests

pytestmark = pytest.mark.browser


def test_a_token_made_in_the_browser_works_until_it_is_revoked(
    page, login, axe, admin_user, live_url
):
    login(page, admin_user)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("heading", name="API tokens", level=1).wait_for()
    axe(page, "the empty tokens page")

    page.get_by_label("Name").fill("e2e script")
    page.get_by_label("Expires after (days)").fill("7")
    page.get_by_label("Read-only").uncheck()
    page.get_by_role("button", name="Make token").click()
    page.get_by_role("heading", name="Your new token").wait_for()
    secret = page.locator("#new-api-token").inner_text().strip()
    assert len(secret) >= 40
    assert page.url == f"{live_url}/account/api-tokens/"  # never in the URL
    axe(page, "the token shown once")

    headers = {"Authorization": f"Bearer {secret}"}
    listed = requests.get(f"{live_url}/api/v1/subscriptions", headers=headers, timeout=10)
    assert listed.status_code == 200, listed.text
    assert listed.json()["count"] == 0

    page.reload()
    assert page.locator("#new-api-token").count() == 0  # shown once
    row = page.locator("tr", has_text="e2e script")
    row.get_by_role("button", name="Revoke e2e script").click()
    page.get_by_text("revoked: it no longer works").wait_for()
    assert row.get_by_text("Revoked").is_visible()
    axe(page, "after the revoke")

    refused = requests.get(f"{live_url}/api/v1/subscriptions", headers=headers, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["code"] == "TOKEN_REVOKED"

    page.goto("/api/v1/docs")
    page.get_by_role("heading", name="Operations").wait_for()
    axe(page, "the API docs")
