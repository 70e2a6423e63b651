"""`make bench`'s runner: every bench's figures in RESULTS.md, whether it reports through
benchmarks/results.py or only prints, and the machine it ran on. Nothing here is timed."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import results  # noqa: E402
import run_all  # noqa: E402

REPORTING = f"""
import sys
sys.path.insert(0, {str(BENCHMARKS)!r})
from results import Goal, info, report

QUICK_ARGS = ["--small", 3]
FAST = Goal.at_most(10, "<= 10 ms", why_missed="the cache was cold")
print("argv", sys.argv[1:])
report(
    [
        FAST.figure("warm page", 4.0, "ms"),
        FAST.figure("cold page", 25.0, "ms", note="first request"),
        info("rows", 1234),
    ],
    context="a fake database",
)
"""
PRINTING = """
print("| plain | table |")
"""
FAILING = """
import sys
print("about to fail")
sys.exit(3)
"""


@pytest.fixture
def benches(tmp_path):
    folder = tmp_path / "benches"
    folder.mkdir()
    for name, source in (
        ("bench_reporting", REPORTING),
        ("bench_printing", PRINTING),
        ("bench_failing", FAILING),
    ):
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


def run(benches, tmp_path, *extra) -> tuple[int, str]:
    output = tmp_path / "RESULTS.md"
    code = run_all.main(["--benches", str(benches), "--output", str(output), *extra])
    return code, output.read_text()


def test_results_gather_figures_goals_output_and_the_machine(benches, tmp_path):
    code, text = run(benches, tmp_path)

    assert code == 1  # bench_failing
    for label in ("CPU", "memory", "OS", "Python", "database", "Redis", "run: full"):
        assert f"- {label}" in text
    assert "1 of 2 goals met." in text
    assert "## Runs" in text and "| bench_failing | **exit 3** |" in text
    assert "| bench_reporting | warm page | 4 ms | <= 10 ms | met |  |" in text
    assert (
        "| bench_reporting | cold page | 25.0 ms | <= 10 ms | **missed** "
        "| 2.5x the limit: the cache was cold; first request |"
    ) in text
    assert "| bench_reporting | rows | 1,234 | - | - |  |" in text
    assert "a fake database" in text
    # A bench that does not use results.py yet still shows what it printed.
    assert "Reporting no figures through results.py" in text
    assert "bench_printing" in text and "| plain | table |" in text
    assert "**exit 3**" in text and "about to fail" in text
    # Without --quick nobody gets QUICK_ARGS.
    assert "argv []" in text


def test_quick_passes_each_bench_its_own_quick_args(benches, tmp_path):
    code, text = run(benches, tmp_path, "--quick", "--only", "reporting", "bench_printing")

    assert code == 0
    assert "argv ['--small', '3']" in text
    assert "run: quick" in text
    assert "bench_failing" not in text


def test_an_unknown_bench_is_refused(benches, tmp_path, capsys):
    assert run_all.main(["--benches", str(benches), "--only", "nope"]) == 2
    assert "no such bench: bench_nope" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("goal", "value", "met", "note"),
    [
        (results.Goal.at_most(100, "<= 100"), 100, True, ""),
        (results.Goal.at_most(100, "<= 100", "slow disk"), 112, False, "by 12%: slow disk"),
        (results.Goal.at_most(0, "0", "lost"), 3, False, "by 3: lost"),
        (results.Goal.at_least(0.5, ">= 0.5x", "busy CPU"), 0.4, False, "by 20%: busy CPU"),
        (results.Goal.at_least(0.5, ">= 0.5x"), 0.5, True, ""),
        (results.Goal.at_most(1, "<= 1", "no data"), math.nan, False, "not measured: no data"),
    ],
)
def test_a_goal_says_whether_it_was_met_and_by_how_much_not(goal, value, met, note):
    figure = goal.figure("figure", value)

    assert (figure.met, figure.note) == (met, note)
