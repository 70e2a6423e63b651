"""Rotate through NetSuite in a real browser, against the simulator over HTTP.

An administrator rotates the certificate from the subscription page (confirm, rotate: every
step shown), revokes the previous one in NetSuite and reads NetSuite's list beside ours; with
a role that lacks "Manage own OAuth 2.0 Client Credentials certificates" the page says which
permission is missing and where, and the manual steps are there instead.
"""

import pytest
from playwright.sync_api import expect

from netsuite import certificates as nscert
from netsuite.rotation import PERMISSION
from subscriptions.actors import SYSTEM
from tests import factories
from tests.e2e.conftest import settled
from tests.factories import pem_body_lines

pytestmark = pytest.mark.browser

ACCOUNT = "1234567"


def registered_subscription(sim, name):
    """A subscription whose active certificate is registered in the simulator."""
    key_pem, cert_pem = nscert.generate_key_and_certificate("ec-p256")
    consumer_id = sim.create_integration(ACCOUNT)
    certificate_id = sim.register_certificate(ACCOUNT, consumer_id, cert_pem)
    subscription, _key = factories.make_subscription(
        SYSTEM, name=name, consumer_id=consumer_id, account_id=ACCOUNT,
        certificate_id=certificate_id, api_url=factories.api_url(ACCOUNT),
        private_key=key_pem, inventory_search_days=0, api_throttle_limit=1000,
        concurrent_connections=3,
    )
    factories.active_certificate(subscription, cert_pem, certificate_id)
    return subscription, key_pem




def listed(sim, consumer_id):
    return {c["certificate_id"]: c for c in sim.certificates(consumer_id)}


def test_rotate_through_netsuite_then_revoke_the_previous_one(
    page, login, admin_user, sim, page_html_collector, axe
):
    from subscriptions.models import Certificate, Subscription

    subscription, old_key = registered_subscription(sim, "Acme Rotation")
    old_id = subscription.certificate_id
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    certificates = page.locator("#certificates")

    # -- confirm, then rotate ------------------------------------------------------------
    certificates.get_by_role("link", name="Rotate through NetSuite").click()
    page.get_by_role("heading", name="Rotate the certificate through NetSuite?").wait_for()
    assert not Certificate.objects.filter(subscription=subscription, status="staged").exists()
    settled(page)
    axe(page, "the rotation's confirmation")
    certificates.get_by_label("Key type").select_option("ec-p256")
    certificates.get_by_role("button", name="Rotate now").click()
    page.get_by_text("Rotated through NetSuite").wait_for()
    settled(page)
    steps = page.locator("#rotation-steps > li")
    expect(steps).to_have_count(6)
    for i in range(6):
        expect(steps.nth(i).locator(".badge")).to_have_text("done")
    axe(page, "rotated: every step shown")

    stored = Subscription.objects.get(pk=subscription.pk)
    new = Certificate.objects.get(subscription=subscription, status="active")
    assert stored.certificate_id == new.certificate_id != old_id
    assert set(listed(sim, subscription.consumer_id)) == {old_id, new.certificate_id}

    # -- revoke the previous certificate in NetSuite (confirmed) -------------------------
    page.get_by_role("link", name="Revoke the previous certificate in NetSuite").click()
    page.get_by_role("heading", name="Revoke the certificate in NetSuite?").wait_for()
    assert listed(sim, subscription.consumer_id)[old_id]["revoked"] is False
    settled(page)
    axe(page, "the revocation's confirmation")
    page.get_by_role("button", name="Revoke in NetSuite").click()
    page.get_by_text("NetSuite revoked the certificate").wait_for()
    settled(page)
    assert listed(sim, subscription.consumer_id)[old_id]["revoked"] is True
    expect(page.get_by_role("link", name="Revoke the previous certificate in NetSuite")
           ).to_have_count(0)

    # -- NetSuite's list beside ours, on request -----------------------------------------
    page.get_by_role("button", name="Show the certificates NetSuite holds").click()
    table = page.locator("#netsuite-certificates table")
    table.wait_for()
    expect(table.locator("tbody tr")).to_have_count(2)
    new_row = table.locator(f'tr[data-certificate-id="{new.certificate_id}"]')
    expect(new_row).to_contain_text("in use")
    expect(new_row).to_contain_text("Administrator / Entity -5")
    old_row = table.locator(f'tr[data-certificate-id="{old_id}"]')
    # Revoked in NetSuite: a badge among NetSuite's facts (the table has six columns).
    expect(old_row.locator('td[data-label="In NetSuite"] .badge-bad')).to_have_text("revoked")
    settled(page)
    axe(page, "NetSuite's certificates beside ours")

    # -- no private key on any page --------------------------------------------------------
    html = "\n".join(page_html_collector)
    assert "Acme Rotation" in html
    for secret in [*pem_body_lines(stored.private_key), *pem_body_lines(old_key)]:
        assert secret not in html


def test_without_the_permission_the_page_names_it_and_keeps_the_manual_steps(
    page, login, admin_user, sim, axe
):
    from subscriptions.models import Certificate, Subscription

    subscription, _key = registered_subscription(sim, "Acme Manual")
    sim.update_integration(subscription.consumer_id, can_manage_certificates=False)
    login(page, admin_user)
    page.goto(f"/subscriptions/{subscription.pk}/certificates/")
    page.locator("#certificates").get_by_role("link", name="Rotate through NetSuite").click()
    page.get_by_role("button", name="Rotate now").click()
    alert = page.locator("#certificates .msg-error")
    alert.wait_for()
    expect(alert).to_contain_text(PERMISSION)
    expect(alert).to_contain_text("Permissions > Setup")
    settled(page)
    axe(page, "the missing permission named, the manual steps below")

    # The manual steps: the staged certificate to download, the Certificate ID to paste.
    certificates = page.locator("#certificates")
    staged = Certificate.objects.get(subscription=subscription, status="staged")
    with page.expect_download() as download_info:
        certificates.get_by_role("link", name="Download certificate").last.click()
    pem = open(download_info.value.path()).read()
    assert pem.strip() == staged.certificate_pem.strip()
    expect(certificates.get_by_role("button", name="Save Certificate ID")).to_be_visible()

    stored = Subscription.objects.get(pk=subscription.pk)
    assert stored.certificate_id == subscription.certificate_id
    assert stored.private_key_fingerprint == subscription.private_key_fingerprint
    assert set(listed(sim, subscription.consumer_id)) == {subscription.certificate_id}
