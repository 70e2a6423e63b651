"""Governance: read NetSuite's concurrency limits and apply the Concurrent Connections they
suggest."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from ..forms.governance import GovernanceApplyForm
from ..permissions import require
from ..problems import Problem, Success
from ..selectors.subscriptions import subscription_get
from ..services import governance as governance_service
from ..services.errors import ConflictError
from .htmx import back, flash, is_partial, partial_or_page, return_to

GOVERNANCE_TEMPLATE = "subscriptions/actions/governance.html"


def _section(request, subscription, *, proposal=None, form=None, notice=None, status=200):
    context = {
        "subscription": subscription,
        "proposal": proposal,
        "apply_form": form,
        "notice": notice,
        "return_to": return_to(request),
        "nav": "subscriptions",
    }
    name = partial_or_page(request, GOVERNANCE_TEMPLATE, "section")
    return render(request, name, context, status=200 if is_partial(request) else status)


@require_http_methods(["GET", "POST"])
@require("change_subscription")
def governance(request, pk):
    subscription = subscription_get(pk)
    if request.method == "GET":
        return _section(request, subscription)
    try:
        proposal = governance_service.governance_detect(
            subscription=subscription, actor=request.user
        )
    except governance_service.GovernanceError as exc:
        return _section(request, subscription, notice=exc.problem)
    form = None
    if proposal.proposed is not None:
        form = GovernanceApplyForm(
            initial={
                "concurrent_connections": proposal.proposed,
                "revision": subscription.revision,
            }
        )
    return _section(request, subscription, proposal=proposal, form=form)


@require_POST
@require("change_subscription")
def governance_apply(request, pk):
    subscription = subscription_get(pk)
    form = GovernanceApplyForm(request.POST)
    if not form.is_valid():
        return _section(request, subscription, form=form, status=400)
    try:
        subscription = governance_service.governance_apply(
            subscription=subscription,
            value=form.cleaned_data["concurrent_connections"],
            expected_revision=form.cleaned_data["revision"],
            actor=request.user,
        )
    except ConflictError:
        notice = Problem(
            "Someone changed this subscription after the limits were detected; nothing was "
            "saved. Detect again to see the current values."
        )
    except governance_service.GovernanceError as exc:
        form.add_error("concurrent_connections", exc.message)
        return _section(request, subscription, form=form, status=400)
    else:
        notice = Success(f"Concurrent Connections is now {subscription.concurrent_connections}.")
    if is_partial(request):
        return _section(request, subscription, notice=notice)
    flash(request, notice)
    return back(request, "subscriptions:detail", pk=subscription.pk)
