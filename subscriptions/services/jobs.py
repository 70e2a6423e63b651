"""Jobs: start one (enqueued when the transaction commits), cancel, retry, recover lost ones,
and the run handle a worker writes progress through.

A job's row is the truth; the django.tasks task that runs it only carries its id, so a task
run twice, or a task of a job cancelled meanwhile, finds the row and does nothing. A worker
claims a queued job (``attempts`` + 1) and from then on writes only while the job is running
under that attempt: a cancel, or another worker resuming it after the heartbeat went stale,
ends its right to write at the next checkpoint (:class:`JobStopped`). Each piece of work is
stored in the same transaction as the checkpoint that says it is done, so a worker killed at
any moment loses nothing and duplicates nothing when another resumes from the checkpoint.

The entry point (``subscriptions.tasks.run_job``) sits above the services; it is named by its
dotted path here, as Django names backends, so the layers keep pointing down.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued

from .. import audit, metrics
from ..actors import WORKER, ActorLike, actor_id, actor_name
from ..middleware import context_about, context_note
from ..models import Job, Subscription
from ..models.jobs import LOG_KEPT
from ..problems import Problem
from ..selectors.setup_progress import setup_refusal
from .errors import ServiceError, setup_not_finished

logger = logging.getLogger(__name__)

ENTRY_POINT = "subscriptions.tasks.run_job"


class JobStopped(Exception):
    """This worker may no longer write to the job: it was cancelled or another took over."""


class JobRefused(ServiceError):
    """A job cannot be cancelled, retried or started in its present state."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _line(text: str) -> dict:
    return {"at": timezone.now().isoformat(timespec="seconds"), "text": text[:500]}


def _add_log(job: Job, text: str) -> None:
    job.log = [*job.log, _line(text)][-LOG_KEPT:]


def _enqueue_on_commit(job_pk: int) -> None:
    def enqueue():
        import_string(ENTRY_POINT).enqueue(job_pk)

    transaction.on_commit(enqueue)


def _enqueue_many_on_commit(job_pks: list[int]) -> None:
    """Each job's task, enqueued once the transaction commits: one INSERT per 500 on
    django-tasks-db's table (what its ``enqueue`` writes, row by row), one by one on any
    other backend."""

    def enqueue():
        task = import_string(ENTRY_POINT)
        backend = task.get_backend()
        if not isinstance(backend, DatabaseBackend):
            for pk in job_pks:
                task.enqueue(pk)
            return
        from django_tasks_db.models import DBTaskResult, get_date_max

        rows = [
            DBTaskResult(
                args_kwargs=normalize_json({"args": [pk], "kwargs": {}}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                # What its pre_save handler writes for "now" (bulk_create sends no signals).
                run_after=task.run_after or get_date_max(),
                backend_name=backend.alias,
            )
            for pk in job_pks
        ]
        DBTaskResult.objects.bulk_create(rows, batch_size=500)
        for row in rows:
            task_enqueued.send(type(backend), task_result=row.task_result)

    if job_pks:
        transaction.on_commit(enqueue)


def _audit(job: Job, actor: ActorLike, action: str, changes: dict) -> None:
    audit.record(
        actor=actor,
        action=action,
        target_type="job",
        target_id=str(job.pk),
        target_repr=str(job)[:255],
        subscription_id=job.subscription_id,
        changes=changes,
    )


def job_start(
    *, subscription: Subscription, kind: str, params: Mapping, actor: ActorLike, summary: str
) -> Job:
    """A queued job, on record, and its task enqueued once the transaction commits.

    Refused, with the missing step, for a subscription that is not ready: every job reads
    NetSuite, which it cannot sign in to yet."""
    if why := setup_refusal(subscription):
        raise JobRefused(why, problem=setup_not_finished(why))
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            subscription=subscription,
            params=dict(params),
            actor_id=actor_id(actor),
            actor_name=actor_name(actor)[:150],
            log=[_line(f"Queued by {actor_name(actor)}: {summary}")],
        )
        _audit(job, actor, "job.started", {"kind": [None, kind], "what": [None, summary]})
        _enqueue_on_commit(job.pk)
    return job


