"""The WHERE clause the simulator's SuiteQL understands, and nothing more.

``<column> <op> <value> [AND ...]`` where a value is a quoted string, a whole number or
``TO_TIMESTAMP_TZ('<YYYY-MM-DD HH24:MI:SS TZH:TZM>', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')``, the
form the dashboard's inventory polling sends. Anything else is refused with NetSuite's 400,
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
DATE_COLUMNS = frozenset({"lastmodifieddate", "datecreated"})
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
    r"|to_timestamp_tz\(\s*'(?P<moment>[^']*)'\s*,\s*'(?P<format>[^']*)'\s*\))\s*",
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


def parse_where(text: str, table: str, known: set[str]) -> list[Condition]:
    """The conditions of a WHERE clause (without the keyword), checked against ``known``
    columns of ``table``; raises :class:`QueryRefused`."""
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
        value = _value(match)
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


def _value(match: re.Match) -> Any:
    if match["text"] is not None:
        return match["text"].replace("''", "'")
    if match["number"] is not None:
        return int(match["number"])
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
