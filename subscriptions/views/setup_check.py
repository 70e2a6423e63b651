"""The setup check page: run it, read the checklist (present, missing, unknown)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from ..permissions import require
from ..selectors.subscriptions import subscription_get
from ..services.setup_check import setup_check_run
from .htmx import partial_or_page

SETUP_CHECK_TEMPLATE = "subscriptions/actions/setup_check.html"


@require_http_methods(["GET", "POST"])
@require("run_connection_test")
def setup_check(request, pk):
    subscription = subscription_get(pk)
    report = None
    if request.method == "POST":
        # Nothing is stored but the audit event: the answer is the checklist itself.
        report = setup_check_run(subscription=subscription, actor=request.user)
    context = {"subscription": subscription, "report": report, "nav": "subscriptions"}
    return render(request, partial_or_page(request, SETUP_CHECK_TEMPLATE, "section"), context)
