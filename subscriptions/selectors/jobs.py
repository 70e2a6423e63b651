"""Jobs for the pages: all of them, one subscription's, one job; a constant number of queries."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from ..models import Job, Subscription

PAGE_SIZE = 50
LIST_FIELDS = (
    "id", "kind", "status", "progress_done", "progress_total", "attempts", "actor_name",
    "created_at", "started_at", "finished_at", "subscription_id", "subscription__name",
    "params", "heartbeat_at",
)


def job_list(*, subscription: Subscription | None = None, status: str = ""):
    jobs = Job.objects.select_related("subscription").only(*LIST_FIELDS)
    if subscription is not None:
        jobs = jobs.filter(subscription=subscription)
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    return jobs.order_by("-created_at", "-id")


def job_get(pk: int, subscription_id: int | None = None) -> Job:
    jobs = Job.objects.select_related("subscription").defer(
        "subscription__private_key", "subscription__webhook_api_key"
    )
    if subscription_id is not None:
        jobs = jobs.filter(subscription_id=subscription_id)
    return get_object_or_404(jobs, pk=pk)


def latest_jobs(subscription: Subscription, limit: int = 5) -> list[Job]:
    return list(job_list(subscription=subscription)[:limit])


def active_initialization(subscription: Subscription) -> Job | None:
    return (
        Job.objects.filter(subscription=subscription, kind=Job.Kind.INITIALIZATION,
                           status__in=Job.ACTIVE)
        .order_by("-created_at")
        .first()
    )
