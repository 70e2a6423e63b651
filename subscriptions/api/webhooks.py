"""Webhook flags: read as the Webhooks section shows them, set through the same service as
the section's toggle (``services.webhooks.webhook_set_flags``), with a reason.

A PUT carries all three flags of one deployment and a ``reason`` (required: the change is
put on record with it, as a confirmed change on the pages is). NetSuite is asked as for the
page; a refusal answers with NetSuite's message (502), a subscription not ready or another
write of its webhooks in flight with 409, a deployment NetSuite does not list with 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Path, Router, Schema
from pydantic import Field, field_validator

from ..services import webhooks as webhook_service
from ..services.errors import SETUP_NOT_FINISHED
from .auth import token
from .common import MAX_ID, Id, subscription_or_404
from .errors import problem_error, responses

router = Router(tags=["webhooks"])
DeploymentId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The refusals that are the state of things here, not NetSuite's answer.
CONFLICTS = {SETUP_NOT_FINISHED: 409, "WEBHOOK_WRITE_BUSY": 409, "UNKNOWN_DEPLOYMENT": 404}


class ProblemOut(Schema):
    message: str
    code: str
    hint: str


class WebhookOut(Schema):
    module: str | None
    label: str
    scriptdeploymentid: int | None
    scriptid: str
    deployed: bool | None
    # null: never set from this dashboard (NetSuite does not report the flags).
    create: bool | None
    update: bool | None
    delete: bool | None
    set_by: str | None
    set_at: dt.datetime | None


class WebhookTableOut(Schema):
    rows: list[WebhookOut]
    unplaced: list[WebhookOut]
    # Why NetSuite's list is missing (the rows are then what was recorded).
    problem: ProblemOut | None


class WebhookFlagsIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    create: bool
    update: bool
    delete: bool

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Say why the flags change: the reason goes on record.")
        return value.strip()


def _row(row) -> dict:
    state = row.state
    return {
        "module": row.module,
        "label": row.label,
        "scriptdeploymentid": row.scriptdeploymentid,
        "scriptid": row.scriptid,
        "deployed": row.isdeployed,
        **{flag: (row.flags[flag] if state else None) for flag in webhook_service.FLAGS},
        "set_by": state.set_by if state else None,
        "set_at": state.set_at if state else None,
    }


def _problem(problem) -> dict | None:
    if problem is None:
        return None
    return {"message": problem.message, "code": problem.code, "hint": problem.hint}


@router.get(
    "/subscriptions/{subscription_id}/webhooks",
    **token("view_subscription"),
    response=responses({200: WebhookTableOut}),
    url_name="webhook_list",
    summary="The webhook deployments and their recorded flags",
)
def webhook_list(request, subscription_id: Id):
    table = webhook_service.webhook_table(subscription=subscription_or_404(subscription_id))
    return {
        "rows": [_row(row) for row in table.rows],
        "unplaced": [_row(row) for row in table.unplaced],
        "problem": _problem(table.problem),
    }


@router.put(
    "/subscriptions/{subscription_id}/webhooks/{deployment_id}",
    **token("toggle_webhooks", write=True),
    response=responses({200: WebhookOut}, write=True),
    url_name="webhook_set",
    summary="Set a deployment's three flags (NetSuite confirms, then it is recorded)",
)
def webhook_set(request, subscription_id: Id, deployment_id: DeploymentId, body: WebhookFlagsIn):
    subscription = subscription_or_404(subscription_id)
    row = webhook_service.webhook_set_flags(
        subscription=subscription,
        scriptdeploymentid=deployment_id,
        flags={flag: getattr(body, flag) for flag in webhook_service.FLAGS},
        actor=request.user,
        reason=body.reason,
    )
    if row.problem is not None:
        raise problem_error(row.problem, CONFLICTS.get(row.problem.code, 502))
    return _row(row)
