"""Many rows stored by ``INSERT ... ON CONFLICT``, the statement built once per shape.

What ``bulk_create(ignore_conflicts=True)`` and ``bulk_create(update_conflicts=True, ...)``
send, without compiling the statement through the ORM for every call: for the hot writes
(an inbound webhook per delivery, a thousand records per page of an initialization) the
compilation cost more than the database's own work. SQLite and PostgreSQL both understand
the statement. Values still go through each field's own preparation (dates, JSON) where a
field has one, and always as parameters.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Sequence

from django.db import connections, models, router, transaction


class JsonText(str):
    """A JSON field's value already encoded (by a caller that needed the text anyway, for a
    digest): stored as it is instead of being encoded again."""


def _json_param(connection, text: JsonText):
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        # psycopg encodes a Jsonb's object with ``dumps``: here the text is the encoding.
        return Jsonb(text, dumps=str)
    return str(text)


# Fields whose Python value is already what the database driver takes.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)


def _needs_prep(field: models.Field) -> bool:
    return not isinstance(field, _PLAIN) or isinstance(field, models.JSONField)


@functools.lru_cache(maxsize=128)
def _statement(
    alias: str,
    model: type[models.Model],
    names: tuple[str, ...],
    rows: int,
    conflict: tuple[str, ...],
    update: tuple[str, ...],
) -> str:
    ops = connections[alias].ops
    meta = model._meta
    columns = [ops.quote_name(meta.get_field(name).column) for name in names]
    table = ops.quote_name(meta.db_table)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    # Only quoted names are formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT"  # noqa: S608
    if not update:
        return sql + " DO NOTHING"
    target = ", ".join(ops.quote_name(meta.get_field(name).column) for name in conflict)
    sets = ", ".join(
        f"{column} = excluded.{column}"
        for column in (ops.quote_name(meta.get_field(name).column) for name in update)
    )
    return f"{sql} ({target}) DO UPDATE SET {sets}"


@functools.lru_cache(maxsize=128)
def _to_prepare(model: type[models.Model], names: tuple[str, ...]) -> tuple:
    """The (position, field) of each column whose values need their field's preparation:
    worked out once per shape, not for every delivery's row."""
    fields = [model._meta.get_field(name) for name in names]
    return tuple((i, f) for i, f in enumerate(fields) if _needs_prep(f))


