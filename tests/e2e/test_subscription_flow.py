"""An administrator creates a subscription in a real browser; an auditor finds it in the trail."""

import pytest

from tests.factories import API_URL_SB1, pem_body_lines

pytestmark = pytest.mark.browser


def test_admin_creates_a_subscription_and_the_auditor_sees_it(
    page, login, admin_user, auditor_user, rsa_pem, page_html_collector
):
    login(page, admin_user)
    page.get_by_role("link", name="New subscription").first.click()
    page.get_by_label("Name", exact=True).fill("Acme Production")
    page.get_by_label("Consumer ID").fill("consumer-abc123")
    page.get_by_label("Account ID").fill("1234567_sb1")
    # The API URL is pre-filled from the Account ID while typing.
    assert page.get_by_label("API URL").input_value() == API_URL_SB1
    page.get_by_label("Certificate Private Key").fill(rsa_pem)
    page.get_by_label("Certificate ID").fill("cert-id-42")
    page.get_by_role("button", name="Create subscription").click()

    page.get_by_role("heading", name="Acme Production").wait_for()
    assert page.get_by_text("RSA 3072").first.is_visible()

    login(page, auditor_user)  # an auditor's page after login is the trail
    page.wait_for_url("**/audit/")
    row = page.get_by_role("row").filter(has_text="Acme Production").first
    row.wait_for()
    assert "Subscription created" in row.inner_text()

    # No byte of the key reached any page the browser loaded.
    html = "\n".join(page_html_collector)
    assert "Acme Production" in html
    for line in pem_body_lines(rsa_pem):
        assert line not in html
