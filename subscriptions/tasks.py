"""The django.tasks entry points: a task carries a job's id, loads nothing else, and hands
the job to its service. Runs in a worker (``manage.py db_worker``); the job row, not the task,
says whether there is anything left to do."""

from __future__ import annotations

from django.tasks import task

from .models import Job
from .services import initialization, jobs, polling

RUNNERS: dict[str, jobs.Runner] = {
    Job.Kind.INITIALIZATION: initialization.initialization_run,
    Job.Kind.INVENTORY_POLL: polling.polling_run,
}


@task()
def run_job(job_id: int) -> str | None:
    job = jobs.job_execute(job_id=job_id, runners=RUNNERS)
    return None if job is None else job.status
