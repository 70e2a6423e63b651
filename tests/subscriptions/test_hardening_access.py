"""Every URL the dashboard serves, for every role and method, against the table in
hardening.py: allowed, 403 for a role without the permission, 405 for a method the URL does
not take, the login page for anyone without a session, and 401 at the inbound webhook for
anyone without its key, session or not.

The URLs come from the resolver, so a URL added later fails here until it is in the table.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from subscriptions.models import InboundEvent
from tests.factories import logged_in_client
from tests.property.strategies import rolled_back

from .hardening import (
    ACCESS,
    ANON,
    KEY_ONLY,
    METHODS,
    ROLES,
    SCRAPER_ONLY,
    build_world,
    declared,
    every_url,
    path_of,
    roles_holding,
    suggested_line,
)

pytestmark = pytest.mark.django_db


def test_every_url_is_in_the_access_table():
    urls = {url.name: url for url in every_url()}
    missing = [suggested_line(url) for name, url in urls.items() if name not in ACCESS]
    assert not missing, (
        "These URLs are not in ACCESS (tests/subscriptions/hardening.py). Add each with the "
        "roles that may use it per method; the decorators suggest:\n" + "\n".join(missing)
    )
    stale = sorted(set(ACCESS) - set(urls))
    assert not stale, f"ACCESS names URLs that no longer exist; remove them: {stale}"


def test_the_table_agrees_with_what_the_views_decorators_declare():
    disagreements = []
    for url in every_url():
        spec = ACCESS.get(url.name)
        if spec is None:
            continue  # reported by the test above
        methods, perms = declared(url.view)
        if methods is not None and set(spec) != set(methods):
            disagreements.append(f"{url.name}: table {sorted(spec)}, view {sorted(methods)}")
        if perms is None:
            continue
        for method, roles in spec.items():
            if roles not in (KEY_ONLY, SCRAPER_ONLY) and roles != roles_holding(perms):
                disagreements.append(
                    f"{url.name} {method}: table {sorted(roles)}, require{perms} gives "
                    f"{sorted(roles_holding(perms))}"
                )
    assert not disagreements, "\n".join(disagreements)


@pytest.fixture
def world(netsuite_sim, ec_pair, admin_user):
    return build_world(netsuite_sim, ec_pair, admin_user)


@pytest.fixture
def clients(role_users):
    clients = {ANON: Client(), **{role: logged_in_client(u) for role, u in role_users.items()}}
    for client in clients.values():
        client.raise_request_exception = False  # a 500 is one wrong answer among the rest
    return clients


def to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("login") + "?next="
    )


def outcome(url, role, method) -> str:
    """What the table says this request must get: allowed, 403, 405, 401 or login."""
    spec = ACCESS[url.name]
    if role == ANON and url.login_required:
        return "login"
    allowed = spec.get(method)
    if allowed is None:
        return "405"
    if allowed == KEY_ONLY:
        return "401"
    if allowed == SCRAPER_ONLY:
        # Nobody here carries the metrics token; unconfigured, the URL does not exist.
        return "403" if settings.METRICS_TOKEN or settings.METRICS_ALLOWED_ADDRESSES else "404"
    return "allowed" if role in allowed else "403"


def verdict(response, expected: str, method: str) -> str | None:
    """None when ``response`` is what ``expected`` means, else what it was instead."""
    status = response.status_code
    got = f"{status} {response.get('Location', '')}".strip()
    if expected == "login":
        return None if to_login(response) else got
    if expected in ("401", "403", "404", "405"):
        return None if str(status) == expected else got
    if status in (401, 403, 405) or to_login(response) or status >= 500:
        return got
    if method == "GET" and status not in (200, 302):
        return got  # the path was filled with real objects: a page or a redirect, no 404
    return None


def request(client, method: str, path: str):
    # A request may log the client out (logout) or change its session: each one starts from
    # the same cookies, and its database writes are undone.
    cookies = SimpleCookie(client.cookies)
    try:
        with rolled_back():
            return getattr(client, method.lower())(path)
    finally:
        client.cookies = cookies


def test_every_url_answers_every_role_and_method_as_the_table_says(world, clients):
    wrong = []
    checked = 0
    for url in every_url():
        if url.name not in ACCESS:
            continue  # reported by test_every_url_is_in_the_access_table
        path = path_of(url, world)
        for role in ROLES:
            for method in METHODS:
                expected = outcome(url, role, method)
                response = request(clients[role], method, path)
                checked += 1
                got = verdict(response, expected, method)
                if got is not None:
                    wrong.append(
                        f"{url.name} {method} {path} as {role}: want {expected}, got {got}"
                    )
    assert checked >= len(ACCESS) * len(ROLES) * len(METHODS)
    assert not wrong, f"{len(wrong)} of {checked} requests:\n" + "\n".join(wrong)


def test_the_inbound_webhook_takes_the_key_and_nothing_else(world, clients):
    """No session opens it, no CSRF token is asked for, and the key alone is enough."""
    subscription = world["subscription"]
    path = reverse("subscriptions:inbound_webhook", args=[subscription.pk])
    body = json.dumps({"notifications": [{"scope": "customer/updated", "external_id": "7"}]})
    from subscriptions.models import Subscription

    key = Subscription.objects.get(pk=subscription.pk).webhook_api_key
    for role, client in clients.items():
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = SimpleCookie(client.cookies)
        refused = strict.post(path, data=body, content_type="application/json")
        assert refused.status_code == 401, role
        accepted = strict.post(
            path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )
        assert accepted.status_code == 202, (role, accepted.content)
        assert "csrftoken" not in accepted.cookies and "sessionid" not in accepted.cookies
    assert InboundEvent.objects.filter(subscription=subscription).count() == 1
