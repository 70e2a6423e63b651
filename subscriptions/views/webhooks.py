"""Per-module webhooks: the table of Webhook Manager deployments, toggles and bulk actions.

Bulk writes (Enable/Disable all, per module or for the subscription, and Re-apply) change many
deployments in NetSuite at once, so they are confirmed first: with JavaScript by ``hx-confirm``
(the request then carries ``confirmed=1``), without it by a confirmation step this view renders
in place of the table when ``confirmed`` is missing. Nothing is sent to NetSuite before that.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from netsuite.inbound import EVENTS
from netsuite.restlet import MODULE_LABELS

from ..models import NetSuiteSnapshot
from ..permissions import require
from ..selectors.events import last_events
from ..selectors.subscriptions import subscription_get
from ..selectors.webhooks import webhook_overview
from ..services import webhooks as webhook_service
from .htmx import WEBHOOKS_CHANGED, back, flash, is_partial, partial_or_page, return_to
from .snapshots import known_table, reads_live, snapshot_context

WEBHOOKS_TEMPLATE = "subscriptions/actions/webhooks.html"
KIND = NetSuiteSnapshot.Kind.WEBHOOK_TABLE
SAVED_EVENT = "webhook-saved"


def _with_last_events(subscription, rows) -> None:
    """Each row's "last event received" per event type, from one query for all the rows."""
    newest = last_events(subscription)
    events_url = reverse("subscriptions:events", args=[subscription.pk])
    for row in rows:
        row.received = (
            [
                {
                    "event": event,
                    "at": newest.get((row.module, event)),
                    "url": f"{events_url}?{urlencode({'module': row.module, 'event': event})}",
                }
                for event in EVENTS
            ]
            if row.module
            else []
        )


def _table(request, subscription, table, refresh=None):
    if table is not None:
        _with_last_events(subscription, table.rows)
    context = {
        "subscription": subscription,
        "table": table,
        "return_to": return_to(request),
        "nav": "subscriptions",
        "refresh": refresh,
    }
    return render(request, partial_or_page(request, WEBHOOKS_TEMPLATE, "table"), context)


@require_GET
@require("view_subscription")
def webhooks(request, pk):
    subscription = subscription_get(pk)
    if not reads_live(request.user, KIND):
        # A read-only role: NetSuite's last answer; never read, NetSuite is asked once when
        # they ask (a button), then only by "Refresh from NetSuite" (views/snapshots.py).
        if request.GET.get("show") == "1":
            table = known_table(request, subscription, KIND)
        else:
            table = webhook_service.webhook_known(subscription=subscription)
        return _table(request, subscription, table, snapshot_context(subscription, KIND))
    table = webhook_service.webhook_table(
        subscription=subscription, refresh=request.GET.get("refresh") == "1", actor=request.user
    )
    return _table(request, subscription, table)


@require_GET
@require("toggle_webhooks")
def webhooks_overview(request):
    """Support's landing: the flags recorded for every subscription's deployments, each
    subscription linking to its Webhooks section. Recorded state only: NetSuite is not asked."""
    return render(
        request,
        "subscriptions/webhooks_overview.html",
        {"subscriptions": webhook_overview(), "nav": "webhooks"},
    )


def _saved_message(row, flag) -> str:
    what = f"{row.label} {flag}" if flag else f"{row.label} flags"
    if row.problem:
        return f"{what}: not saved. {row.problem.message}"
    if flag:
        return f"{what} {'on' if row.flags[flag] else 'off'}: NetSuite confirmed."
    return f"{what}: NetSuite confirmed."


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
        _with_last_events(subscription, [row])
        response = render(
            request,
            f"{WEBHOOKS_TEMPLATE}#row",
            {"subscription": subscription, "row": row, "return_to": request.POST.get("next", "")},
        )
        # After the row is swapped in: announce the result and give the checkbox its focus back.
        trigger_client_event(
            response,
            SAVED_EVENT,
            {
                "message": _saved_message(row, flag),
                "focus": f"webhook-{sdid}-{flag}" if flag else "",
            },
            after="settle",
        )
        if not row.problem:
            # NetSuite confirmed: the Overview's NetSuite summary asks for itself again.
            trigger_client_event(response, WEBHOOKS_CHANGED)
        return response
    if row.problem:
        flash(request, row.problem)
    else:
        messages.success(request, f"{row.label}: NetSuite confirmed the webhook flags.")
    return back(request, "subscriptions:detail", pk=subscription.pk)


def _confirm(request, subscription, *, title: str, detail: str, button: str, fields: dict):
    """The confirmation step of a bulk write (without JavaScript, or an unconfirmed request)."""
    context = {
        "subscription": subscription,
        "confirm": {
            "title": title,
            "detail": detail,
            "button": button,
            "fields": fields,
            "action": request.path,
        },
        "return_to": request.POST.get("next", ""),
        "nav": "subscriptions",
    }
    template = partial_or_page(request, WEBHOOKS_TEMPLATE, "confirm_bulk")
    return render(request, template, context)


def _confirmed(request) -> bool:
    return request.POST.get("confirmed") == "1"


def _bulk_done(request, subscription, result):
    table = result.table
    if is_partial(request):
        return trigger_client_event(_table(request, subscription, table), WEBHOOKS_CHANGED)
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
    if not _confirmed(request):
        verb = "Enable" if enabled == "1" else "Disable"
        scope = f"the {MODULE_LABELS[module]} module" if module else "every module"
        return _confirm(
            request,
            subscription,
            title=f"{verb} all webhooks of {scope}?",
            detail=" ".join(
                (
                    "NetSuite is told to switch create, update and delete",
                    "on" if enabled == "1" else "off",
                    f"for every deployment of {scope} of {subscription.name},",
                    "whatever each is set to now.",
                )
            ),
            button=f"{verb} all",
            fields={"enabled": enabled, "module": module or ""},
        )
    result = webhook_service.webhook_set_all(
        subscription=subscription, enabled=enabled == "1", module=module, actor=request.user
    )
    return _bulk_done(request, subscription, result)


@require_POST
@require("toggle_webhooks")
def webhook_reapply(request, pk):
    subscription = subscription_get(pk)
    if not _confirmed(request):
        return _confirm(
            request,
            subscription,
            title="Re-apply the recorded state?",
            detail=(
                "NetSuite is sent the flags this dashboard last recorded for every deployment "
                f"of {subscription.name}, replacing whatever NetSuite has now (for example after "
                "a sandbox refresh)."
            ),
            button="Re-apply the recorded state",
            fields={},
        )
    result = webhook_service.webhook_reapply(subscription=subscription, actor=request.user)
    return _bulk_done(request, subscription, result)
