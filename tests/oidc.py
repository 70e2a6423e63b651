"""The test OpenID Connect provider (``tests/oidc_provider.py``) as a process of its own, its
knobs, and the fixtures the single sign-on tests share; a plain module, not a test module.

A test module imports ``oidc_fixture, oidc_process_fixture`` and asks for ``oidc``: the
provider, reset, with the dashboard's settings pointing at it.

The provider runs as ``python -m tests.oidc_provider`` on a free port of 127.0.0.1, once per
test module; each test resets it and points the dashboard's settings at it.
"""

from __future__ import annotations

import os
import sys

import pytest
import requests
from django.core.cache import cache

from tests.processes import ROOT, ProcessGroup, free_port

CLIENT_ID = "ipaas-dashboard"
CLIENT_SECRET = "test-client-secret"
GROUPS = {
    "administrator": "ipaas-admins",
    "support": "ipaas-support",
    "auditor": "ipaas-auditors",
}


class OidcProvider:
    """A started ``python -m tests.oidc_provider`` and its control endpoint."""

    def __init__(self, group, port: int) -> None:
        self.group = group
        self.issuer = f"http://127.0.0.1:{port}"

    def _post(self, path: str, data: dict) -> None:
        response = requests.post(self.issuer + path, json=data, timeout=5)
        response.raise_for_status()

    def set_user(self, **claims) -> None:
        self._post("/_control/user", claims)

    def person(self, username: str, *groups: str, sub: str | None = None, **claims) -> dict:
        """Approve ``username`` (subject ``sub-<username>``) in ``groups`` from now on."""
        user = {
            "sub": sub or f"sub-{username}",
            "preferred_username": username,
            "email": f"{username}@example.com",
            "email_verified": True,
            "name": username.title(),
            "groups": list(groups),
            **claims,
        }
        self.set_user(**user)
        return user

    def fault(self, name: str) -> None:
        self._post("/_control/fault", {"fault": name})

    def reset(self) -> None:
        self._post("/_control/reset", {})

    def log(self) -> list[str]:
        return requests.get(self.issuer + "/_control/log", timeout=5).json()["log"]

    def configure(self, settings, **overrides) -> None:
        """Point the dashboard's settings (pytest-django's ``settings``) at this provider."""
        settings.OIDC_ISSUER = self.issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_PROVIDER_NAME = "Test IdP"
        settings.OIDC_GROUPS_CLAIM = "groups"
        settings.OIDC_ROLE_GROUPS = {group: role for role, group in GROUPS.items()}
        for name, value in overrides.items():
            setattr(settings, name, value)
        cache.clear()  # the discovery document of another run's provider


def start_provider(logs, *, alg: str = "RS256"):
    """Start the provider as a process of its own; returns ``(OidcProvider, ProcessGroup)``."""
    group = ProcessGroup(logs)
    port = free_port()
    group.start(
        "oidc_provider",
        [sys.executable, "-m", "tests.oidc_provider", "--port", str(port), "--alg", alg],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
    )
    provider = OidcProvider(group, port)

    def ready():
        try:
            return requests.get(provider.issuer + "/jwks", timeout=1).ok
        except requests.ConnectionError:
            return False

    group.wait_for(ready, 15, "the test OIDC provider")
    return provider, group



@pytest.fixture(scope="module", name="oidc_process")
def oidc_process_fixture(tmp_path_factory):
    provider, group = start_provider(tmp_path_factory.mktemp("oidc"))
    try:
        yield provider
    finally:
        group.stop()


@pytest.fixture(name="oidc")
def oidc_fixture(oidc_process, settings):
    """The running test provider, reset, with the dashboard's settings pointing at it."""
    oidc_process.reset()
    oidc_process.configure(settings)
    return oidc_process
