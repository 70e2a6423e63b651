"""The NetSuite actions in a real browser, against the simulator over HTTP.

An administrator creates a subscription, generates a certificate, downloads it, registers it in
the simulator (what they would do in NetSuite), pastes the Certificate ID, passes the staged
test, activates it, passes the connection test, toggles "Customer create" and edits the Auth
Details; support staff toggle a webhook; an auditor finds all of it in the audit trail. No
secret reaches any page, and after the connection test the 21 checkboxes cost at most one
more token request.
"""

import pytest
from playwright.sync_api import expect

from netsuite import certificates as nscert
from netsuite.restlet import MODULES
from tests.e2e.conftest import create_in_browser, settled
from tests.factories import pem_body_lines

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"
GUID = "3f2b8c1e-4a5d-4e7f-9a1b-2c3d4e5f6a7b"


def click_and_wait(page, locator, url_part: str):
    """Click, then wait for the HTMX answer and for htmx to finish swapping it in, so the next
    step reads the new row, not the one being replaced."""
    with page.expect_response(lambda r: url_part in r.url and r.request.method == "POST"):
        locator.click()
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)




def open_section(page, label: str):
    """A section tab of the subscription's page (htmx swaps the section in)."""
    tabs = page.get_by_role("navigation", name="Subscription sections")
    tabs.get_by_role("link", name=label, exact=True).click()
    expect(tabs.get_by_role("link", name=label, exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_the_netsuite_actions_for_each_role(
    page, login, admin_user, support_user, auditor_user, sim, page_html_collector, axe
):
    from subscriptions.models import Subscription

    consumer_id = sim.create_integration(ACCOUNT)
    typed_key, _unused_cert = nscert.generate_key_and_certificate("ec-p256")

    # -- administrator: create the subscription ------------------------------------------
    login(page, admin_user)
    page.get_by_role("link", name="New subscription").first.click()
    create_in_browser(
        page, name="Acme NetSuite", consumer_id=consumer_id, account_id=ACCOUNT,
        key_pem=typed_key, certificate_id="to-be-replaced",
    )
    subscription = Subscription.objects.get(name="Acme NetSuite")

    # -- generate, download, register in the "NetSuite", paste the Certificate ID ---------
    open_section(page, "Certificate")
    certificates = page.locator("#certificates")
    assert certificates.get_by_label("Key type").input_value() == "rsa3072"
    certificates.get_by_label("Validity (days)").fill("365")
    certificates.get_by_role("button", name="Generate certificate").click()
    page.get_by_text("A new RSA 3072 certificate is staged").wait_for()
    settled(page)
    axe(page, "a staged certificate, waiting for its Certificate ID")
    with page.expect_download() as download_info:
        page.locator("#certificates").get_by_role("link", name="Download certificate").click()
    pem = open(download_info.value.path()).read()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    certificate_id = sim.register_certificate(ACCOUNT, consumer_id, pem)
    # Copied with a space in it: refused, saying why, and nothing saved.
    page.get_by_label("Certificate ID from NetSuite").fill("copied badly")
    page.get_by_role("button", name="Save Certificate ID").click()
    page.get_by_text("A Certificate ID has no spaces").wait_for()
    settled(page)
    axe(page, "a refused Certificate ID")
    page.get_by_label("Certificate ID from NetSuite").fill(certificate_id)
    page.get_by_role("button", name="Save Certificate ID").click()
    page.get_by_text("Certificate ID saved").wait_for()

    # -- the staged pair must pass a test before it can be activated ----------------------
    activate = page.get_by_role("button", name="Activate")
    assert activate.is_disabled()
    page.get_by_role("button", name="Test with the staged certificate").click()
    page.locator("#staged-test").get_by_text("Passed").wait_for()
    page.locator("#certificates").get_by_role("button", name="Activate").and_(
        page.locator(":enabled")
    ).wait_for()
    page.get_by_role("button", name="Activate").click()
    # Activating is confirmed on a step that shows the Certificate ID now and after.
    confirm = page.locator("#certificates")
    confirm.get_by_role("heading", name="Activate the staged certificate?").wait_for()
    assert certificate_id in confirm.inner_text()
    axe(page, "the activation's confirmation step")
    confirm.get_by_role("button", name="Activate now").click()
    page.get_by_text("certificate is now active").wait_for()

    # -- the connection test, every step shown as it completes ----------------------------
    open_section(page, "Connection")
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-test")
    result.get_by_text("Passed").wait_for()
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    steps = result.locator("ol.steps > li")
    assert steps.count() == 6
    assert "Governance limits" in steps.nth(5).inner_text()
    assert " ms" in steps.nth(2).inner_text()
    page.get_by_role("button", name="Run the setup check").click()
    expect(page.locator("#setup-check")).to_contain_text("Every prerequisite is in place")
    settled(page)
    axe(page, "the connection test and the setup check finished")

    # -- governance: what NetSuite reports, before anything is applied --------------------
    open_section(page, "Governance")
    page.get_by_role("button", name="Detect from NetSuite").click()
    expect(page.locator("#governance")).to_contain_text("Proposed Concurrent Connections")
    settled(page)
    axe(page, "the governance values NetSuite reported")

    # -- toggling "Customer create" (and then all 21) costs at most one token -------------
    open_section(page, "Webhooks")
    sim.reset_stats()
    customer_create = page.get_by_label("Customer create")
    customer_create.wait_for()
    click_and_wait(page, customer_create, "/webhooks/toggle/")
    row = page.locator("#webhook-customer-245")
    row.get_by_text(f"set by {admin_user.username}").wait_for()
    assert page.get_by_label("Customer create").is_checked()
    assert sim.webhook_flags(ACCOUNT)[245]["create"] is True
    for _slug, label in MODULES:
        for flag in ("create", "update", "delete"):
            box = page.get_by_label(f"{label} {flag}")
            if not box.is_checked():
                click_and_wait(page, box, "/webhooks/toggle/")
                expect(page.get_by_label(f"{label} {flag}")).to_be_checked()
    assert all(all(flags.values()) for sdid, flags in sim.webhook_flags(ACCOUNT).items()
               if sdid != 252)
    assert sim.stats()["token_requests"] <= 1

    # -- iPaaS Auth Details ---------------------------------------------------------------
    open_section(page, "Auth Details")
    production = page.locator("#auth-entry-1")
    production.get_by_label("Webhook URL").fill("hooks.example.com/netsuite/acme/")
    production.get_by_role("button", name="Save Production").click()
    expect(page.locator("#auth-entry-1")).to_contain_text("Enter a full URL")
    settled(page)
    axe(page, "the Auth Details form with an error")
    production.get_by_label("Webhook URL").fill("https://hooks.example.com/netsuite/acme/")
    production.get_by_label("Tracking GUID").fill(GUID)
    production.get_by_role("button", name="Save Production").click()
    page.get_by_text("Production: NetSuite accepted the change.").wait_for()
    with sim.state.lock:
        record = dict(sim.state.accounts[ACCOUNT].records[
            "customrecord_otg_ipaas_auth_details"]["1"])
    assert record["custrecord_otg_ipaas_webhook"] == "https://hooks.example.com/netsuite/acme/"
    assert record["custrecord_otg_ipaas_tracking_guid"] == GUID
    # "Use this dashboard" asks first, showing what changes; cancelled, nothing is sent.
    production.get_by_role("button", name="Use this dashboard for Production").click()
    page.get_by_role("heading", name="Point Production at this dashboard?").wait_for()
    settled(page)
    axe(page, "the Use-this-dashboard confirmation")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Use this dashboard for Production").wait_for()
    settled(page)
    with sim.state.lock:
        kept = sim.state.accounts[ACCOUNT].records["customrecord_otg_ipaas_auth_details"]["1"]
        assert kept["custrecord_otg_ipaas_webhook"] == "https://hooks.example.com/netsuite/acme/"

    # -- support staff toggle a webhook ---------------------------------------------------
    # Their page after login lists every subscription's webhooks, linking to each section.
    login(page, support_user)
    page.wait_for_url("**/webhooks/")
    page.get_by_role("link", name=subscription.name, exact=True).click()
    page.wait_for_url(f"**/subscriptions/{subscription.pk}/webhooks/")
    location_update = page.get_by_label("Location update")
    location_update.wait_for()
    assert location_update.is_checked()
    click_and_wait(page, location_update, "/webhooks/toggle/")
    page.locator("#webhook-location-248").get_by_text(
        f"set by {support_user.username}"
    ).wait_for()
    expect(page.get_by_label("Location update")).not_to_be_checked()
    assert sim.webhook_flags(ACCOUNT)[248]["update"] is False
    open_section(page, "Certificate")
    assert page.get_by_role("button", name="Generate certificate").count() == 0

    # -- the auditor sees all of it in the audit trail, and no buttons --------------------
    # Their page after login is the audit trail.
    login(page, auditor_user)
    page.wait_for_url("**/audit/")
    page.get_by_role("heading", name="Audit trail").wait_for()
    trail = page.locator("main").inner_text()
    # The trail names actions as people speak (selectors.audit.ACTION_LABELS).
    for action in (
        "Certificate staged",
        "Certificate ID set",
        "Certificate activated",
        "Connection test passed",
        "Webhook changed",
        "Auth Details changed",
    ):
        assert action in trail, action
    assert support_user.username in trail
    page.goto(f"/subscriptions/{subscription.pk}/webhooks/")
    # A read-only role is shown NetSuite's last answer (support read it above), with when,
    # instead of a NetSuite call per page view.
    expect(page.locator("#netsuite-snapshot-webhook_table")).to_contain_text(
        "As NetSuite answered at"
    )
    expect(page.get_by_role("button", name="Refresh from NetSuite")).to_be_visible()
    page.get_by_label("Customer create").wait_for()
    assert page.get_by_label("Customer create").is_disabled()
    open_section(page, "Connection")
    assert page.get_by_role("button", name="Test connection").count() == 0

    # -- no secret on any page the browser loaded -----------------------------------------
    stored = Subscription.objects.get(pk=subscription.pk)
    with sim.state.lock:
        tokens = list(sim.state.tokens)
    secrets = [*tokens, *pem_body_lines(stored.private_key), *pem_body_lines(typed_key)]
    html = "\n".join(page_html_collector)
    assert "Acme NetSuite" in html
    for secret in secrets:
        assert secret not in html
    # The Webhook API Key is shown once, on the page right after creation, and never again.
    shown = [body for body in page_html_collector if stored.webhook_api_key in body]
    assert len(shown) == 1 and "shown only this once" in shown[0]
