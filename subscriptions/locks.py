"""One way to take turns: an advisory lock by name, and a locked subscription row.

Writers that must not interleave (the audit chain, role changes) take a transaction-scoped
PostgreSQL advisory lock; on SQLite the IMMEDIATE transaction mode already serialises every
writer, so nothing more is needed there. Rows a service changes are read with
``select_for_update`` and, for a subscription, without its secrets.
"""

from __future__ import annotations

from django.db import connection

from .bulk_sql import bound_cursor
from .models import Subscription

# Any advisory-lock numbers unique to this application will do; they never change, so that
# processes of two releases running side by side still take turns.
AUDIT_CHAIN = 0x1A0D17
ROLES = 0x1A0D18


def advisory_lock(key: int) -> None:
    """Hold the advisory lock ``key`` until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_lock must run inside a transaction")
    if connection.vendor == "postgresql":
        with bound_cursor(connection) as cursor:  # taken on every audited change
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def locked_subscription(pk: int) -> Subscription:
    """The subscription row, locked until the transaction ends, its secrets left unread."""
    return Subscription.objects.select_for_update().without_secrets().get(pk=pk)