def _prepared(connection, model, names: Sequence[str], rows: Iterable[Sequence]) -> list[list]:
    prep = _to_prepare(model, tuple(names))
    prepared = []
    # The same value in every row (a page's one fetch time) is prepared once.
    last: dict[int, tuple[object, object]] = {}
    for row in rows:
        row = list(row)
        for i, field in prep:
            value = row[i]
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                row[i] = seen[1]
                continue
            if isinstance(value, JsonText):
                row[i] = _json_param(connection, value)
            else:
                row[i] = field.get_db_prep_save(value, connection)
            last[i] = (value, row[i])
        prepared.append(row)
    return prepared


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (value tuples in ``names`` order, attribute names such as
    ``subscription_id``), all of them or none.

    A row that conflicts is skipped, or with ``update`` has those columns overwritten from
    the new row (``conflict`` names the unique columns). Each database gets the form it runs
    fastest: SQLite one row's statement run for every row (``executemany``, a loop in C),
    PostgreSQL one short statement taking an array per column (one parse and one round
    trip, where psycopg's ``executemany`` sends and parses a statement per row), its values
    bound on the server (psycopg sends them as they are; the client-side binding of Django's
    cursors writes each as a quoted literal into the statement). Those PostgreSQL statements
    go through psycopg's own cursor, so they are not in Django's query log.
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    prepared = _prepared(connection, model, names, rows)
    if not prepared:
        return
    shape = (alias, model, tuple(names), tuple(conflict), tuple(update))
    postgres = connection.vendor == "postgresql"
    # One statement is atomic by itself: no BEGIN and COMMIT round trips around a single row.
    atomic = (
        transaction.atomic(using=alias, savepoint=False)
        if len(prepared) > 1
        else contextlib.nullcontext()
    )
    if not postgres:
        with atomic, connection.cursor() as cursor:
            if len(prepared) == 1:
                cursor.execute(_statement(*shape[:3], 1, *shape[3:]), prepared[0])
            else:
                cursor.executemany(_statement(*shape[:3], 1, *shape[3:]), prepared)
        return
    with atomic, _raw_cursor(connection) as raw:
        if len(prepared) == 1:
            sql = _statement(*shape[:3], 1, *shape[3:])
            raw.execute(sql.replace("%s", "%b"), prepared[0])
        else:
            columns = [list(column) for column in zip(*prepared, strict=True)]
            raw.execute(_unnest_statement(*shape).replace("%s", "%b"), columns)


def bound_cursor(connection):
    """Django's cursor on ``connection``, but on PostgreSQL with the values bound on the
    server (psycopg's own cursor class, as Django's ``server_side_binding`` option gives):
    psycopg then prepares a statement it runs often, and the server plans it once, where
    Django's default cursor writes every value into the statement as a literal, which the
    server parses and plans again each time. Django's wrapping stays (``execute_wrapper``,
    the query log, its error classes). For the few hot statements of ``compiled`` and
    :func:`insert_one`; everything else keeps Django's default."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
    # What Django's connection.cursor() does with the driver's cursor it made.
    return connection._prepare_cursor(cursor)


@contextlib.contextmanager
def _raw_cursor(connection):
    """PostgreSQL: a cursor of psycopg's own on Django's connection, for values bound on the
    server, with Django's care kept: the connection opened (or the broken transaction
    refused) as Django's cursor would, and a driver error raised as Django's, which also
    tells Django to check the connection before the next request reuses it. (Opening
    Django's cursor only for that cost a cursor per delivery.)"""
    from psycopg import Cursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, Cursor(connection.connection) as raw:
        yield raw


# Per thread: what :func:`insert_one` left to do inside :func:`pipelined` blocks (the
# primary keys to read back once the block's answers are in).
_PIPELINES = threading.local()


@contextlib.contextmanager
def pipelined(using: str = "default", *, commit: bool = False):
    """PostgreSQL: the statements inside sent without waiting for each one's answer until
    one is needed (a row read back), then all answered in one round trip (libpq's pipeline
    mode); elsewhere, as usual.

    For a short transaction of several statements on a path timed against NetSuite's own
    speed. The server still runs them one after the other, each on its own snapshot, so a
    read placed after a lock sees what the lock's holder committed. Statements nobody reads
    back go with the next read or with the block's end, which sends a Sync and waits for it
    (one round trip); :func:`insert_one` inside sets the primary key then, not before. Use it
    inside the transaction (``transaction.atomic``), not around it: a pipeline around it would
    sync again for each change of autocommit, and psycopg syncs once after the BEGIN anyway.

    ``commit``: when the block is the whole body of the outermost ``transaction.atomic``
    (``with transaction.atomic(), pipelined(commit=True):``) and ends without an error, its
    COMMIT goes with the last statements, and the atomic block finds nothing left to commit:
    the closing round trip of its own saved. Inside an outer transaction (a test case's, a
    caller's) it commits nothing: the outer transaction does. An error of one statement is
    raised at the next answer read or on leaving, and the transaction then rolls back as any
    other would (a COMMIT sent after it is not run). Not for the ORM's updates and deletes,
    which check at once how many rows they changed: inside, that count is not known yet.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    from psycopg import Pipeline

    connection.ensure_connection()
    if not Pipeline.is_supported() or getattr(_PIPELINES, using, None) is not None:
        # libpq older than 14, or already in a pipeline (whose end reads back)
        yield
        return
    pending: list = []
    setattr(_PIPELINES, using, pending)
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            yield
            if commit and _outermost_block(connection):
                with connection.cursor() as cursor:
                    cursor.execute("COMMIT")
        with connection.wrap_database_errors:
            for read_back in pending:
                read_back()
    finally:
        delattr(_PIPELINES, using)


def _outermost_block(connection) -> bool:
    blocks = connection.atomic_blocks
    return (
        len(blocks) == 1
        and not connection.needs_rollback
        and not getattr(blocks[0], "_from_testcase", False)
    )


@functools.lru_cache(maxsize=128)
def _unnest_statement(
    alias: str,
    model: type[models.Model],
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
) -> str:
    """PostgreSQL: every row in one array per column, whatever their number (a short
    statement, parsed once; a statement with a placeholder per value is parsed again by
    psycopg and by the server for every page)."""
    connection = connections[alias]
    fields = [model._meta.get_field(name) for name in names]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    single = _statement(alias, model, names, 1, conflict, update)
    head, _values, tail = single.partition(" VALUES ")
    # The row placeholders replaced by the arrays, unnested into rows of the same columns.
    return f"{head} SELECT * FROM unnest({arrays}) {tail[tail.index(' ON CONFLICT') + 1 :]}"  # noqa: S608


def upsert_changed(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    changed: str,
) -> tuple[int, int] | None:
    """PostgreSQL: :func:`insert_rows` with ``update`` written only where the column
    ``changed`` (a digest of the rest) differs, in one statement: (rows inserted, rows
    updated). ``None`` on another database, where the caller compares first.

    The comparison happens in the database as part of the upsert, so a page costs one
    statement and one round trip instead of a SELECT of the stored digests (a thousand
    parameters bound on the client) before it; an unchanged row is neither written nor
    returned, and ``xmax = 0`` tells an inserted row from an updated one.
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    prepared = _prepared(connection, model, names, rows)
    if not prepared:
        return 0, 0
    shape = (alias, model, tuple(names), tuple(conflict), tuple(update))
    sql = _upsert_changed_statement(*shape, changed)
    columns = [list(column) for column in zip(*prepared, strict=True)]
    with _raw_cursor(connection) as raw:
        raw.execute(sql, columns)
        inserted = [row[0] for row in raw.fetchall()]
    return sum(inserted), len(inserted) - sum(inserted)


@functools.lru_cache(maxsize=32)
def _upsert_changed_statement(
    alias: str,
    model: type[models.Model],
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    changed: str,
) -> str:
    ops = connections[alias].ops
    meta = model._meta
    table = ops.quote_name(meta.db_table)
    column = ops.quote_name(meta.get_field(changed).column)
    base = _unnest_statement(alias, model, names, conflict, update).replace("%s", "%b")
    # Only quoted names are formatted in; the values are the arrays' parameters.
    return (
        f"{base} WHERE {table}.{column} IS DISTINCT FROM excluded.{column}"
        " RETURNING (xmax = 0)"
    )


@functools.lru_cache(maxsize=32)
def _insert_one_statement(alias: str, model: type[models.Model]) -> tuple[str, tuple]:
    ops = connections[alias].ops
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table, pk = ops.quote_name(meta.db_table), ops.quote_name(meta.pk.column)
    # Only quoted names are formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {pk}"  # noqa: S608
    return sql, fields


def insert_one(instance: models.Model) -> None:
    """``instance.save(force_insert=True)`` for a new row of a model with a database-made
    primary key and no parent model, its INSERT built once per model (the ORM compiles it on
    every save, which costs more than the insert on paths timed against NetSuite's own speed:
    a connection test, the audit event of every change). Each field prepares its value as
    for a save (``pre_save``: auto_now_add included); sets the primary key. No ``pre_save``
    or ``post_save`` signal is sent, nor the model's own ``save()``: for models without
    either."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    sql, fields = _insert_one_statement(alias, model)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    instance._state.adding = False
    instance._state.db = alias
    pending = getattr(_PIPELINES, alias, None)
    if pending is None:
        with bound_cursor(connection) as cursor:
            cursor.execute(sql, values)
            instance.pk = cursor.fetchone()[0]
        return
    # In a pipeline: sent now, its id read back with the block's last answers (reading it
    # here would cost a round trip of its own).
    cursor = bound_cursor(connection)
    cursor.execute(sql, values)

    def read_back() -> None:
        with cursor:
            instance.pk = cursor.fetchone()[0]

    pending.append(read_back)
