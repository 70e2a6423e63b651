"""The records initialization and inventory polling stored, one data type of one subscription
at a time, searched."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..permissions import require
from ..selectors.records import PAGE_SIZE, record_search
from ..selectors.subscriptions import subscription_get
from ..services.polling import RECORD_TYPES


@require_GET
@require("view_jobs")
def records(request, pk, record_type):
    subscription = subscription_get(pk)
    data_type = RECORD_TYPES.get(record_type)
    if data_type is None:
        raise Http404("No such data type.")
    query = request.GET.get("q", "")[:200]
    page = Paginator(record_search(subscription, record_type, query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "subscription": subscription,
        "data_type": data_type,
        "types": RECORD_TYPES.values(),
        "page": page,
        "q": query,
        "nav": "subscriptions",
    }
    return render(request, "records/list.html", context)
