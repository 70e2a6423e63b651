"""A token's life: made on the person's page and shown once (Post/Redirect/Get, never in a
URL), only its SHA-256 stored, its last use written at most once a minute, revoked, expired;
each refusal says which it is."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from subscriptions.models import ApiToken, AuditEvent
from tests.factories import logged_in_client
from tests.html import text_of

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

PAGE = "/account/api-tokens/"


def make_in_the_page(client, **fields):
    data = {"name": "nightly sync", "days": "30", **fields}
    return client.post(PAGE, data)


def test_a_token_made_in_the_page_is_shown_once_and_only_its_hash_is_kept(support_user):
    client = logged_in_client(support_user)
    assert client.get(PAGE).status_code == 200
    made = make_in_the_page(client, read_only="on")
    assert made.status_code == 302 and made["Location"] == PAGE  # the secret is not in the URL
    shown = client.get(PAGE)
    secret = text_of(shown, "new-api-token")
    assert len(secret) >= 40
    assert "no-store" in shown["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.user == support_user and token.read_only and token.name == "nightly sync"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert secret not in str(ApiToken.objects.values().get())
    again = client.get(PAGE)
    assert secret not in again.content.decode()  # shown once
    assert token.prefix in again.content.decode()  # recognised by its prefix
    event = AuditEvent.objects.filter(action="api_token.created").get()
    assert event.actor_id == support_user.pk and secret not in str(event.changes)
    assert event.changes["prefix"] == [None, token.prefix]
    assert ApiClient(secret).call("GET", "/api/v1/subscriptions").status_code == 200


@pytest.mark.parametrize(
    "fields, field",
    [({"name": " "}, "name"), ({"days": "0"}, "days"), ({"days": "366"}, "days")],
)
def test_a_refused_token_form_makes_nothing(support_user, fields, field):
    client = logged_in_client(support_user)
    response = make_in_the_page(client, **fields)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoked_expired_and_unknown_tokens_are_refused_saying_which(support_user, admin_user):
    client = logged_in_client(support_user)
    make_in_the_page(client)
    secret = text_of(client.get(PAGE), "new-api-token")
    token = ApiToken.objects.get()
    api = ApiClient(secret)
    assert api.call("GET", "/api/v1/subscriptions").status_code == 200

    # Someone else cannot revoke it.
    other = logged_in_client(admin_user)
    assert other.post(reverse("subscriptions:api_token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None

    revoked = client.post(reverse("subscriptions:api_token_revoke", args=[token.pk]))
    assert revoked.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoked", target_id=str(token.pk)).exists()
    response = api.call("GET", "/api/v1/subscriptions")
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_REVOKED" and "revoked" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")

    make_in_the_page(client, name="short-lived")
    second = text_of(client.get(PAGE), "new-api-token")
    ApiToken.objects.filter(name="short-lived").update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = ApiClient(second).call("GET", "/api/v1/subscriptions")
    assert response.status_code == 401 and response.json()["code"] == "TOKEN_EXPIRED"
    assert "expired" in response.json()["detail"]

    response = ApiClient(secret[:-2] + "xx").call("GET", "/api/v1/subscriptions")
    assert response.status_code == 401 and response.json()["code"] == "TOKEN_UNKNOWN"
    response = ApiClient().call("GET", "/api/v1/subscriptions", HTTP_AUTHORIZATION="Basic abc")
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


def test_last_used_is_written_at_most_once_a_minute(support_user, tokens):
    secret = tokens[("support", True)]
    token = ApiToken.objects.get(prefix=secret[:8])
    assert token.last_used_at is None
    api = ApiClient(secret)
    api.call("GET", "/api/v1/subscriptions")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    api.call("GET", "/api/v1/subscriptions")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    earlier = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    api.call("GET", "/api/v1/subscriptions")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > earlier


def test_the_top_bar_links_the_tokens_page(auditor_user):
    page = logged_in_client(auditor_user).get(reverse("subscriptions:list"))
    assert f'href="{PAGE}"' in page.content.decode()
