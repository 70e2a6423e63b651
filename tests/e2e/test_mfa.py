"""The second factor in a browser: an administrator's first login sets up an authenticator app
(its key read from the page as a person would type it), then logins with the app's code and
with a recovery code, which works once. Codes are computed here (RFC 6238)."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from subscriptions.models import AuditEvent

pytestmark = pytest.mark.browser


def code_for(key: bytes, steps_ahead: int = 0) -> str:
    return f"{totp(key, drift=steps_ahead):06d}"


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def test_first_login_enrols_then_a_code_or_a_recovery_code_once(
    page, login, axe, admin_user, settings
):
    settings.REQUIRE_MFA_FOR = ["administrator"]
    login(page, admin_user)
    # The first login of an administrator leads to enrolment, whatever page was asked for.
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    qr_code = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr_code).to_be_visible()
    axe(page, "enrolment")
    key = b32decode(page.locator("#mfa-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code", exact=True).fill("12345")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".errorlist")).to_contain_text("does not match")
    axe(page, "enrolment with a wrong code")
    page.get_by_label("Code", exact=True).fill(code_for(key))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".mfa-codes code").all_inner_texts()
    assert len(codes) == 10
    axe(page, "recovery codes")
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    page.get_by_role("link", name="Second factor").click()
    expect(page.get_by_text("Recovery codes left: 10 of 10")).to_be_visible()
    axe(page, "own second factor page")
    log_out(page)

    # Sign in with the app's code (the next step's: this step's was spent at enrolment).
    login(page, admin_user)
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    axe(page, "code step")
    page.get_by_label("Code", exact=True).fill(code_for(key, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    log_out(page)

    # Sign in with a recovery code; the same one is refused the second time.
    login(page, admin_user)
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    log_out(page)
    login(page, admin_user)
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".errorlist")).to_contain_text("used already")
    axe(page, "a spent recovery code")
    assert "/second-factor/verify/" in page.url
    assert AuditEvent.objects.filter(action="user.mfa_enrolled").count() == 1
    assert AuditEvent.objects.filter(action="user.mfa_recovery_code_used").count() == 1
    assert AuditEvent.objects.filter(action="user.mfa_failed").count() == 1
