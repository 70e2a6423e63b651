"""Jobs: the Jobs section of a subscription (Initialize per type, Initialize all, inventory
polling: poll now and its settings), the jobs page for all subscriptions, one job with its
self-updating progress, cancel and retry."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from ..forms.polling import PollingSettingsForm
from ..models import Job
from ..permissions import require
from ..problems import Problem, Success
from ..selectors.jobs import active_initialization, job_get, job_list, latest_jobs
from ..selectors.polling import polling_overview
from ..selectors.records import record_counts
from ..selectors.subscriptions import subscription_get
from ..services import initialization as initialization_service
from ..services import jobs as jobs_service
from ..services import polling as polling_service
from ..services.errors import ServiceError
from .htmx import JOBS_CHANGED, back, flash, is_partial, partial_or_page, return_to

SECTION_TEMPLATE = "subscriptions/actions/jobs.html"
LIST_TEMPLATE = "jobs/list.html"
DETAIL_TEMPLATE = "jobs/detail.html"
# How often a running job's progress asks again (htmx's "every" syntax).
POLL_EVERY = "1s"


def _stored(counts, data_type):
    mine = counts.get(data_type.key) or {}
    return {"key": data_type.key, "label": data_type.label, "stored": mine.get("stored", 0),
            "newest": mine.get("newest")}


def _section(request, subscription, *, notice=None, status=200, polling_form=None,
             polling_notice=None):
    counts = record_counts(subscription)
    context = {
        "subscription": subscription,
        "types": [_stored(counts, t) for t in initialization_service.DATA_TYPES.values()],
        "jobs": latest_jobs(subscription),
        "active": active_initialization(subscription),
        "polling": polling_overview(subscription),
        "inventory": _stored(counts, polling_service.INVENTORY_ITEM),
        "polling_form": polling_form or PollingSettingsForm.of(subscription),
        "polling_notice": polling_notice,
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


@require_POST
@require("start_jobs")
def polling_start(request, pk):
    subscription = subscription_get(pk)
    try:
        job = polling_service.polling_start(subscription=subscription, actor=request.user)
    except ServiceError as exc:
        notice, status = exc.problem, 409
    else:
        notice = Success(
            f"Inventory poll queued as job {job.pk}: "
            f"{polling_service.describe_window(job.params)}."
        )
        status = 200
    if is_partial(request):
        return _section(request, subscription, polling_notice=notice, status=status)
    flash(request, notice)
    return back(request, "subscriptions:subscription_jobs", pk=subscription.pk)


def _settings_refused(form) -> Problem:
    errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    return Problem(
        "The polling settings were not saved; nothing changed.",
        hint=errors or "Check the marked fields and save again.",
    )


@require_POST
@require("start_jobs")
def polling_settings(request, pk):
    subscription = subscription_get(pk)
    form = PollingSettingsForm(request.POST)
    status = 400
    if not form.is_valid():
        notice = _settings_refused(form)
    else:
        try:
            subscription, changes = polling_service.polling_settings_set(
                subscription=subscription,
                actor=request.user,
                enabled=form.cleaned_data["inventory_polling_enabled"],
                minutes=form.cleaned_data["inventory_polling_minutes"],
            )
        except ServiceError as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
            notice = _settings_refused(form)
        else:
            status, form = 200, None
            if not changes:
                notice = Success("Nothing to save: the polling settings were already these.")
            elif subscription.inventory_polling_enabled:
                notice = Success(
                    f"Inventory polling is on, every {subscription.inventory_polling_minutes} "
                    "minutes."
                )
            else:
                notice = Success("Inventory polling is off; “Poll inventory now” still works.")
    if is_partial(request):
        return _section(request, subscription, polling_form=form, polling_notice=notice,
                        status=status)
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
    response = render(request, partial_or_page(request, DETAIL_TEMPLATE, part), context)
    if is_partial(request) and not job.is_active:
        # A poll that sees the job ended: the parts that show jobs (the Jobs section's
        # buttons, counts, last poll) ask for themselves again.
        _jobs_changed(response, job)
    return response


def _jobs_changed(response, job) -> None:
    trigger_client_event(
        response,
        JOBS_CHANGED,
        {
            "job": job.pk,
            "message": f"{job.get_kind_display()} job {job.pk}: "
            f"{job.get_status_display().lower()}.",
        },
    )


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
        response = render(request, f"{DETAIL_TEMPLATE}#job", context, status=status)
        if status == 200:
            _jobs_changed(response, context["job"])
        return response
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
