"""Two subscriptions of one NetSuite integration, seen by an administrator of the first: "Use
this dashboard" names the subscription that will stop receiving the entry's events, and the
certificates NetSuite holds say in words who uses each, with no Revoke for Beta's active one.
At 1280 and 390 px, axe-core at zero violations."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import settled

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"


def beta_sharing(sim, acme):
    """"Beta": a second subscription of Acme's integration record with its own certificate."""
    from netsuite import certificates as nscert
    from subscriptions.actors import SYSTEM
    from tests import factories

    key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
    certificate_id = sim.register_certificate(ACCOUNT, acme.consumer_id, cert_pem)
    beta, _key = factories.make_subscription(
        SYSTEM,
        name="Beta",
        consumer_id=acme.consumer_id,
        account_id=ACCOUNT,
        certificate_id=certificate_id,
        api_url=factories.api_url(ACCOUNT),
        api_throttle_limit=1000,
        private_key=key_pem,
    )
    factories.active_certificate(beta, cert_pem, certificate_id)
    return beta


@pytest.mark.parametrize("width", [1280, 390])
def test_shared_integration_warnings(
    page, login, admin_user, sim, subscription, live_url, axe, width
):
    from netsuite import certificates as nscert
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.services.auth_details import auth_details_use_dashboard

    beta = beta_sharing(sim, subscription)
    # Beta receives the Sandbox entry's events now.
    auth_details_use_dashboard(
        subscription=beta, entry_id="2", inbound_url=f"{live_url}/hooks/netsuite/{beta.pk}/",
        allow_http=True, actor=COMMAND_LINE,
    )
    _key, stray_pem = nscert.generate_key_and_certificate("ec-p256")
    stray_id = sim.register_certificate(ACCOUNT, subscription.consumer_id, stray_pem)

    page.set_viewport_size({"width": width, "height": 900})
    login(page, admin_user)

    # -- "Use this dashboard" on the Sandbox entry ----------------------------------------
    page.goto(f"/subscriptions/{subscription.pk}/auth-details/")
    page.get_by_role("button", name="Use this dashboard for Sandbox").click()
    step = page.locator("#auth-entry-2")
    expect(step.get_by_role("heading")).to_have_text("Point Sandbox at this dashboard?")
    expect(step.get_by_role("note")).to_contain_text("“Beta” receives this entry's events now.")
    expect(step.get_by_role("note")).to_contain_text("“Beta” stops receiving events.")
    settled(page)
    axe(page, f"Use this dashboard naming Beta, {width} px")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # -- the certificates NetSuite holds --------------------------------------------------
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    page.get_by_role("button", name="Show the certificates NetSuite holds").click()
    table = page.locator("#netsuite-certificates table")
    beta_row = table.locator(f'tr[data-certificate-id="{beta.certificate_id}"]')
    expect(beta_row).to_contain_text("Used by “Beta” on this dashboard, which signs in with it")
    expect(beta_row).to_contain_text("Not revoked from here: “Beta” signs in with it.")
    expect(beta_row.get_by_role("link", name="Revoke in NetSuite")).to_have_count(0)
    stray_row = table.locator(f'tr[data-certificate-id="{stray_id}"]')
    expect(stray_row).to_contain_text("Not used by any subscription on this dashboard")
    expect(stray_row.get_by_role("link", name="Revoke in NetSuite")).to_have_count(1)
    settled(page)
    axe(page, f"the certificates NetSuite holds beside Beta's, {width} px")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
