"""Fixtures of the API's tests: a subscription registered in the simulator with something
behind every endpoint, and tokens of each role (read-write and read-only)."""

from __future__ import annotations

import pytest
from django.test import Client

from subscriptions.models import Role
from subscriptions.services.api_tokens import api_token_create
from tests.subscriptions.conftest import ec_pair, netsuite_sim  # noqa: F401  (fixtures)

from .matrix import build_api_world


@pytest.fixture
def api_world(netsuite_sim, ec_pair, admin_user):  # noqa: F811
    return build_api_world(netsuite_sim, ec_pair, admin_user)


@pytest.fixture
def tokens(role_users) -> dict[tuple[str, bool], str]:
    """``{(role, read_only): secret}`` for each role."""
    made = {}
    for role, user in role_users.items():
        for read_only in (False, True):
            _token, secret = api_token_create(
                user=user, name=f"{role} {read_only}", days=30, read_only=read_only, actor=user
            )
            made[(role, read_only)] = secret
    return made


class ApiClient:
    """Django's test client with a bearer token and JSON bodies."""

    def __init__(self, secret: str | None = None):
        self.client = Client(enforce_csrf_checks=True)
        self.client.raise_request_exception = False
        self.secret = secret

    def call(self, method: str, path: str, body=None, **headers):
        if self.secret is not None:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.secret}")
        kwargs = {"content_type": "application/json"} if body is not None else {}
        handler = getattr(self.client, method.lower())
        if body is not None:
            return handler(path, data=body, **kwargs, **headers)
        return handler(path, **headers)


@pytest.fixture
def api_client():
    return ApiClient


ROLES = (Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR)
