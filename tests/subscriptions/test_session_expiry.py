"""A session that ends mid-work: the login page says it expired, and after the login the person
is back where they were, told which change was not saved. A first visit is told nothing of
the kind. (The browser's half, an HTMX checkbox: tests/e2e/test_session_expiry.py.)"""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent, WebhookState
from subscriptions.views.login import DROPPED_CHANGE
from tests.factories import PASSWORD, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(admin_user):
    sub, _ = make_subscription(admin_user, name="Acme")
    return sub


def expired_client(user) -> Client:
    """A browser that was logged in and whose session the server has since dropped."""
    client = Client()
    client.force_login(user)
    Session.objects.all().delete()
    return client


def test_a_plain_post_after_expiry_changes_nothing_and_comes_back_with_a_message(
    admin_user, subscription
):
    client = expired_client(admin_user)
    webhooks = reverse("subscriptions:webhooks", args=[subscription.pk])
    events = AuditEvent.objects.count()

    response = client.post(
        reverse("subscriptions:webhook_toggle", args=[subscription.pk]),
        {"deployment": "245", "flag": "create", "create": "on", "next": webhooks},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + f"?next={webhooks}&expired=1"
    assert not WebhookState.objects.exists()
    assert AuditEvent.objects.count() == events
    assert client.session[DROPPED_CHANGE]["section"] == "Webhooks"

    login_page = client.get(response["Location"])
    assert login_page.status_code == 200
    assert login_page.context["session_expired"] is True
    assert login_page.context["change_dropped"] is True
    assert "Your session expired, so your last change was not saved." in (
        login_page.content.decode()
    )

    logged_in = client.post(
        reverse("login"),
        {"username": admin_user.username, "password": PASSWORD, "next": webhooks,
         "expired": "1"},
    )
    assert logged_in.status_code == 302 and logged_in["Location"] == webhooks
    assert DROPPED_CHANGE not in client.session, "said once"
    back = client.get(webhooks)
    assert back.status_code == 200
    assert [(m.level_tag, str(m)) for m in back.context["messages"]] == [
        (
            "warning",
            "Your last change (on Webhooks of “Acme”) was not saved: your session had "
            "expired. Make it again.",
        )
    ]
    assert not WebhookState.objects.exists(), "nothing replayed"


def test_a_plain_post_without_next_returns_to_the_page_that_sent_it(admin_user, subscription):
    client = expired_client(admin_user)
    governance = reverse("subscriptions:governance", args=[subscription.pk])
    response = client.post(
        reverse("subscriptions:webhook_toggle", args=[subscription.pk]),
        {"deployment": "245"},
        headers={"Referer": f"http://testserver{governance}?x=1"},
    )
    assert response["Location"] == reverse("login") + f"?next={governance}%3Fx%3D1&expired=1"
    # The page it came from names the section.
    assert client.session[DROPPED_CHANGE]["section"] == "Governance"


def test_a_post_from_nowhere_known_goes_back_to_its_section_never_to_the_post_only_url(
    admin_user, subscription
):
    client = expired_client(admin_user)
    response = client.post(
        reverse("subscriptions:webhook_toggle", args=[subscription.pk]),
        {"deployment": "245", "next": "https://evil.example/"},
        headers={"Referer": "https://evil.example/phish"},
    )
    webhooks = reverse("subscriptions:webhooks", args=[subscription.pk])
    assert response["Location"] == reverse("login") + f"?next={webhooks}&expired=1"


def test_a_first_visit_is_not_told_of_an_expired_session(subscription):
    client = Client()
    page = reverse("subscriptions:detail", args=[subscription.pk])
    response = client.get(page)
    assert response["Location"] == reverse("login") + f"?next={page}"
    login_page = client.get(response["Location"])
    assert login_page.context["session_expired"] is False
    assert "expired" not in login_page.content.decode()
    assert not Session.objects.exists(), "a first visit stores nothing"


def test_a_page_opened_with_a_session_the_server_dropped_says_it_expired(
    admin_user, subscription
):
    client = expired_client(admin_user)
    page = reverse("subscriptions:detail", args=[subscription.pk])
    response = client.get(page)
    assert response["Location"] == reverse("login") + f"?next={page}&expired=1"
    login_page = client.get(response["Location"])
    assert login_page.context["session_expired"] is True
    assert login_page.context["change_dropped"] is False, "a GET drops nothing"


def test_after_logging_out_the_login_page_does_not_say_expired(admin_client_, subscription):
    admin_client_.post(reverse("logout"))
    page = reverse("subscriptions:detail", args=[subscription.pk])
    assert admin_client_.get(page)["Location"] == reverse("login") + f"?next={page}"


def test_a_change_outside_a_subscription_is_named_without_a_section(admin_user):
    client = expired_client(admin_user)
    people = reverse("subscriptions:people")
    client.post(reverse("subscriptions:people"), {"next": people})
    page = client.post(
        reverse("login"), {"username": admin_user.username, "password": PASSWORD, "next": people},
        follow=True,
    )
    assert page.redirect_chain == [(people, 302)]
    assert [str(m) for m in page.context["messages"]] == [
        "Your last change was not saved: your session had expired. Make it again."
    ]
