"""``LOG_FORMAT=json``: what a real gunicorn (with ``subscriptions.logs.GunicornLogger`` and
its access log) and a real ``db_worker`` write, logging at DEBUG with SQL and its parameters,
while a person logs in, runs a connection test and a certificate rotation through NetSuite,
NetSuite delivers an inbound event and a worker runs an initialization.

Every line must be one JSON object with the fields a log collector indexes, the lines of a
request must carry its request id (the access line the id the answer had), a subscription's
pages and the job's lines their ids; and no secret may be anywhere: no piece of a private key
(the subscription's, the rotated one), no Webhook API Key, no access token the simulator
issued. The formatter on its own is tested at the end.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from subscriptions.actors import COMMAND_LINE
from subscriptions.logs import JsonFormatter, redact_path
from subscriptions.middleware import RequestIdLogFilter, context_about
from subscriptions.models import Job, Subscription
from subscriptions.services.initialization import initialization_start
from tests import factories
from tests.processes import ProcessGroup, db_worker, django_env, free_port
from tests.property.strategies import secret_windows

GUNICORN = Path(sys.executable).with_name("gunicorn")
FIELDS = {"time", "level", "logger", "request_id", "subscription", "job", "message"}


def json_lines(text: str, where: str) -> list[dict]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"{where}, line {number} is not JSON: {line[:300]!r}") from None
        assert isinstance(entry, dict) and FIELDS <= set(entry), (where, line[:300])
        assert entry["time"].endswith("Z"), entry["time"]
        entries.append(entry)
    return entries


def log_in(server: str, user) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.get(f"{server}/login/", timeout=20).raise_for_status()
    answer = http.post(
        f"{server}/login/",
        data={
            "username": user.username,
            "password": factories.PASSWORD,
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code == 302, answer.text[:300]
    return http


@pytest.mark.django_db(transaction=True)
def test_json_logs_of_a_server_and_a_worker_are_json_and_hold_no_secret(
    netsuite_sim, admin_user, tmp_path
):
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not at {GUNICORN} (make install)")
    subscription = netsuite_sim.subscription("Logged Co")
    stored = Subscription.objects.get(pk=subscription.pk)
    webhook_key = stored.webhook_api_key
    env = django_env(
        NETSUITE_BASE_URL=netsuite_sim.base_url,
        NETSUITE_SIMULATOR="1",
        NETSUITE_TIMEOUT_READ="5",
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        # SQL is logged with its parameters, as under DEBUG: the values must be ciphertext.
        DJANGO_DEBUG="1",
    )
    group = ProcessGroup(tmp_path / "logs")
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    access = tmp_path / "access.log"
    worker_out = tmp_path / "worker.out"
    try:
        group.start(
            "gunicorn",
            [
                str(GUNICORN), "ipaas_admin.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
                "--threads", "4", "--worker-class", "gthread",
                "--logger-class", "subscriptions.logs.GunicornLogger",
                "--access-logfile", str(access), "--log-level", "debug",
            ],
            env,
        )

        def answers():
            try:
                return requests.get(f"{server}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        group.wait_for(answers, 60, "gunicorn")
        http = log_in(server, admin_user)
        pk = subscription.pk

        def post(path: str, data=None, **headers):
            return http.post(
                f"{server}{path}",
                data={**(data or {}), "csrfmiddlewaretoken": http.cookies["csrftoken"]},
                headers=headers,
                allow_redirects=False,
                timeout=60,
            )

        tested = post(reverse("subscriptions:connection_test", args=[pk]))
        assert tested.status_code == 302, tested.text[:300]
        rotated = post(
            reverse("subscriptions:certificate_rotate", args=[pk]),
            {"rotate-key_type": "ec-p256", "rotate-days": "365"},
            **{"HX-Request": "true"},
        )
        assert "Rotated through NetSuite" in rotated.text, rotated.text[:500]
        delivered = requests.post(
            f"{server}{reverse('subscriptions:inbound_webhook', args=[pk])}",
            json={"notifications": [{"scope": "customer/updated", "external_id": "42"}]},
            headers={"Authorization": f"Bearer {webhook_key}"},
            timeout=20,
        )
        assert delivered.status_code == 202, delivered.text
        job = initialization_start(subscription=subscription, types=None, actor=COMMAND_LINE)
        with open(worker_out, "wb") as out:
            group.start("worker", db_worker("json-worker")[:-2] + ["--verbosity", "1"], env,
                        stdout=out)
        group.wait_for(lambda: not Job.objects.get(pk=job.pk).is_active, 90, "the job")
    finally:
        group.stop()
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED

    server_lines = json_lines(group.said("gunicorn", chars=10**9), "gunicorn's error log")
    access_lines = json_lines(access.read_text(), "gunicorn's access log")
    worker_lines = json_lines(
        worker_out.read_text() + group.said("worker", chars=10**9), "the worker's output"
    )
    everything = server_lines + access_lines + worker_lines

    # What there was to look at: SQL, NetSuite's calls, gunicorn's own lines, the job's.
    loggers = {entry["logger"] for entry in everything}
    assert "django.db.backends" in loggers and "gunicorn.error" in loggers, loggers
    assert any(name.startswith("netsuite") for name in loggers), loggers
    requested = {e["http"]["path"]: e for e in access_lines}
    inbound = requested[f"/hooks/netsuite/{pk}/"]
    assert inbound["http"]["status"] == 202 and inbound["request_id"] == delivered.headers[
        "X-Request-ID"
    ]
    # The request's own lines carry its id and the subscription its URL names.
    during = [e for e in server_lines if e["request_id"] == delivered.headers["X-Request-ID"]]
    assert during and {e["subscription"] for e in during} == {str(pk)}
    assert any(e["job"] == str(job.pk) and e["subscription"] == str(pk) for e in worker_lines)

    text = "\n".join(json.dumps(entry) for entry in everything)
    assert "enc:fernet:" in text  # SQL with its parameters was seen: the secrets encrypted
    rotated_key = Subscription.objects.get(pk=pk).private_key  # the key made by the rotation
    assert "PRIVATE KEY" in rotated_key and rotated_key != subscription.test_key_pem
    for pem in (subscription.test_key_pem, rotated_key):
        windows = secret_windows(pem)
        assert windows and not [w for w in windows if w in text], "private key material"
    assert webhook_key not in text
    tokens = set(netsuite_sim.sim.state.tokens)
    assert tokens and not [token for token in tokens if token in text]


def test_the_formatter_writes_one_line_with_the_context_and_the_traceback():
    record = logging.LogRecord("subscriptions.x", logging.ERROR, __file__, 1, "a\nb %s", ("c",),
                               None)
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    with context_about(subscription=7, job=9):
        RequestIdLogFilter().filter(record)
        line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "a\nb c" and entry["level"] == "ERROR"
    assert (entry["subscription"], entry["job"], entry["request_id"]) == ("7", "9", None)
    assert "ValueError: boom" in entry["exception"]


def test_a_set_password_links_token_is_not_logged():
    assert redact_path("/people/set-password/MQ/abc-123/") == (
        "/people/set-password/MQ/[redacted]/"
    )
    assert redact_path("/subscriptions/3/") == "/subscriptions/3/"
