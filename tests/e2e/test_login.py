import pytest

pytestmark = pytest.mark.browser


def test_login_page_works_without_csp_errors(page, login, admin_user):
    login(page, admin_user)
    assert page.get_by_text("alice-admin").is_visible()
    assert page.get_by_role("link", name="Audit trail").is_visible()


def test_wrong_password_is_refused_with_a_message(page, admin_user):
    page.goto("/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password")
