"""/metrics sums every process: two ``manage.py test_connection`` processes mint a token each
and exit, gunicorn's two workers answer requests, and one scrape of gunicorn shows the sums
(prometheus_client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``) on the test database."""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import ROOT, ProcessGroup, django_env, free_port, manage

GUNICORN = Path(sys.executable).with_name("gunicorn")
TOKEN = "metrics-token-for-the-process-test-" + "p" * 16
FAVICONS = 12


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def answers(port: int) -> bool:
    try:
        return get(port, "/metrics")[0] == 403  # up, and refusing a scrape without the token
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_one_scrape_sums_every_process(netsuite_sim, tmp_path):
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn at {GUNICORN} (make install)")
    subscription = netsuite_sim.subscription("Many Processes Co")
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = django_env(
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        METRICS_TOKEN=TOKEN,
        NETSUITE_BASE_URL=netsuite_sim.base_url,
        NETSUITE_SIMULATOR="1",
    )
    for _ in range(2):
        done = subprocess.run(
            manage("test_connection", subscription.name),
            cwd=ROOT, env=env, capture_output=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    group = ProcessGroup(tmp_path / "logs")
    port = free_port()
    try:
        group.start(
            "gunicorn",
            [
                str(GUNICORN), "-c", "python:ipaas_admin.gunicorn_conf", "ipaas_admin.wsgi",
                "-b", f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning",
            ],
            env,
        )
        group.wait_for(lambda: answers(port), 60, "gunicorn")
        for _ in range(FAVICONS):
            assert get(port, "/favicon.ico")[0] == 302
        status, text = get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    finally:
        group.stop()
    assert status == 200, text[:500]
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    # Each command minted one token and exited: their files are summed.
    sub = (("subscription", str(subscription.pk)),)
    assert found[("ipaas_netsuite_tokens_minted_total", sub)] == 2
    favicons = (
        "ipaas_http_requests_total", (("method", "GET"), ("status", "302"), ("view", "favicon"))
    )
    assert found[favicons] == FAVICONS
    # The scrape-time state is there once, not once per process.
    assert found[("ipaas_connection_test_passing", sub)] == 1
    # Every process wrote its own files: both commands, and gunicorn's worker(s).
    pids = {path.stem.rsplit("_", 1)[-1] for path in directory.glob("*.db")}
    assert len(pids) >= 3
