"""Hot queries compiled by the ORM once per database, then only run.

Django builds and compiles a queryset's SQL on every call; for a wide model and a subquery
that costs about twice the database's own answer (1.3 ms against 0.4 ms for the connection
test's read of its subscription, PostgreSQL on loopback). The few queries on paths timed
against NetSuite's own speed (a connection test at 0 ms latency) are written here as
querysets, as everywhere else, and compiled on first use: ``build(value)`` makes the queryset
for one varying value (an id), compiled with a stand-in no row has, which is then found among
the compiled parameters and replaced on each run. Values always stay parameters.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable

from django.db import connections, models
from django.db.models import sql

from .bulk_sql import bound_cursor

# An id no row has: the compiled parameters are searched for it, and exactly one must match.
_STAND_IN = -7_345_612_389

Build = Callable[[int], models.QuerySet]


@functools.lru_cache(maxsize=32)
def _compiled(
    alias: str, build: Build, delete: bool
) -> tuple[type[models.Model], str, tuple, int | None]:
    query = build(_STAND_IN).using(alias).query
    if delete:
        query = query.chain(sql.DeleteQuery)
    text, params = query.get_compiler(alias).as_sql()
    where = [i for i, param in enumerate(params) if param == _STAND_IN]
    if len(where) > 1:
        raise ValueError(f"{build.__qualname__} must use its value at most once in its query")
    return query.model, text, tuple(params), where[0] if where else None


def _bound(
    alias: str, build: Build, value: int | None, delete: bool = False
) -> tuple[type[models.Model], str, list]:
    model, text, params, at = _compiled(alias, build, delete)
    if (at is None) != (value is None):
        raise ValueError(f"{build.__qualname__} and its value do not match")
    bound = list(params)
    if at is not None:
        bound[at] = value
    return model, text, bound


# Per connection (Django keeps one per alias and thread; converters may be its methods):
# what turning a model query's rows into instances needs, as the ORM does it.
_MODEL_QUERIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _model_query(alias: str, build: Build):
    connection = connections[alias]
    kept = _MODEL_QUERIES.setdefault(connection, {})
    found = kept.get(build)
    if found is None:
        _model, text, params, at = _compiled(alias, build, False)
        compiler = build(_STAND_IN).using(alias).query.get_compiler(alias)
        compiler.as_sql()  # sets up what turning rows into instances reads
        info = compiler.klass_info
        if info is None or info.get("related_klass_infos"):
            raise ValueError(f"{build.__qualname__} must select one model, without relations")
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in compiler.select[start:end]]
        columns = [column[0] for column in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise ValueError(f"{build.__qualname__} must not select a composite key")
        # What the compiler's results_iter would work out again for every row.
        converters = list(compiler.get_converters(columns).items())
        found = kept[build] = (
            info["model"],
            start,
            end,
            names,
            converters,
            compiler.annotation_col_map,
        )
    return found


def instance(build: Build, value: int, *, alias: str = "default") -> models.Model:
    """The one row ``build(value)`` selects, as the model (deferred fields stay deferred,
    annotations become attributes); the model's ``DoesNotExist`` when there is none.

    Made as the ORM makes it (the compiler's converters, then ``from_db``), with the
    columns and converters worked out once per connection: a raw query set worked them out
    again on every call, which cost about as much as the query's own answer."""
    _model, text, params = _bound(alias, build, value)
    model, start, end, names, converters, annotations = _model_query(alias, build)
    connection = connections[alias]
    with bound_cursor(connection) as cursor:
        cursor.execute(text, params)
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"No {model._meta.verbose_name} matches {value}.")
    row = list(row)
    for position, (functions, expression) in converters:
        converted = row[position]
        for convert in functions:
            converted = convert(converted, expression, connection)
        row[position] = converted
    found = model.from_db(alias, names, row[start:end])
    for name, position in annotations.items():
        setattr(found, name, row[position])
    return found


def first_value(build: Build, value: int | None = None, *, alias: str = "default"):
    """The first column of the first row ``build(value)`` selects (a ``values_list`` of one
    column, say), as the database driver gives it; None when there is no row. A build that
    ignores its value is run with ``value=None``."""
    _model, text, params = _bound(alias, build, value)
    with bound_cursor(connections[alias]) as cursor:
        cursor.execute(text, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def delete(build: Build, value: int, *, alias: str = "default") -> int:
    """Delete the rows ``build(value)`` selects, in one statement and without the ORM's
    collector (no signals, no cascades: for models nothing refers to); how many went."""
    _model, text, params = _bound(alias, build, value, delete=True)
    with bound_cursor(connections[alias]) as cursor:
        cursor.execute(text, params)
        return cursor.rowcount
