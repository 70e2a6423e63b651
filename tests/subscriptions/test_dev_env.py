"""The .env `make run` writes: manage.py commands beside it reach its simulator; the test run
never reads it. And `make run` itself (scripts/run_dev.py), in a copy of the checkout: its
simulator, worker and scheduler, reached from a second terminal."""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import ProcessGroup, free_port
from tests.subscriptions.test_settings import own_secrets

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "from django.conf import settings; "
    "print(settings.NETSUITE_BASE_URL, settings.NETSUITE_SIMULATOR, settings.SECRET_KEY[:9])"
)


def run_dev_module(root: Path):
    spec = importlib.util.spec_from_file_location("run_dev", ROOT / "scripts" / "run_dev.py")
    run_dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_dev)
    run_dev.ROOT = root
    return run_dev


def shell(dot_env: Path, **extra) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_ENCRYPTION", "AUDIT_CHAIN", "NETSUITE_"))
    }
    env.update(DJANGO_DOT_ENV=str(dot_env), **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_run_env(tmp_path) -> Path:
    run_dev = run_dev_module(tmp_path)
    run_dev.ensure_env_file()
    run_dev.record_simulator("http://127.0.0.1:8799")
    run_dev.record_simulator("http://127.0.0.1:8765")  # a later start on another port
    return tmp_path / ".env"


def test_make_run_records_the_simulator_in_the_env_file_it_writes(tmp_path):
    dot_env = make_run_env(tmp_path)
    lines = dot_env.read_text().splitlines()
    assert [line for line in lines if line.startswith("NETSUITE_")] == [
        "NETSUITE_BASE_URL=http://127.0.0.1:8765",
        "NETSUITE_SIMULATOR=1",
    ]
    assert {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS"} <= {
        line.split("=", 1)[0] for line in lines if "=" in line
    }


def test_a_manage_py_command_beside_make_run_reads_the_simulator_address(tmp_path):
    result = shell(make_run_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["http://127.0.0.1:8765", "True"]


def test_the_test_run_never_reads_that_env_file(tmp_path):
    dot_env = make_run_env(tmp_path)
    result = shell(dot_env, DJANGO_TESTING="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "False", "test-only"]


def test_an_explicit_variable_still_wins_over_the_file(tmp_path):
    result = shell(
        make_run_env(tmp_path),
        NETSUITE_BASE_URL="https://proxy.example.com",
        NETSUITE_SIMULATOR="0",
        **own_secrets(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["https://proxy.example.com", "False"]


# --- `make run` itself ------------------------------------------------------------------------

# What a checkout needs to run: run_dev.py finds manage.py, the .env and db.sqlite3 beside it.
CHECKOUT = ("manage.py", "ipaas_admin", "subscriptions", "netsuite", "templates", "static")
# A newcomer's shell: nothing of this test run's settings, database or secrets.
SHELL_VARS = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR")


def checkout_copy(tmp_path: Path) -> Path:
    """The project's code copied into ``tmp_path``: `make run` writes its .env and SQLite
    database there, never into this checkout."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CHECKOUT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=skip)
        else:
            shutil.copy2(source, root / name)
    shutil.copy2(ROOT / "scripts" / "run_dev.py", root / "scripts" / "run_dev.py")
    return root


def newcomer_env(**extra) -> dict[str, str]:
    env = {name: os.environ[name] for name in SHELL_VARS if name in os.environ}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def group_members(pgid: int) -> dict[int, str]:
    """The live processes of a process group: pid -> command line."""
    members = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z":  # exited, not yet reaped
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        members[int(entry.name)] = cmdline
    return members


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback only)
            return True
    except urllib.error.HTTPError:
        return True  # a page that answers at all: the login redirect, a 403
    except OSError:
        return False


def test_make_run_serves_the_simulator_a_second_terminal_reaches_and_runs_jobs(tmp_path):
    """scripts/run_dev.py in a fresh checkout on free ports: the dashboard answers, the
    scheduler ticks, and from a second terminal (its own process, reading only the .env
    `make run` wrote) ``test_connection`` passes against the simulator `make run` started and
    ``initialize_data --wait`` is run by `make run`'s worker. SIGTERM then stops it all."""
    root = checkout_copy(tmp_path)
    web, sim = free_port(), free_port()
    group = ProcessGroup(tmp_path / "logs")
    out = tmp_path / "run_dev.out"
    with open(out, "wb") as stdout:
        run = group.start(
            # run_dev.py runs everything in the folder it sits in, whatever the caller's.
            "run_dev", [sys.executable, str(root / "scripts" / "run_dev.py")],
            newcomer_env(PORT=str(web), SIM_PORT=str(sim)), stdout=stdout,
        )
    try:
        group.wait_for(lambda: answers(f"http://127.0.0.1:{web}/login/"), 120, "the dashboard")
        group.wait_for(lambda: "inventory poll(s) queued" in out.read_text(), 30,
                       "the scheduler's first tick")
        assert f"NETSUITE_BASE_URL=http://127.0.0.1:{sim}\n" in (root / ".env").read_text()
        commands = " | ".join(group_members(run.pid).values())
        for part in ("netsuite.simulator", "runserver", "db_worker", "run_scheduler"):
            assert part in commands, commands

        def second_terminal(*args):
            return subprocess.run(
                [sys.executable, "manage.py", *args], cwd=root, env=newcomer_env(),
                capture_output=True, text=True, timeout=60,
            )

        tested = second_terminal("test_connection", "Demo (simulator)")
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert f"against http://127.0.0.1:{sim}" in tested.stdout
        assert "Connection test passed" in tested.stdout
        initialized = second_terminal("initialize_data", "Demo (simulator)", "--type",
                                      "location", "--wait")
        assert initialized.returncode == 0, initialized.stdout + initialized.stderr
        assert "Location: 12 read" in initialized.stdout, initialized.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{sim}/_sim/stats", timeout=5) as r:  # noqa: S310
            stats = json.load(r)
        assert stats["calls"]["suiteql"] >= 1  # the job read from this simulator

        # SIGTERM to run_dev.py alone (a supervisor's stop) ends every process it started.
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0, group.said("run_dev")
        deadline = time.monotonic() + 20
        while (left := group_members(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running after run_dev.py ended: {left}"
    finally:
        group.stop()