def job_start_many(
    *, kind: str, actor: ActorLike, starts: list[tuple[Subscription, Mapping, str]]
) -> list[Job]:
    """:func:`job_start` for many subscriptions at once, each ``(subscription, params,
    summary)``: one INSERT of the jobs, one of their audit events and one of their tasks
    (each per 500), whatever their number. The caller has left out the subscriptions that
    are not ready (a scheduler skips them; a person is told by :func:`job_start`)."""
    if not starts:
        return []
    queued_by = f"Queued by {actor_name(actor)}: "
    with transaction.atomic():
        jobs = Job.objects.bulk_create(
            [
                Job(
                    kind=kind,
                    subscription=subscription,
                    params=dict(params),
                    actor_id=actor_id(actor),
                    actor_name=actor_name(actor)[:150],
                    log=[_line(queued_by + summary)],
                )
                for subscription, params, summary in starts
            ],
            batch_size=500,
        )
        audit.record_many(
            [
                {
                    "actor": actor,
                    "action": "job.started",
                    "target_type": "job",
                    "target_id": str(job.pk),
                    "target_repr": str(job)[:255],
                    "subscription_id": job.subscription_id,
                    "changes": {"kind": [None, kind], "what": [None, summary]},
                }
                for job, (_subscription, _params, summary) in zip(jobs, starts, strict=True)
            ]
        )
        _enqueue_many_on_commit([job.pk for job in jobs])
    return jobs


def job_cancel(*, job: Job, actor: ActorLike) -> Job:
    """Cancel a queued or running job; a running one stops at its next checkpoint, keeping
    what it stored before."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.is_active:
            raise JobRefused(f"This job has already ended ({job.get_status_display().lower()}).")
        was = job.status
        job.status = Job.Status.CANCELLED
        job.finished_at = timezone.now()
        _add_log(job, f"Cancelled by {actor_name(actor)}.")
        job.save(update_fields=["status", "finished_at", "log"])
        _audit(job, actor, "job.cancelled", {"status": [was, job.status]})
    return job


def job_retry(*, job: Job, actor: ActorLike) -> Job:
    """Queue a failed or cancelled job again; it goes on from its checkpoint."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
            raise JobRefused("Only a failed or cancelled job can be retried.")
        was = job.status
        job.status = Job.Status.QUEUED
        job.error = None
        job.finished_at = None
        _add_log(job, f"Retried by {actor_name(actor)}; going on from the last checkpoint.")
        job.save(update_fields=["status", "error", "finished_at", "log"])
        _audit(job, actor, "job.retried", {"status": [was, job.status]})
        _enqueue_on_commit(job.pk)
    return job


def job_recover_stale(*, actor: ActorLike = WORKER) -> list[Job]:
    """Running jobs whose heartbeat went silent for ``JOB_STALE_SECONDS``: their worker is
    gone. Each is queued again (and resumed from its checkpoint by whichever worker takes
    it), or failed once it was started ``JOB_MAX_ATTEMPTS`` times."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS)
    recovered = []
    with transaction.atomic():
        # skip_locked: two workers recovering at once each take different jobs.
        stale = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
            .order_by("id")
        )
        for job in stale:
            silent = (timezone.now() - job.heartbeat_at).total_seconds()
            lost = f"Worker {job.worker or '?'} went silent {silent:.0f} s ago"
            if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                job.status = Job.Status.FAILED
                job.finished_at = timezone.now()
                job.error = Problem(
                    f"{lost}; the job was started {job.attempts} times and is given up.",
                    code="JOB_WORKER_LOST",
                    hint="Retry it once the workers are healthy.",
                ).as_dict()
                _add_log(job, job.error["message"])
                action = "job.failed"
            else:
                job.status = Job.Status.QUEUED
                _add_log(job, f"{lost}; queued again to resume from the last checkpoint.")
                action = "job.resumed"
                _enqueue_on_commit(job.pk)
            job.save(update_fields=["status", "finished_at", "error", "log"])
            _audit(job, actor, action, {"status": [Job.Status.RUNNING, job.status],
                                        "attempts": [None, job.attempts]})
            recovered.append(job)
    for job in recovered:
        logger.warning("job %s: worker lost, now %s", job.pk, job.status)
    return recovered


# -- running -----------------------------------------------------------------------------------


@dataclass
class JobRun:
    """The handle a kind's runner writes through, as one attempt of one job."""

    job: Job
    attempt: int
    worker: str
    _last_beat: float = field(default_factory=time.monotonic)
    # When this attempt was claimed: its duration in the metrics.
    began: float = field(default_factory=time.monotonic)

    @property
    def checkpoint(self) -> dict:
        return self.job.checkpoint

    def _locked(self) -> Job:
        row = (
            Job.objects.select_for_update()
            .filter(pk=self.job.pk, status=Job.Status.RUNNING, attempts=self.attempt)
            .first()
        )
        if row is None:
            raise JobStopped(f"job {self.job.pk} is no longer this worker's")
        return row

    def save(
        self, write: Callable[[Job], list[str] | None] | None = None, *, log: str = ""
    ) -> None:
        """Run ``write`` with the locked job row, which it may update (checkpoint, counts,
        progress), and save both in one transaction, or neither (:class:`JobStopped` when
        the job is no longer this worker's). ``log`` and the lines ``write`` returns go to
        the job's log."""
        with transaction.atomic():
            row = self._locked()
            lines = (write(row) if write is not None else None) or []
            for line in (log, *lines):
                if line:
                    _add_log(row, line)
            row.heartbeat_at = timezone.now()
            row.save(update_fields=["checkpoint", "counts", "progress_done", "progress_total",
                                    "log", "heartbeat_at"])
        self.job = row
        self._last_beat = time.monotonic()

    def beat(self) -> None:
        """Say this worker is still on the job (at most every ``JOB_HEARTBEAT_SECONDS``)."""
        if time.monotonic() - self._last_beat < settings.JOB_HEARTBEAT_SECONDS:
            return
        updated = Job.objects.filter(
            pk=self.job.pk, status=Job.Status.RUNNING, attempts=self.attempt
        ).update(heartbeat_at=timezone.now())
        if not updated:
            raise JobStopped(f"job {self.job.pk} is no longer this worker's")
        self._last_beat = time.monotonic()


