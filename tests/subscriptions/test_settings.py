"""Settings read from the environment: no secret comes from the source outside the test run;
production fails fast and passes check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_ENCRYPTION", "AUDIT_CHAIN", "DATABASE_URL"))
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


def own_secrets() -> dict:
    """What `make run` writes into .env, or an operator sets."""
    return {
        "DJANGO_SECRET_KEY": "k" * 10 + Fernet.generate_key().decode() + "z" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_CHAIN_KEYS": secrets.token_urlsafe(32),
    }


def production_env(**extra):
    env = {"DJANGO_ENV": "production", **own_secrets(), "DJANGO_ALLOWED_HOSTS": "admin.example.com"}
    env.update(extra)
    return env


def test_production_refuses_to_start_without_its_secrets_and_names_them():
    result = run_manage("check", DJANGO_ENV="production")
    assert result.returncode != 0
    for name in (
        "DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS", "DJANGO_ALLOWED_HOSTS"
    ):
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
    result = run_manage("check", NETSUITE_SIMULATOR="1", **own_secrets())
    assert result.returncode != 0
    assert "NETSUITE_SIMULATOR is set but NETSUITE_BASE_URL is not" in result.stderr


# Outside production: no secret from the source -------------------------------------------


def test_development_refuses_to_start_without_its_own_secrets_and_says_what_to_do():
    result = run_manage("check")
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    for name in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS"):
        assert name in message
    assert "make run" in message and ".env" in message


def test_development_missing_one_secret_names_just_that_one():
    env = own_secrets()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "FIELD_ENCRYPTION_KEYS" in message
    assert "DJANGO_SECRET_KEY" not in message and "AUDIT_CHAIN_KEYS" not in message


def test_development_starts_with_its_own_secrets():
    result = run_manage("check", **own_secrets())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_short_audit_chain_key_is_refused():
    result = run_manage("check", **{**own_secrets(), "AUDIT_CHAIN_KEYS": "short"})
    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEYS: each key needs at least 32 characters" in result.stderr


def test_make_run_writes_every_secret_the_settings_need_and_keeps_existing_ones(tmp_path):
    """`make run` (scripts/run_dev.py) writes .env, which settings.py reads for every
    manage.py command too; the values it writes must be all that a start needs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_dev", ROOT / "scripts" / "run_dev.py")
    run_dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_dev)
    run_dev.ROOT = tmp_path
    # An older .env (from before the chain was keyed) keeps its keys and gains the new one.
    (tmp_path / ".env").write_text("DJANGO_SECRET_KEY=kept-as-it-was\n")
    run_dev.ensure_env_file()
    written = dict(
        line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if "=" in line
    )
    assert written["DJANGO_SECRET_KEY"] == "kept-as-it-was"
    assert set(written) == {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS"}
    written["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    result = run_manage("check", **written)
    assert result.returncode == 0, result.stderr
    (tmp_path / ".env").unlink()
    run_dev.ensure_env_file()
    fresh = (tmp_path / ".env").read_text()
    assert "kept-as-it-was" not in fresh
    for name in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS"):
        assert f"\n{name}=" in fresh


def test_behind_the_proxy_axes_reads_the_forwarded_address_and_otherwise_only_remote_addr():
    show = (
        "from django.conf import settings; "
        "print(settings.AXES_IPWARE_META_PRECEDENCE_ORDER, settings.AXES_IPWARE_PROXY_COUNT)"
    )
    shell = ("shell", "--no-imports", "-c", show)
    behind = run_manage(*shell, DJANGO_BEHIND_PROXY="true", **own_secrets())
    assert behind.returncode == 0, behind.stderr
    assert behind.stdout.strip() == "('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR') 0"
    direct = run_manage(*shell, **own_secrets())
    assert direct.stdout.strip() == "('REMOTE_ADDR',) None"
