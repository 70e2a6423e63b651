"""Jobs: start an initialization or an inventory poll (the services the Jobs section's
buttons call), follow one by its id, list them.

A start answers 202 with the queued job: a worker runs it; its status and progress are read
with ``GET /api/v1/jobs/{id}``. A start the state refuses (one already queued or running, a
set-up step missing) is 409 with the page's sentence.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import Http404
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from ..models import Job
from ..selectors.jobs import job_get, job_list
from ..services import initialization as initialization_service
from ..services import polling as polling_service
from .auth import token
from .common import MAX_ID, Id, Limit, Offset, PageMeta, page, subscription_or_404
from .errors import not_found, responses
from .webhooks import ProblemOut

router = Router(tags=["jobs"])
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]
JobStatus = Literal["", "queued", "running", "succeeded", "failed", "cancelled"]
DataType = Literal[tuple(initialization_service.DATA_TYPES)]  # type: ignore[valid-type]
START = token("start_jobs", write=True)
VIEW = token("view_jobs")


class LogLine(Schema):
    at: str
    text: str


class JobOut(Schema):
    id: int
    kind: str
    status: str
    subscription_id: int
    subscription_name: str
    params: dict
    progress_done: int
    progress_total: int | None
    percent: int | None
    counts: dict
    attempts: int
    error: ProblemOut | None
    log: list[LogLine]
    actor_name: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobPage(PageMeta):
    items: list[JobOut]


class InitializationIn(Schema):
    # The data types to initialize, in any order; empty or absent: all of them.
    types: list[DataType] = Field(default_factory=list, max_length=50)


def job_out(job: Job, *, log: bool = True) -> dict:
    """A job as answered; in a list (``log=False``) without its counts, error and log, which
    the list does not load (one query for the page)."""
    error = job.error if log and isinstance(job.error, dict) else None
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "subscription_id": job.subscription_id,
        "subscription_name": job.subscription.name,
        "params": job.params or {},
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "percent": job.percent,
        "counts": job.counts if log else {},
        "attempts": job.attempts,
        "error": (
            {
                "message": str(error.get("message") or ""),
                "code": str(error.get("code") or ""),
                "hint": str(error.get("hint") or ""),
            }
            if error
            else None
        ),
        "log": [
            {"at": str(line.get("at", "")), "text": str(line.get("text", ""))}
            for line in (job.log or [])
            if isinstance(line, dict)
        ]
        if log
        else [],
        "actor_name": job.actor_name,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@router.post(
    "/subscriptions/{subscription_id}/jobs/initialization",
    **START,
    response=responses({202: JobOut}, write=True),
    url_name="initialization_start",
    summary="Queue an initialization of some data types (all when none is named)",
)
def initialization_start(request, subscription_id: Id, body: InitializationIn | None = None):
    subscription = subscription_or_404(subscription_id)
    job = initialization_service.initialization_start(
        subscription=subscription, types=list(body.types) if body else [], actor=request.user
    )
    return Status(202, job_out(job_get(job.pk)))


@router.post(
    "/subscriptions/{subscription_id}/jobs/inventory-poll",
    **START,
    response=responses({202: JobOut}, write=True),
    url_name="polling_start",
    summary="Queue an inventory poll now",
)
def polling_start(request, subscription_id: Id):
    subscription = subscription_or_404(subscription_id)
    job = polling_service.polling_start(subscription=subscription, actor=request.user)
    return Status(202, job_out(job_get(job.pk)))


@router.get(
    "/jobs",
    **VIEW,
    response=responses({200: JobPage}),
    url_name="job_list",
    summary="Jobs, newest first (counts, error and log only in a job's own answer)",
)
def jobs(
    request,
    status: Annotated[JobStatus, Query()] = "",
    subscription_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    subscription = subscription_or_404(subscription_id) if subscription_id else None
    rows, meta = page(
        job_list(subscription=subscription, status=status), limit=limit, offset=offset
    )
    return {**meta, "items": [job_out(job, log=False) for job in rows]}


@router.get(
    "/jobs/{job_id}",
    **VIEW,
    response=responses({200: JobOut}),
    url_name="job_detail",
    summary="One job: status, progress, counts and its log",
)
def job_detail(request, job_id: JobId):
    try:
        job = job_get(job_id)
    except Http404:
        raise not_found(f"There is no job {job_id}; GET /api/v1/jobs lists them.") from None
    return job_out(job)
