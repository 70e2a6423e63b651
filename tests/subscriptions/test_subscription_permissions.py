"""Role × view × method: allowed requests work and change what they should; refused ones are
403 (or a redirect to the login page for anonymous visitors) and change nothing at all, even
when the POST is hand-crafted with valid data."""

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent, Subscription
from tests.factories import create_form_data, edit_form_data, make_subscription
from tests.html import badges

ADMIN, SUPPORT, AUDITOR, ANONYMOUS = "admin", "support", "auditor", "anonymous"
EVERYONE = {ADMIN, SUPPORT, AUDITOR}


def state():
    """Everything a request could change: every subscription column and the audit trail."""
    return list(Subscription.objects.order_by("pk").values()), AuditEvent.objects.count()


def _created(sub, before):
    return Subscription.objects.count() == len(before[0]) + 1


def _edited(sub, before):
    return Subscription.objects.get(pk=sub.pk).name == "Renamed by a test"


def _deleted(sub, before):
    return not Subscription.objects.filter(pk=sub.pk).exists()


def _regenerated(sub, before):
    return Subscription.objects.get(pk=sub.pk).webhook_api_key_digest != (
        before[0][0]["webhook_api_key_digest"]
    )


# (url name, needs a pk, method, roles allowed, POST data builder, check that it happened)
CASES = [
    ("list", False, "get", EVERYONE, None, None),
    ("detail", True, "get", EVERYONE, None, None),
    ("create", False, "get", {ADMIN}, None, None),
    ("create", False, "post", {ADMIN}, lambda sub: create_form_data(name="Second"), _created),
    ("edit", True, "get", {ADMIN}, None, None),
    (
        "edit",
        True,
        "post",
        {ADMIN},
        lambda sub: edit_form_data(sub, name="Renamed by a test"),
        _edited,
    ),
    ("delete", True, "get", {ADMIN}, None, None),
    ("delete", True, "post", {ADMIN}, lambda sub: {"reason": "test"}, _deleted),
    ("webhook_key_regenerate", True, "get", {ADMIN}, None, None),
    ("webhook_key_regenerate", True, "post", {ADMIN}, lambda sub: {}, _regenerated),
    ("api_url_preview", False, "get", {ADMIN}, None, None),
]


@pytest.fixture
def clients(admin_user, support_user, auditor_user, client_for):
    return {
        ADMIN: client_for(admin_user),
        SUPPORT: client_for(support_user),
        AUDITOR: client_for(auditor_user),
        ANONYMOUS: Client(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ADMIN, SUPPORT, AUDITOR, ANONYMOUS])
@pytest.mark.parametrize(
    "case", CASES, ids=[f"{name}-{method}" for name, _, method, *_ in CASES]
)
def test_role_view_matrix(clients, admin_user, role, case):
    name, needs_pk, method, allowed, make_data, happened = case
    sub, _ = make_subscription(admin_user)
    url = reverse(f"subscriptions:{name}", args=[sub.pk] if needs_pk else [])
    client = clients[role]
    data = make_data(sub) if make_data else None
    before = state()

    if method == "get":
        response = client.get(url, {"account_id": "1234567"} if name == "api_url_preview" else {})
    else:
        response = client.post(url, data)

    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
        if happened is not None:
            assert happened(sub, before), f"{role} was allowed but {name} did not happen"
        else:
            assert state() == before, "a GET must change nothing"
        return

    if role == ANONYMOUS:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    else:
        assert response.status_code == 403
        assert "Nothing was changed" in response.content.decode()
    assert state() == before


@pytest.mark.django_db
def test_a_refused_post_with_htmx_headers_is_refused_too(clients, admin_user):
    sub, _ = make_subscription(admin_user)
    url = reverse("subscriptions:webhook_key_regenerate", args=[sub.pk])
    before = state()
    for role in (SUPPORT, AUDITOR):
        response = clients[role].post(url, {}, headers={"HX-Request": "true"})
        assert response.status_code == 403
    assert state() == before


@pytest.mark.django_db
def test_a_forbidden_request_for_a_missing_subscription_is_403_not_404(clients):
    url = reverse("subscriptions:delete", args=[424242])
    assert clients[SUPPORT].post(url).status_code == 403
    assert clients[ADMIN].post(url).status_code == 404


@pytest.mark.django_db
def test_only_the_secrets_metadata_permission_shows_the_key_type_on_the_list_and_detail(
    clients, admin_user
):
    sub, _ = make_subscription(admin_user)
    admin_view = clients[ADMIN].get(reverse("subscriptions:detail", args=[sub.pk]))
    assert "RSA 3072" in admin_view.content.decode()
    for role in (SUPPORT, AUDITOR):
        response = clients[role].get(reverse("subscriptions:detail", args=[sub.pk]))
        html = response.content.decode()
        assert "RSA 3072" not in html and sub.private_key_fingerprint not in html
        assert ("ok", "set") in badges(response)