def _claim(job_id: int, worker: str) -> JobRun | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return None
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.worker = worker
        job.heartbeat_at = timezone.now()
        job.started_at = job.started_at or job.heartbeat_at
        resumed = " (resuming from the checkpoint)" if job.checkpoint else ""
        _add_log(job, f"Attempt {job.attempts} started by worker {worker}{resumed}.")
        job.save(update_fields=["status", "attempts", "worker", "heartbeat_at", "started_at",
                                "log"])
    return JobRun(job=job, attempt=job.attempts, worker=worker)


def _finish(run: JobRun, status: str, text: str, problem: Problem | None = None) -> None:
    with transaction.atomic():
        row = run._locked()
        row.status = status
        row.finished_at = timezone.now()
        row.error = problem.as_dict() if problem else None
        _add_log(row, text)
        row.save(update_fields=["status", "finished_at", "error", "log"])
        changes = {"status": [Job.Status.RUNNING, status], "attempts": [None, row.attempts]}
        for part, numbers in row.counts.items():
            changes[part] = [None, ", ".join(f"{k} {v}" for k, v in numbers.items())]
        if problem is not None:
            changes["problem"] = [None, problem.message]
        _audit(row, WORKER, f"job.{status}", changes)
    run.job = row
    metrics.job_finished(kind=row.kind, outcome=status, seconds=time.monotonic() - run.began)


Runner = Callable[[JobRun], str]


def job_execute(*, job_id: int, runners: Mapping[str, Runner], worker: str = "") -> Job | None:
    """Claim a queued job and run it to its end; ``None`` if it was not queued (cancelled,
    or already taken by another worker).

    A runner returns its summary line; it raises :class:`ServiceError` (or lets a NetSuite
    error through as a ``ServiceError`` with its Problem) to fail the job. Anything else is
    a bug: the job is failed with a generic message and the exception goes on to the worker.
    """
    # Every log line of the run names the job, and its subscription once it is claimed.
    with context_about(job=job_id):
        return _job_execute(job_id=job_id, runners=runners, worker=worker)


def _job_execute(*, job_id: int, runners: Mapping[str, Runner], worker: str) -> Job | None:
    run = _claim(job_id, worker or worker_name())
    if run is None:
        return None
    context_note(subscription=run.job.subscription_id)
    try:
        summary = runners[run.job.kind](run)
    except JobStopped:
        logger.info("job %s: stopped (cancelled or taken over)", job_id)
        metrics.job_finished(
            kind=run.job.kind, outcome="stopped", seconds=time.monotonic() - run.began
        )
        return Job.objects.get(pk=job_id)
    except ServiceError as exc:
        try:
            _finish(run, Job.Status.FAILED, f"Failed: {exc.problem.text()}", exc.problem)
        except JobStopped:
            pass
        return run.job
    except Exception:
        try:
            _finish(run, Job.Status.FAILED, "Failed: an internal error (see the worker's log).",
                    Problem("The job stopped on an internal error.", code="INTERNAL_ERROR"))
        except JobStopped:
            pass
        raise
    try:
        _finish(run, Job.Status.SUCCEEDED, summary)
    except JobStopped:
        return Job.objects.get(pk=job_id)
    return run.job
