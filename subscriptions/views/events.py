"""The Events section of a subscription: inbound webhook events with filters, and Manual sync
(read one record from NetSuite now)."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ..forms.events import EventFilterForm, ManualSyncForm
from ..permissions import has_perm, require
from ..selectors import events as selectors
from ..selectors.subscriptions import subscription_get
from ..services import manual_sync as manual_sync_service
from ..services.errors import InvalidInput
from .htmx import is_partial, partial_or_page

EVENTS_TEMPLATE = "events/list.html"
PAGE_SIZE = 50
# What ManualSyncForm takes as an internal ID.
SYNCABLE_ID = re.compile(r"^[0-9]{1,18}$")


def _context(request, subscription, *, sync_form=None, synced=None, notice=None) -> dict:
    form = EventFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
    page = None
    if form.is_valid() or not form.is_bound:
        page = Paginator(selectors.event_list(subscription, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    can_sync = has_perm(request.user, "toggle_webhooks")
    for row in page or ():
        # "Sync this record" on a row: its module and external ID are what Manual sync asks
        # for, when that ID is a NetSuite internal ID (the form's own check).
        row["syncable"] = can_sync and bool(SYNCABLE_ID.match(row["external_id"] or ""))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "subscription": subscription,
        "form": form,
        "page": page,
        "filter_query": params.urlencode(),
        "sync_form": sync_form or ManualSyncForm(),
        "can_sync": can_sync,
        "synced": synced,
        "notice": notice,
        "nav": "subscriptions",
    }


@require_GET
@require("view_inbound_events")
def events(request, pk):
    subscription = subscription_get(pk)
    context = _context(request, subscription)
    return render(request, partial_or_page(request, EVENTS_TEMPLATE, "results"), context)


@require_POST
@require("view_inbound_events", "toggle_webhooks")
def events_manual_sync(request, pk):
    subscription = subscription_get(pk)
    form = ManualSyncForm(request.POST)
    synced = notice = None
    status = 200
    if not form.is_valid():
        status = 400
    else:
        try:
            synced = manual_sync_service.manual_sync_fetch(
                subscription=subscription,
                module=form.cleaned_data["module"],
                internal_id=form.cleaned_data["internal_id"],
                actor=request.user,
            )
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            status = 400
        except manual_sync_service.ManualSyncError as exc:
            notice = exc.problem  # shown with the page, as the other NetSuite reads do
    context = _context(request, subscription, sync_form=form, synced=synced, notice=notice)
    # HTMX swaps only 2xx answers by default: the partial carries the outcome at 200.
    return render(
        request,
        partial_or_page(request, EVENTS_TEMPLATE, "manual_sync"),
        context,
        status=200 if is_partial(request) else status,
    )
