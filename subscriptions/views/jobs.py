"""Jobs: the Jobs section of a subscription (Initialize per type, Initialize all), the jobs
page for all subscriptions, one job with its self-updating progress, cancel and retry."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ..models import Job
from ..permissions import require
from ..problems import Success
from ..selectors.jobs import active_initialization, job_get, job_list, latest_jobs
from ..selectors.records import record_counts
from ..selectors.subscriptions import subscription_get
from ..services import initialization as initialization_service
from ..services import jobs as jobs_service
from ..services.errors import ServiceError
from .htmx import back, flash, is_partial, partial_or_page, return_to

SECTION_TEMPLATE = "subscriptions/actions/jobs.html"
LIST_TEMPLATE = "jobs/list.html"
DETAIL_TEMPLATE = "jobs/detail.html"
# How often a running job's progress asks again (htmx's "every" syntax).
POLL_EVERY = "1s"


def _types(subscription):
    counts = record_counts(subscription)
    return [
        {"key": t.key, "label": t.label, "stored": (counts.get(t.key) or {}).get("stored", 0),
         "newest": (counts.get(t.key) or {}).get("newest")}
        for t in initialization_service.DATA_TYPES.values()
    ]


def _section(request, subscription, *, notice=None, status=200):
    context = {
        "subscription": subscription,
        "types": _types(subscription),
        "jobs": latest_jobs(subscription),
        "active": active_initialization(subscription),
        "notice": notice,
        "return_to": return_to(request),
        "poll_every": POLL_EVERY,
        "nav": "subscriptions",
    }
    name = partial_or_page(request, SECTION_TEMPLATE, "section")
    return render(request, name, context, status=200 if is_partial(request) else status)


@require_GET
@require("view_jobs")
def subscription_jobs(request, pk):
    return _section(request, subscription_get(pk))


@require_POST
@require("start_jobs")
def initialization_start(request, pk):
    subscription = subscription_get(pk)
    chosen = [t for t in request.POST.getlist("type") if t and t != "all"]
    try:
        job = initialization_service.initialization_start(
            subscription=subscription, types=chosen, actor=request.user
        )
    except ServiceError as exc:
        notice = exc.problem
        status = 409
    else:
        notice = Success(f"Initialization queued as job {job.pk}.")
        status = 200
    if is_partial(request):
        return _section(request, subscription, notice=notice, status=status)
    flash(request, notice)
    return back(request, "subscriptions:subscription_jobs", pk=subscription.pk)


@require_GET
@require("view_jobs")
def jobs(request):
    status = request.GET.get("status", "")
    page = Paginator(job_list(status=status), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": Job.Status.choices,
        "poll_every": POLL_EVERY,
        "nav": "jobs",
    }
    return render(request, LIST_TEMPLATE, context)


@require_GET
@require("view_jobs")
def job_detail(request, job_pk):
    job = job_get(job_pk)
    context = {"job": job, "subscription": job.subscription, "poll_every": POLL_EVERY,
               "return_to": return_to(request), "nav": "jobs"}
    part = "progress" if request.GET.get("part") == "progress" else "job"
    return render(request, partial_or_page(request, DETAIL_TEMPLATE, part), context)


def _act(request, job_pk, action, done: str):
    job = job_get(job_pk)
    try:
        job = action(job=job, actor=request.user)
    except ServiceError as exc:
        notice, status = exc.problem, 409
    else:
        notice, status = Success(done.format(job=job)), 200
    if is_partial(request):
        context = {"job": job_get(job.pk), "subscription": job.subscription, "notice": notice,
                   "poll_every": POLL_EVERY, "return_to": return_to(request)}
        return render(request, f"{DETAIL_TEMPLATE}#job", context, status=status)
    flash(request, notice)
    return back(request, "subscriptions:job_detail", job_pk=job.pk)


@require_POST
@require("start_jobs")
def job_cancel(request, job_pk):
    return _act(request, job_pk, jobs_service.job_cancel, "Job {job.pk} cancelled.")


@require_POST
@require("start_jobs")
def job_retry(request, job_pk):
    return _act(request, job_pk, jobs_service.job_retry, "Job {job.pk} queued again.")
