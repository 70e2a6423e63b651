"""Per-module webhooks: the table of Webhook Manager deployments, toggles and bulk actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from netsuite.restlet import MODULE_LABELS

from ..permissions import require
from ..selectors.subscriptions import subscription_get
from ..services import webhooks as webhook_service
from .htmx import back, flash, is_partial, partial_or_page, return_to

WEBHOOKS_TEMPLATE = "subscriptions/actions/webhooks.html"


def _table(request, subscription, table):
    context = {
        "subscription": subscription,
        "table": table,
        "return_to": return_to(request),
        "nav": "subscriptions",
    }
    return render(request, partial_or_page(request, WEBHOOKS_TEMPLATE, "table"), context)


@require_GET
@require("view_subscription")
def webhooks(request, pk):
    subscription = subscription_get(pk)
    return _table(request, subscription, webhook_service.webhook_table(subscription=subscription))


def _deployment_id(request) -> int | None:
    try:
        value = int(request.POST.get("deployment", ""))
    except ValueError:
        return None
    return value if value > 0 else None


@require_POST
@require("toggle_webhooks")
def webhook_toggle(request, pk):
    subscription = subscription_get(pk)
    sdid = _deployment_id(request)
    flag = request.POST.get("flag") or None
    if sdid is None or (flag is not None and flag not in webhook_service.FLAGS):
        return HttpResponseBadRequest("A deployment id and a flag (create, update, delete).")
    if flag is not None:
        row = webhook_service.webhook_set_flag(
            subscription=subscription,
            scriptdeploymentid=sdid,
            flag=flag,
            value=request.POST.get(flag) == "on",
            actor=request.user,
        )
    else:
        row = webhook_service.webhook_set_flags(
            subscription=subscription,
            scriptdeploymentid=sdid,
            flags={f: request.POST.get(f) == "on" for f in webhook_service.FLAGS},
            actor=request.user,
        )
    if is_partial(request):
        return render(
            request,
            f"{WEBHOOKS_TEMPLATE}#row",
            {"subscription": subscription, "row": row, "return_to": request.POST.get("next", "")},
        )
    if row.problem:
        flash(request, row.problem)
    else:
        messages.success(request, f"{row.label}: NetSuite confirmed the webhook flags.")
    return back(request, "subscriptions:detail", pk=subscription.pk)


def _bulk_done(request, subscription, result):
    table = result.table
    if is_partial(request):
        return _table(request, subscription, table)
    flash(request, table.problem or table.notice)
    return back(request, "subscriptions:detail", pk=subscription.pk)


@require_POST
@require("toggle_webhooks")
def webhook_set_all(request, pk):
    subscription = subscription_get(pk)
    module = request.POST.get("module") or None
    enabled = request.POST.get("enabled")
    if (module is not None and module not in MODULE_LABELS) or enabled not in ("1", "0"):
        return HttpResponseBadRequest("enabled is 1 or 0; module, when given, a known module.")
    result = webhook_service.webhook_set_all(
        subscription=subscription, enabled=enabled == "1", module=module, actor=request.user
    )
    return _bulk_done(request, subscription, result)


@require_POST
@require("toggle_webhooks")
def webhook_reapply(request, pk):
    subscription = subscription_get(pk)
    result = webhook_service.webhook_reapply(subscription=subscription, actor=request.user)
    return _bulk_done(request, subscription, result)
