"""Real processes (gunicorn, ``manage.py`` commands, the simulator) against this test run's
database; a plain module, not a test module.

A process started here runs in a process group of its own and writes its stderr to a file,
so :meth:`ProcessGroup.stop` ends it with every child it forked (gunicorn's workers) and a
failure can show what it said; a pipe nobody reads would block a chatty process instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
TRUTHY = ("1", "true", "yes")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in TRUTHY


def database_url() -> str:
    """The URL of the test database this process uses, for other processes to open."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def django_env(**overrides: str) -> dict[str, str]:
    """The environment of a dashboard process on this run's test database: the test run's
    settings (``DJANGO_TESTING``, so the same built-in secrets decrypt the same keys), never
    the development ``.env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="ipaas_admin.settings",
        DJANGO_TESTING="1",
        DJANGO_READ_DOT_ENV="0",
        DATABASE_URL=database_url(),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def db_worker(name: str) -> list[str]:
    """``manage.py db_worker`` polling often, without the reloader or start-up delay."""
    return manage(
        "db_worker",
        "--no-startup-delay",
        "--no-reload",
        "--interval",
        "0.1",
        "--worker-id",
        name,
        "--verbosity",
        "0",
    )


class ProcessGroup:
    """Processes started together and stopped together, each with its stderr in ``logs``."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict, **popen) -> subprocess.Popen:
        popen.setdefault("stdout", subprocess.DEVNULL)
        with open(self.logs / f"{name}.log", "wb") as err:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stderr=err, start_new_session=True, **popen
            )
        self.started[name] = process
        return process

    def said(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def check_running(self) -> None:
        """Raise if a process ended on its own: whatever waits on it would wait for nothing."""
        for name, process in self.started.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"{name} exited with status {process.returncode}; it said:\n{self.said(name)}"
                )

    def wait_for(self, condition, seconds: float, what: str):
        """Poll ``condition`` until it returns something true; fail with every log tail."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            self.check_running()
            time.sleep(0.1)
        tails = "\n".join(f"--- {n}:\n{self.said(n, 1500)}" for n in self.started)
        raise AssertionError(f"gave up waiting for {what} after {seconds} s.\n{tails}")

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to every group, then SIGKILL to any still there after ``timeout``."""
        for process in self.started.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.started.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # The leader may be gone while a forked child still runs: the group is killed.
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
