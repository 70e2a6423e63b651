"""Every operation of the API, for every role with a read-write and a read-only token, and
without a token: allowed by the permission in permissions.py, 403 for a role without it or a
write with a read-only token, 401 without a usable token; a session alone never opens it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from subscriptions.models import AuditEvent
from tests.factories import logged_in_client
from tests.property.strategies import rolled_back

from .conftest import ROLES, ApiClient
from .matrix import OPS

pytestmark = pytest.mark.django_db


def test_the_table_covers_every_operation_of_the_schema(api_world, tokens):
    from subscriptions.api.urls import api

    schema = api.get_openapi_schema(path_params={})
    secured = {
        op["operationId"]
        for methods in schema["paths"].values()
        for op in methods.values()
        if op.get("security")
    }
    assert len(secured) == len(OPS)
    names = {op.name for op in OPS}
    from tests.subscriptions.hardening import every_url

    api_names = {u.name.split(":", 1)[1] for u in every_url() if u.name.startswith("api:")}
    assert names == api_names - {"api-root", "openapi-json", "openapi-view", "health"}


def test_every_operation_answers_every_role_and_token_kind_as_the_table_says(api_world, tokens):
    wrong = []
    for op in OPS:
        path = op.path(api_world)
        for role in ROLES:
            for read_only in (False, True):
                client = ApiClient(tokens[(role, read_only)])
                with rolled_back():
                    response = client.call(op.method, path, op.body)
                status = response.status_code
                if op.allowed(role, read_only):
                    ok = status in (200, 201, 202)
                else:
                    ok = status == 403 and response.json()["code"] in (
                        "PERMISSION_DENIED",
                        "TOKEN_READ_ONLY",
                    )
                if not ok:
                    wrong.append(
                        f"{op.method} {path} as {role} read_only={read_only}: got {status} "
                        f"{response.content[:200]!r}"
                    )
        # No token at all, and a session without a token: 401 in the API's shape.
        for client in (ApiClient(None), ApiClient(None)):
            response = client.call(op.method, path, op.body)
            if response.status_code != 401 or response.json()["code"] != "TOKEN_MISSING":
                wrong.append(f"{op.method} {path} without a token: got {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_session_counts_for_nothing_and_no_csrf_token_is_asked(api_world, admin_user, tokens):
    session = logged_in_client(admin_user)
    path = f"/api/v1/subscriptions/{api_world['subscription_id']}/jobs/inventory-poll"
    assert session.post(path).status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = session.cookies
    response = strict.post(
        path, HTTP_AUTHORIZATION=f"Bearer {tokens[('administrator', False)]}"
    )
    assert response.status_code == 202, response.content
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_a_refused_write_changes_nothing(api_world, tokens):
    before = AuditEvent.objects.count()
    client = ApiClient(tokens[("support", False)])
    path = f"/api/v1/subscriptions/{api_world['subscription_id']}/jobs/initialization"
    response = client.call("POST", path, {"types": []})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role (Support) may not start jobs; an administrator can change your "
        "role on the People page.",
        "code": "PERMISSION_DENIED",
    }
    assert AuditEvent.objects.count() == before


def test_the_role_is_asked_at_each_request(api_world, support_user, tokens, admin_user):
    from subscriptions.services.users import user_set_active, user_set_role

    client = ApiClient(tokens[("support", False)])
    path = f"/api/v1/subscriptions/{api_world['subscription_id']}/events"
    assert client.call("GET", path).status_code == 200
    user_set_role(user=support_user, role="auditor", actor=admin_user)
    response = client.call("GET", path)
    assert response.status_code == 403, response.content
    assert "Auditor" in response.json()["detail"]
    user_set_active(user=support_user, active=False, actor=admin_user)
    response = client.call("GET", path)
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_OWNER_INACTIVE"


def test_errors_have_one_shape(api_world, tokens):
    client = ApiClient(tokens[("administrator", False)])
    missing = client.call("GET", "/api/v1/subscriptions/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND" and "999999" in missing.json()["detail"]
    path = f"/api/v1/subscriptions/{api_world['subscription_id']}/webhooks/1"
    invalid = client.call("PUT", path, {"create": True, "update": "maybe", "reason": " "})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["code"] == "INVALID_INPUT"
    locs = {error["loc"] for error in body["errors"]}
    assert {"body.body.update", "body.body.delete", "body.body.reason"} <= locs, locs
    unreadable = client.client.put(
        path, data="{not json", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens[('administrator', False)]}",
    )
    assert unreadable.status_code == 400 and unreadable.json()["code"] == "BAD_REQUEST"
    wrong_type = client.call(
        "POST",
        f"/api/v1/subscriptions/{api_world['subscription_id']}/jobs/initialization",
        {"types": ["no-such-type"]},
    )
    assert wrong_type.status_code == 422
    assert client.call("DELETE", "/api/v1/jobs").status_code == 405
    assert ApiClient().call("GET", "/api/v1/health").json() == {"status": "ok", "api": "v1"}
