"""`make run`: migrate, make a first admin, start the NetSuite simulator, serve the dashboard
with one job worker and the scheduler beside it.

Everything a newcomer needs to try every feature within a minute, with nothing to configure.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def fresh_secrets() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_CHAIN_KEYS": secrets.token_urlsafe(32),
    }


def ensure_env_file():
    # Fresh random secrets for this checkout, kept out of git (.gitignore has .env); the
    # settings refuse to start without them. A .env from an older checkout gets only the
    # ones it lacks: replacing a key would make its encrypted values and hashes unreadable.
    env_file = ROOT / ".env"
    existing = env_file.read_text() if env_file.exists() else ""
    present = {line.split("=", 1)[0].strip() for line in existing.splitlines() if "=" in line}
    missing = {name: value for name, value in fresh_secrets().items() if name not in present}
    if not missing:
        return
    header = "" if existing else "# Written by `make run` for local development only.\n"
    if existing and not existing.endswith("\n"):
        existing += "\n"
    env_file.write_text(
        existing + header + "".join(f"{name}={value}\n" for name, value in missing.items())
    )
    env_file.chmod(0o600)


SIMULATOR_MARK = "# The NetSuite simulator `make run` starts (manage.py commands beside it use it):"
SIMULATOR_VARS = ("NETSUITE_BASE_URL", "NETSUITE_SIMULATOR")


def record_simulator(base_url: str) -> None:
    """Write the simulator's address into .env, so that `manage.py test_connection ...` from
    another terminal talks to the simulator this `make run` serves. Replaced at every start
    (the port may change); the secrets in the file are left as they are."""
    env_file = ROOT / ".env"
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    kept = [
        line
        for line in lines
        if line != SIMULATOR_MARK and line.split("=", 1)[0].strip() not in SIMULATOR_VARS
    ]
    kept += [SIMULATOR_MARK, f"NETSUITE_BASE_URL={base_url}", "NETSUITE_SIMULATOR=1"]
    env_file.write_text("\n".join(kept) + "\n")
    env_file.chmod(0o600)


def prepare_metrics(env: dict) -> None:
    """/metrics sums the server's, the worker's and the scheduler's values from one directory
    (docs/metrics.md), emptied here so the last run's counters do not carry on; only this
    machine may read it without a token."""
    directory = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or ROOT / "var" / "prometheus")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # the client's files only, whatever else is there
        stale.unlink()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    env.setdefault("METRICS_ALLOWED_ADDRESSES", "127.0.0.1/32,::1/128")


def manage(*args, env):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_for(url, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback only)
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main():
    port = os.environ.get("PORT", "8000")
    sim_port = os.environ.get("SIM_PORT", "8765")
    ensure_env_file()
    env = dict(os.environ)
    children = []
    prepare_metrics(env)

    manage("migrate", "--verbosity", "0", env=env)
    manage("ensure_admin", env=env)

    if env.get("NETSUITE_BASE_URL"):
        # An address of one's own: the simulator flag in .env (from an earlier run) must not
        # apply to it.
        env.setdefault("NETSUITE_SIMULATOR", "0")
    else:
        simulator = subprocess.Popen(
            [PY, "-m", "netsuite.simulator", "--host", "127.0.0.1", "--port", sim_port],
            cwd=ROOT,
        )
        children.append(simulator)
        env["NETSUITE_BASE_URL"] = f"http://127.0.0.1:{sim_port}"
        env["NETSUITE_SIMULATOR"] = "1"
        if not wait_for(f"{env['NETSUITE_BASE_URL']}/_sim/stats"):
            print(f"The NetSuite simulator did not start on port {sim_port}; is it in use? "
                  "Try: make run SIM_PORT=8766", file=sys.stderr)
            simulator.terminate()
            sys.exit(1)
        print(f"NetSuite simulator: {env['NETSUITE_BASE_URL']}")
        record_simulator(env["NETSUITE_BASE_URL"])
        manage("demo_setup", env=env)

    print(f"\nDashboard: http://127.0.0.1:{port}/  (Ctrl-C stops it, the simulator, the worker "
          "and the scheduler)\n")
    server = subprocess.Popen(
        [PY, "manage.py", "runserver", f"127.0.0.1:{port}"], cwd=ROOT, env=env
    )
    children.append(server)
    # One worker for the jobs (initialization); it also resumes jobs whose worker died.
    worker = subprocess.Popen(
        [PY, "manage.py", "db_worker", "--no-reload"], cwd=ROOT, env=env
    )
    children.append(worker)
    # The scheduler: queues due inventory polls, recovers stale jobs, runs monitoring.
    scheduler = subprocess.Popen([PY, "manage.py", "run_scheduler"], cwd=ROOT, env=env)
    children.append(scheduler)

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
