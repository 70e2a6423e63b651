"""Connection tests: start one (the same service as the page's button without JavaScript,
run to its end before the answer) and read any test of a subscription by its id.

A test that fails is still a test that ran: it is answered 201 with its failed step, the
step's error in the page's words. A test that cannot start (a set-up step missing) is 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Path, Router, Schema, Status

from ..models import ConnectionTest
from ..selectors.connection_tests import connection_test_get
from ..services import connection as connection_service
from .auth import token
from .common import MAX_ID, Id, subscription_or_404
from .errors import not_found, responses
from .webhooks import ProblemOut

router = Router(tags=["connection tests"])
TestId = Annotated[int, Path(ge=1, le=MAX_ID)]


class StepOut(Schema):
    key: str
    label: str
    status: str
    detail: str
    ms: int
    error: ProblemOut | None


class ConnectionTestOut(Schema):
    id: int
    subscription_id: int
    outcome: str
    staged_certificate: bool
    certificate_id: str
    steps: list[StepOut]
    actor_name: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


def _test(test: ConnectionTest) -> dict:
    return {
        "id": test.pk,
        "subscription_id": test.subscription_id,
        "outcome": test.shown_outcome,
        "staged_certificate": test.is_staged,
        "certificate_id": test.netsuite_certificate_id,
        "steps": [
            {
                "key": str(step.get("key", "")),
                "label": str(step.get("label", "")),
                "status": str(step.get("status", "")),
                "detail": str(step.get("detail") or ""),
                "ms": int(step.get("ms") or 0),
                "error": (
                    {
                        "message": str(step["error"].get("message") or ""),
                        "code": str(step["error"].get("code") or ""),
                        "hint": str(step["error"].get("hint") or ""),
                    }
                    if step.get("error")
                    else None
                ),
            }
            for step in test.steps
        ],
        "actor_name": test.actor_name,
        "started_at": test.started_at,
        "finished_at": test.finished_at,
    }


@router.post(
    "/subscriptions/{subscription_id}/connection-tests",
    **token("run_connection_test", write=True),
    response=responses({201: ConnectionTestOut}, write=True),
    url_name="connection_test_start",
    summary="Run a connection test to its end (passed or failed at a step)",
)
def connection_test_start(request, subscription_id: Id):
    subscription = subscription_or_404(subscription_id)
    test = connection_service.connection_test_run(subscription=subscription, actor=request.user)
    return Status(201, _test(test))


@router.get(
    "/subscriptions/{subscription_id}/connection-tests/{test_id}",
    **token("view_subscription"),
    response=responses({200: ConnectionTestOut}),
    url_name="connection_test_detail",
    summary="One connection test and its steps",
)
def connection_test_detail(request, subscription_id: Id, test_id: TestId):
    test = connection_test_get(subscription_id, test_id)
    if test is None:
        raise not_found(f"Subscription {subscription_id} has no connection test {test_id}.")
    return _test(test)
