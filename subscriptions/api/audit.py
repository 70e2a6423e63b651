"""The audit trail for auditors' and administrators' tools: a cursor-paged JSON list, and
NDJSON (one event per line, ``application/x-ndjson``) streamed for a SIEM to pull with
``?after=<the last id it stored>``.

Reading the trail through the API is not itself put on the trail (unlike the CSV export of
the page): a SIEM pulling every minute would add an event per pull, which its next pull
would fetch, for ever. The token's "last used" shows that it pulls.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from ninja import Query, Router, Schema

from ..selectors.audit_feed import audit_after, audit_stream
from .auth import token
from .common import MAX_ID
from .errors import responses

router = Router(tags=["audit"])
VIEW = token("view_auditevent")
After = Annotated[int, Query(ge=0, le=MAX_ID)]
NDJSON = "application/x-ndjson"


class AuditEventOut(Schema):
    id: int
    created_at: dt.datetime
    actor_id: int | None
    actor_name: str
    remote_addr: str
    request_id: str
    action: str
    action_name: str
    target_type: str
    target_id: str
    target_repr: str
    subscription_id: int | None
    changes: Any
    reason: str
    prev_hash: str
    hash: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    # The ``after`` of the next page; null once this page reached the newest event.
    next_after: int | None


@router.get(
    "/audit/events",
    **VIEW,
    response=responses({200: AuditPage}),
    url_name="audit_events",
    summary="Audit events after an id, oldest first (cursor: next_after)",
)
def audit_events(
    request, after: After = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100
):
    items = audit_after(after=after, limit=limit)
    return {"items": items, "next_after": items[-1]["id"] if len(items) == limit else None}


def _lines(after: int):
    for event in audit_stream(after=after):
        yield json.dumps(event, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"


@router.get(
    "/audit/events.ndjson",
    **VIEW,
    response=responses({200: None}),
    url_name="audit_stream",
    summary="Every audit event after an id, one JSON object per line, streamed",
    openapi_extra={
        "responses": {
            200: {
                "description": "One event per line, oldest first (the fields of /audit/events)",
                "content": {NDJSON: {"schema": {"type": "string"}}},
            }
        }
    },
)
def audit_ndjson(request, after: After = 0):
    response = StreamingHttpResponse(_lines(after), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response
