"""The .env `make run` writes: manage.py commands beside it reach its simulator; the test run
never reads it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

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
