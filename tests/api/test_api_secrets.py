"""Every answer of the API, the NDJSON stream and the logs of the calls carry no secret: no
line of the private key, not the Webhook API Key, not an API token (not even the caller's)."""

from __future__ import annotations

import logging

import pytest

from subscriptions.models import Subscription
from tests.factories import pem_body_lines
from tests.property.strategies import rolled_back

from .conftest import ROLES, ApiClient
from .matrix import OPS

pytestmark = pytest.mark.django_db


def test_no_api_answer_or_log_line_holds_a_secret(api_world, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    subscription = Subscription.objects.get(pk=api_world["subscription_id"])
    secrets_planted = {
        "webhook key": subscription.webhook_api_key,
        **{f"token {k}": v for k, v in tokens.items()},
    }
    key_lines = set(pem_body_lines(api_world["subscription"].test_key_pem))
    assert secrets_planted["webhook key"] and len(key_lines) > 2

    answers = []
    for op in OPS:
        for role in ROLES:
            for read_only in (False, True):
                client = ApiClient(tokens[(role, read_only)])
                with rolled_back():
                    response = client.call(op.method, op.path(api_world), op.body)
                    if response.streaming:
                        body = b"".join(response.streaming_content).decode()
                    else:
                        body = response.content.decode()
                answers.append((f"{op.method} {op.name} as {role}/{read_only}", body, response))
    for path in ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/health"):
        response = ApiClient().call("GET", path)
        answers.append((path, response.content.decode(), response))

    streamed = [label for label, body, _r in answers if "audit_stream" in label and body]
    assert streamed, "the NDJSON stream was read"
    logs = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for label, body, response in answers:
        text = body + str(dict(response.headers))
        for name, secret in secrets_planted.items():
            assert secret not in text, f"{name} in the answer to {label}"
        for line in key_lines:
            assert line not in text, f"private key material in the answer to {label}"
    for name, secret in secrets_planted.items():
        assert secret not in logs, f"{name} in the logs"
