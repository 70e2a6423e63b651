"""The WHERE clause the simulator's SuiteQL understands, and nothing more.

``<column> <op> <value> [AND ...]`` where a value is a quoted string, a whole number or
``TO_TIMESTAMP_TZ('<YYYY-MM-DD HH24:MI:SS TZH:TZM>', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')``, the
form the dashboard's inventory polling sends. ``TO_TIMESTAMP('…', 'YYYY-MM-DD HH24:MI:SS')``
and ``TO_DATE('…', 'YYYY-MM-DD[ HH24:MI:SS]')`` carry no offset: they are read in the
account's time zone (``zone``), which is what makes a client that assumes UTC miss rows in an
account elsewhere; date columns are answered in the account's display format
(:func:`display_date`), never ISO. Anything else is refused with NetSuite's 400,
so a client that sends what real NetSuite would reject (a bare date string, an unknown
format, OR) finds out here instead of in production. Comparisons follow SQL: a null never
matches, a checkbox compares as "T"/"F", and a date column compares only with a timestamp.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS TZH:TZM"
# The simulator's datetime columns. A text literal against one would be converted with the
# session's date format (the user's preference, not ISO), so it is refused as Oracle refuses a
# literal that does not match it; a timestamp against any other column is a type error.
DATE_COLUMNS = frozenset({"lastmodifieddate", "datecreated", "lastquantityavailablechange"})
# Literals without an offset, and the formats the simulator reads them with.
LOCAL_FORMATS = {
    ("to_timestamp", "YYYY-MM-DD HH24:MI:SS"): "%Y-%m-%d %H:%M:%S",
    ("to_date", "YYYY-MM-DD HH24:MI:SS"): "%Y-%m-%d %H:%M:%S",
    ("to_date", "YYYY-MM-DD"): "%Y-%m-%d",
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_CONDITION = re.compile(
    r"\s*(?P<column>[a-z_][a-z0-9_]*)\s*(?P<op>>=|<=|<>|!=|=|<|>)\s*"
    r"(?:'(?P<text>(?:[^']|'')*)'|(?P<number>-?\d+)"
    r"|(?P<function>to_timestamp_tz|to_timestamp|to_date)"
    r"\(\s*'(?P<moment>[^']*)'\s*,\s*'(?P<format>[^']*)'\s*\))\s*",
    re.IGNORECASE,
)
_AND = re.compile(r"and\b", re.IGNORECASE)


class QueryRefused(ValueError):
    """The query is not one NetSuite would run; ``str()`` is NetSuite's detail text."""


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any

    def matches(self, row_value: Any) -> bool:
        if row_value is None or row_value == "":
            return False
        if isinstance(self.value, dt.datetime):
            moment = _moment(row_value)
            return moment is not None and _OPS[self.op](moment, self.value)
        if isinstance(row_value, bool):
            row_value = "T" if row_value else "F"
        if isinstance(self.value, int):
            try:
                return _OPS[self.op](int(str(row_value)), self.value)
            except ValueError:
                return False
        return _OPS[self.op](str(row_value), self.value)


def _moment(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _refused(detail: str) -> QueryRefused:
    return QueryRefused(f"Invalid search query. Search error occurred: {detail}")


def display_date(value: Any, zone: dt.tzinfo) -> Any:
    """A stored moment (ISO 8601) as SuiteQL answers a plain date column: in the account's
    time zone and display format ("12/6/2026 7:00 am"), with no zone said."""
    moment = _moment(value)
    if moment is None:
        return value
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d} {half}"


def parse_where(
    text: str, table: str, known: set[str], zone: dt.tzinfo = dt.UTC
) -> list[Condition]:
    """The conditions of a WHERE clause (without the keyword), checked against ``known``
    columns of ``table``, a literal without an offset read in ``zone``; raises
    :class:`QueryRefused`."""
    conditions = []
    position = 0
    while True:
        match = _CONDITION.match(text, position)
        if match is None:
            raise _refused(
                "the simulator understands WHERE <column> <op> 'text' | number | "
                f"TO_TIMESTAMP_TZ('...', '{TIMESTAMP_FORMAT}') [AND ...]."
            )
        column = match["column"].lower()
        if column not in known:
            raise _refused(f"Field '{match['column']}' for record '{table}' was not found.")
        value = _value(match, zone)
        if column in DATE_COLUMNS and not isinstance(value, dt.datetime):
            raise _refused(
                f"ORA-01861: literal does not match format string ({match['column']} is a "
                "date: compare it with TO_TIMESTAMP_TZ)."
            )
        if column not in DATE_COLUMNS and isinstance(value, dt.datetime):
            raise _refused(f"ORA-00932: inconsistent datatypes: {match['column']} is not a date.")
        conditions.append(Condition(column, match["op"], value))
        position = match.end()
        if position == len(text):
            return conditions
        separator = _AND.match(text, position)
        if separator is None:
            raise _refused(f"unexpected text at “{text[position : position + 20]}”.")
        position = separator.end()


def _value(match: re.Match, zone: dt.tzinfo) -> Any:
    if match["text"] is not None:
        return match["text"].replace("''", "'")
    if match["number"] is not None:
        return int(match["number"])
    function = match["function"].lower()
    if function != "to_timestamp_tz":
        pattern = LOCAL_FORMATS.get((function, match["format"].strip().upper()))
        if pattern is None:
            raise _refused(
                f"ORA-01821: date format not recognized (the simulator knows "
                f"{', '.join(repr(f) for fn, f in LOCAL_FORMATS if fn == function)})."
            )
        try:
            return dt.datetime.strptime(match["moment"], pattern).replace(tzinfo=zone)
        except ValueError:
            raise _refused(
                f"ORA-01861: literal does not match format string: '{match['moment']}'."
            ) from None
    if match["format"].strip().upper() != TIMESTAMP_FORMAT:
        raise _refused(
            f"ORA-01821: date format not recognized (the simulator knows '{TIMESTAMP_FORMAT}')."
        )
    try:
        return dt.datetime.strptime(match["moment"], "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        raise _refused(
            f"ORA-01861: literal does not match format string: '{match['moment']}'."
        ) from None
