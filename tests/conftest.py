"""Fixtures shared by every layer: people with each role, logged-in clients, a valid key."""

from unittest import mock

import pytest

from subscriptions.models import Role
from tests import factories

AUDIT_TABLE = "subscriptions_auditevent"
TRUNCATE_GUARD = "subscriptions_auditevent_no_truncate"


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_truncate_guard():
    """Transactional tests (the browser ones) end with a flush, a TRUNCATE of every table on
    PostgreSQL, which the audit table refuses (migration 0006). Only the test run's flush
    lifts that guard, inside the flush's own transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if AUDIT_TABLE not in tables or not statements:
            return statements
        return [
            f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER {TRUNCATE_GUARD}",
            *statements,
            f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER {TRUNCATE_GUARD}",
        ]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


@pytest.fixture(scope="session")
def rsa_pem() -> str:
    """An RSA 3072 private key made at run time (PKCS#8 PEM), shared by the session."""
    from netsuite.certificates import generate_private_key, private_key_to_pem

    return private_key_to_pem(generate_private_key("rsa3072"))


@pytest.fixture
def make_user(db):
    """``make_user(username, role)``: a person with the shared test password."""
    return factories.make_user


@pytest.fixture
def admin_user(make_user):
    return make_user("alice-admin", Role.ADMINISTRATOR)


@pytest.fixture
def support_user(make_user):
    return make_user("sam-support", Role.SUPPORT)


@pytest.fixture
def auditor_user(make_user):
    return make_user("ada-auditor", Role.AUDITOR)


@pytest.fixture
def role_users(admin_user, support_user, auditor_user):
    return {
        Role.ADMINISTRATOR: admin_user,
        Role.SUPPORT: support_user,
        Role.AUDITOR: auditor_user,
    }


@pytest.fixture
def admin_client_(admin_user):
    return factories.logged_in_client(admin_user)


@pytest.fixture
def support_client(support_user):
    return factories.logged_in_client(support_user)


@pytest.fixture
def auditor_client(auditor_user):
    return factories.logged_in_client(auditor_user)


@pytest.fixture
def client_for():
    return factories.logged_in_client
