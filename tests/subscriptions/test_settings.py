"""Settings read from the environment: production fails fast and passes check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_ENCRYPTION", "DATABASE_URL"))
    }
    # The .env that `make run` writes must not hand these checks the secrets they test for.
    env["DJANGO_READ_DOT_ENV"] = "false"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**extra):
    env = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "k" * 10 + Fernet.generate_key().decode() + "z" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "admin.example.com",
    }
    env.update(extra)
    return env


def test_production_refuses_to_start_without_its_secrets_and_names_them():
    result = run_manage("check", DJANGO_ENV="production")
    assert result.returncode != 0
    for name in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DJANGO_ALLOWED_HOSTS"):
        assert name in result.stderr


def test_production_missing_only_one_variable_names_just_that_one():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
    assert "DJANGO_SECRET_KEY" not in result.stderr.split("needs these")[-1]


def test_production_passes_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_default_runs_on_sqlite_in_the_project_folder():
    from django.conf import settings

    if os.environ.get("DATABASE_URL"):
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    else:
        assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_production_refuses_debug():
    result = run_manage("check", **production_env(DJANGO_DEBUG="true"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off" in result.stderr


def test_production_refuses_a_wildcard_host():
    result = run_manage("check", **production_env(DJANGO_ALLOWED_HOSTS="*"))
    assert result.returncode != 0
    assert "not '*'" in result.stderr


def test_production_refuses_simulator_mode_and_a_plain_http_base_url():
    result = run_manage(
        "check",
        **production_env(NETSUITE_SIMULATOR="1", NETSUITE_BASE_URL="https://sim.example.com"),
    )
    assert result.returncode != 0
    assert "NETSUITE_SIMULATOR must be off" in result.stderr
    result = run_manage("check", **production_env(NETSUITE_BASE_URL="http://proxy.example.com"))
    assert result.returncode != 0
    assert "NETSUITE_BASE_URL must be an https:// address" in result.stderr
    ok = run_manage("check", **production_env(NETSUITE_BASE_URL="https://proxy.example.com"))
    assert ok.returncode == 0, ok.stderr


def test_simulator_mode_needs_the_simulators_address():
    result = run_manage("check", NETSUITE_SIMULATOR="1")
    assert result.returncode != 0
    assert "NETSUITE_SIMULATOR is set but NETSUITE_BASE_URL is not" in result.stderr
