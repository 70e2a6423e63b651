"""Monitoring: an administrator sets how often a subscription's connection is tested on
schedule, and acknowledges a notice. The notices themselves are raised by the scheduler
(``services.monitoring.monitoring_run``) and shown by ``templatetags/monitoring.py``."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from ..forms.monitoring import MonitoringSettingsForm
from ..models import MonitoringNotice
from ..permissions import require
from ..problems import Success
from ..selectors.monitoring import monitoring_settings
from ..selectors.subscriptions import subscription_get
from ..services import monitoring as monitoring_service
from ..services.errors import InvalidInput
from .htmx import back, flash, is_partial, partial_or_page, return_to

MONITORING_TEMPLATE = "subscriptions/actions/monitoring.html"


def _schedule_saved(minutes: int) -> Success:
    if minutes:
        return Success(f"The connection is now tested every {minutes} minutes.")
    return Success("Scheduled connection tests are off. Certificate-expiry warnings go on.")


@require_POST
@require("change_subscription")
def connection_test_schedule(request, pk):
    subscription = subscription_get(pk)
    form = MonitoringSettingsForm(request.POST)
    notice = None
    row = None
    if form.is_valid():
        try:
            row = monitoring_service.monitoring_settings_set(
                subscription=subscription,
                minutes=form.cleaned_data["monitoring_minutes"],
                actor=request.user,
            )
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                form.add_error(field, message)
        else:
            notice = _schedule_saved(row.monitoring_minutes)
            if not is_partial(request):
                flash(request, notice)
                return back(request, "subscriptions:connection_tests", pk=subscription.pk)
            form = MonitoringSettingsForm.for_settings(row)
    context = {
        "subscription": subscription,
        "monitoring": row or monitoring_settings(subscription),
        "form": form,
        "notice": notice,
        "return_to": return_to(request),
        "failures_before_notice": settings.MONITORING_FAILURES_BEFORE_NOTICE,
        "nav": "subscriptions",
    }
    status = 400 if form.errors and not is_partial(request) else 200
    return render(
        request, partial_or_page(request, MONITORING_TEMPLATE, "schedule"), context, status=status
    )


@require_POST
@require("change_subscription")
def notice_acknowledge(request, pk, notice_pk):
    notice = get_object_or_404(MonitoringNotice, pk=notice_pk, subscription_id=pk)
    notice = monitoring_service.notice_acknowledge(notice=notice, actor=request.user)
    flash(
        request,
        Success(f"“{notice.title}” acknowledged: it is no longer shown on the list."),
    )
    return back(request, "subscriptions:detail", pk=pk)
