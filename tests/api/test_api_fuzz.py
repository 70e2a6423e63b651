"""The API fuzzed against its own OpenAPI schema (schemathesis over WSGI, an administrator's
token): no answer is a 500, and every answer's status, content type and body are the ones
the schema declares for its operation. Derandomized with few examples per operation, so the
run is the same every time and stays well under a minute."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from subscriptions.api.urls import api

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Built from the schema the API serves (the same object /api/v1/openapi.json renders), and
# called over WSGI in the test's own transaction.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_params={}))
schema.app = get_wsgi_application()
schema.config.generation.update(modes=[GenerationMode.POSITIVE])


@pytest.fixture
def same_connection():
    """As Django's test client does: a request's start and end must not close the connection
    that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, api_world, tokens, same_connection, settings):
    settings.API_TOKEN_RATE = "1000000/60"  # the fuzzing is not about the rate
    token = tokens[("administrator", False)]
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
    assert response.status_code not in (401, 403), response.text  # the token was used
