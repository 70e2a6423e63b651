"""Re-encrypt every stored secret under the newest key of FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), run
``rotate_encryption_keys``, and once it reports 0 values left on older keys, drop the old keys.
Values are read and written with plain SQL: the field's own decryption (``from_db_value``,
which also runs for ``values()``) must not touch them, and a compare-and-swap keeps a secret
saved meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connections, router, transaction

from .. import audit, fields
from ..actors import ActorLike

BATCH = 500


@dataclass
class Tally:
    reencrypted: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    failures: list = field(default_factory=list)  # (model label, pk, field name, key id)


def encrypted_fields() -> list[tuple[type, fields.EncryptedTextField]]:
    """(model, field) for every EncryptedTextField of every installed model, so models added
    later are covered without touching this command."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        for f in meta.concrete_fields:
            if isinstance(f, fields.EncryptedTextField):
                found.append((model, f))
    return found


def _stored_values(connection, model, f):
    """(pk, stored text) in pk batches, read with a plain cursor: the field's decryption
    (from_db_value, which also runs for values()) must not touch them."""
    qn = connection.ops.quote_name
    table, pk_col, col = qn(model._meta.db_table), qn(model._meta.pk.column), qn(f.column)
    select = f"SELECT {pk_col}, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> ''"  # noqa: S608 (quoted names)
    last = None
    while True:
        sql, params = select, []
        if last is not None:
            sql, params = f"{select} AND {pk_col} > %s", [last]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY {pk_col} LIMIT {BATCH}", params)
            rows = cursor.fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def encryption_reencrypt(*, dry_run: bool = False) -> Tally:
    tally = Tally()
    newest, _, _ = fields.keyring()
    for model, f in encrypted_fields():
        db = router.db_for_write(model)
        connection = connections[db]
        qn = connection.ops.quote_name
        update = (
            f"UPDATE {qn(model._meta.db_table)} SET {qn(f.column)} = %s "  # noqa: S608
            f"WHERE {qn(model._meta.pk.column)} = %s AND {qn(f.column)} = %s"
        )
        for pk, stored in _stored_values(connection, model, f):
            if fields.stored_key_id(stored) == newest:
                tally.current += 1
                continue
            try:
                fresh = fields.reencrypt(stored)
            except fields.DecryptionError:
                tally.failures.append(
                    (model._meta.label, pk, f.name, fields.stored_key_id(stored) or "(none)")
                )
                continue
            if dry_run:
                tally.reencrypted += 1
                continue
            # Compare-and-swap: a secret saved meanwhile (already under the newest key) wins.
            with transaction.atomic(using=db), connection.cursor() as cursor:
                cursor.execute(update, [fresh, pk, stored])
                changed = cursor.rowcount
            if changed:
                tally.reencrypted += 1
            else:
                tally.changed_meanwhile += 1
    return tally


def encryption_remaining_on_older_keys() -> int:
    newest, _, _ = fields.keyring()
    left = 0
    for model, f in encrypted_fields():
        connection = connections[router.db_for_read(model)]
        left += sum(
            1 for _, stored in _stored_values(connection, model, f)
            if fields.stored_key_id(stored) != newest
        )
    return left




def encryption_keys_rotate(*, actor: ActorLike, dry_run: bool = False) -> tuple[Tally, int]:
    """Re-encrypt, then put the rotation on record; returns the tally and what is left.

    A dry run writes nothing, not even its audit event.
    """
    tally = encryption_reencrypt(dry_run=dry_run)
    if dry_run:
        return tally, tally.reencrypted + len(tally.failures)
    left = encryption_remaining_on_older_keys()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="encryption.keys_rotated",
            target_type="encryption",
            target_repr="FIELD_ENCRYPTION_KEYS",
            changes={
                "reencrypted": tally.reencrypted,
                "already_on_newest_key": tally.current,
                "changed_meanwhile": tally.changed_meanwhile,
                "failed": len(tally.failures),
                "remaining_on_older_keys": left,
            },
        )
    return tally, left
