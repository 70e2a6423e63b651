"""A subscription's History section: its entries of the audit trail, with the trail's filters
(person, action, dates) and keyset pages; each entry links to the event in the trail."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..permissions import require
from ..selectors.subscriptions import subscription_get
from .audit import trail_context
from .htmx import is_partial

HISTORY_TEMPLATE = "subscriptions/history.html"
# The trail's own results (filters, table, pager) serve a filter or page change in place.
RESULTS_PARTIAL = "audit/list.html#results"


@require_GET
@require("view_subscription", "view_auditevent")
def subscription_history(request, pk):
    subscription = subscription_get(pk)
    context = trail_context(request, subscription=subscription)
    context.update(subscription=subscription, nav="subscriptions")
    template = RESULTS_PARTIAL if is_partial(request) else HISTORY_TEMPLATE
    return render(request, template, context)
