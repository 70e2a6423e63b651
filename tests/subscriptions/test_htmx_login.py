"""A request without a session: HTMX is sent to the full login page, back to the page it was on."""

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import ConnectionTest
from tests.factories import make_subscription


@pytest.fixture
def subscription(admin_user):
    sub, _ = make_subscription(admin_user)
    return sub


def htmx(current: str | None) -> dict:
    headers = {"HX-Request": "true"}
    if current is not None:
        headers["HX-Current-URL"] = current
    return headers


@pytest.mark.django_db
def test_an_htmx_post_without_a_session_redirects_the_page_to_the_login_of_the_page_it_was_on(
    subscription,
):
    page = reverse("subscriptions:detail", args=[subscription.pk])
    url = reverse("subscriptions:connection_test", args=[subscription.pk])
    response = Client().post(url, headers=htmx(f"http://testserver{page}?tab=1"))
    assert response.status_code == 200
    assert response["HX-Redirect"] == (
        reverse("login") + "?next=" + page + "%3Ftab%3D1&expired=1"
    ), "an action on a page means a session existed: the login page says it expired"
    assert response.content == b"", "nothing to swap into the card"
    assert not ConnectionTest.objects.exists()


@pytest.mark.django_db
def test_a_foreign_current_url_is_not_a_next(subscription):
    url = reverse("subscriptions:webhook_toggle", args=[subscription.pk])
    response = Client().post(url, headers=htmx("https://evil.example/phish"))
    section = reverse("subscriptions:webhooks", args=[subscription.pk])
    # Not the foreign page: the section the action belongs to.
    assert response["HX-Redirect"] == reverse("login") + "?next=" + section + "&expired=1"
    get = Client().get(section, headers=htmx(None))
    assert get["HX-Redirect"] == reverse("login") + "?next=" + section + "&expired=1"


@pytest.mark.django_db
def test_a_plain_get_keeps_djangos_redirect(subscription):
    page = reverse("subscriptions:detail", args=[subscription.pk])
    response = Client().get(page)
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + page
    assert "HX-Redirect" not in response


@pytest.mark.django_db
def test_a_logged_in_htmx_request_is_not_redirected(admin_client_, subscription):
    url = reverse("subscriptions:webhooks", args=[subscription.pk])
    response = admin_client_.get(url, headers=htmx("http://testserver/"))
    assert "HX-Redirect" not in response
