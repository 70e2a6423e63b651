"""How a benchmark reports its figures, so that `make bench` can gather them in RESULTS.md.

A bench states each goal once, next to the code that measures it, with the reason it is
missed when it is (kept there so it stays true as the code changes):

    from results import Goal, info, report

    PAGE_TIME = Goal.at_most(100, "<= 100 ms median", why_missed="rendering, not SQL")

    report(
        [PAGE_TIME.figure("audit list, first page", 12.3, "ms", note="max 15 ms"),
         info("rows exported", 1_000_001)],
        context="sqlite, 20 requests per page",
    )

``report`` prints the figures as a markdown table (a bench run by hand shows them too) and,
when run_all.py set ``BENCH_RESULTS_FILE``, appends them there as JSON lines. A figure with no
goal (``info(...)``) is for information: ``met`` is ``None``. Call ``report`` once, at the
end; the exit status still says whether the bench itself worked.

A bench may also define, at module level, the arguments of `make bench QUICK=1`:

    QUICK_ARGS = ["--records", "2000"]

(a literal list: run_all.py reads it from the source without importing the bench).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_FILE_VARIABLE = "BENCH_RESULTS_FILE"


@dataclass(frozen=True)
class Result:
    """One figure: what was measured, against which goal, and whether it was met."""

    name: str
    value: float | int | str
    unit: str = ""
    goal: str = ""
    met: bool | None = None
    note: str = ""

    def verdict(self) -> str:
        if self.met is None:
            return "-"
        return "met" if self.met else "missed"


@dataclass(frozen=True)
class Goal:
    text: str
    check: Callable[[float], bool]
    why_missed: str = ""
    # How far off a missed value is, in words ("by 12 %"); empty when it cannot be said.
    shortfall: Callable[[float], str] = lambda value: ""

    @classmethod
    def at_most(cls, limit: float, text: str, why_missed: str = "") -> Goal:
        return cls(
            text,
            lambda value: value <= limit,
            why_missed,
            lambda value: _over(value, limit),
        )

    @classmethod
    def at_least(cls, limit: float, text: str, why_missed: str = "") -> Goal:
        return cls(
            text,
            lambda value: value >= limit,
            why_missed,
            lambda value: f"by {_percent(1 - value / limit)}" if limit else "",
        )

    def figure(self, name: str, value: float, unit: str = "", note: str = "") -> Result:
        measured = not (isinstance(value, float) and math.isnan(value))
        met = measured and bool(self.check(value))
        if not met:
            shortfall = self.shortfall(value) if measured else "not measured"
            missed = ": ".join(part for part in (shortfall, self.why_missed) if part)
            note = "; ".join(part for part in (missed, note) if part)
        return Result(name, value, unit, self.text, met, note)


def _over(value: float, limit: float) -> str:
    if not limit:
        return f"by {value:g}"
    ratio = value / limit
    return f"{ratio:.1f}x the limit" if ratio >= 2 else f"by {_percent(ratio - 1)}"


def _percent(share: float) -> str:
    """A shortfall as a percentage, never "0%" for one that is there (1.103 against 1.1)."""
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


def info(name: str, value: float | int | str, unit: str = "", note: str = "") -> Result:
    """A figure worth reading that has no goal of its own."""
    return Result(name, value, unit, note=note)


def format_value(value: float | int | str) -> str:
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def table(results: list[Result]) -> str:
    lines = ["| figure | value | goal | verdict | note |", "| --- | ---: | --- | --- | --- |"]
    for result in results:
        value = f"{format_value(result.value)} {result.unit}".strip()
        note = result.note.replace("|", "\\|")
        lines.append(
            f"| {result.name} | {value} | {result.goal or '-'} | {result.verdict()} | {note} |"
        )
    return "\n".join(lines)


def report(results: list[Result], context: str = "", bench: str | None = None) -> None:
    """Print the figures and hand them to run_all.py (see the module's docstring).

    ``context`` is one line on what the figures were measured against (database, workers,
    sizes): it goes above the bench's table in RESULTS.md.
    """
    bench = bench or Path(sys.argv[0]).stem
    print(f"\nFigures{f' ({context})' if context else ''}:\n")
    print(table(results), flush=True)
    target = os.environ.get(RESULTS_FILE_VARIABLE)
    if not target:
        return
    with open(target, "a", encoding="utf-8") as out:
        for result in results:
            row = asdict(result) | {"bench": bench, "context": context}
            out.write(json.dumps(row, default=str) + "\n")
