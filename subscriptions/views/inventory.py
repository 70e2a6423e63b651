"""The Inventory section: the stock per item and location the last polls stored, searched,
filtered to what the last poll changed, sorted by any quantity or ID, paged."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from ..models import QUANTITY_FIELDS, InventoryLevel
from ..permissions import require
from ..selectors.inventory import PAGE_SIZE, SORTS, inventory_levels, last_poll, names
from ..selectors.subscriptions import subscription_get

COLUMNS = [
    ("item", "Item ID"),
    ("location", "Location ID"),
    *(
        (name, InventoryLevel._meta.get_field(name).verbose_name.capitalize())
        for name in QUANTITY_FIELDS
    ),
]


@require_GET
@require("view_jobs")
def inventory(request, pk):
    subscription = subscription_get(pk)
    query = request.GET.get("q", "")[:200]
    location = request.GET.get("location", "")[:200]
    changed = request.GET.get("changed") == "1"
    sort = request.GET.get("sort", "item")
    sort = sort if sort in SORTS else "item"
    descending = request.GET.get("dir") == "desc"
    poll = last_poll(subscription)
    if changed and poll is None:
        levels = InventoryLevel.objects.none()
    else:
        levels = inventory_levels(
            subscription,
            query=query,
            location=location,
            changed_in=poll.pk if changed else None,
            sort=sort,
            descending=descending,
        )
    page = Paginator(levels, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"q": query, "location": location, **({"changed": "1"} if changed else {})}
    context = {
        "subscription": subscription,
        "page": page,
        "rows": names(subscription, list(page.object_list)),
        "q": query,
        "location": location,
        "changed": changed,
        "sort": sort,
        "descending": descending,
        "last_poll": poll,
        "columns": [
            {
                "key": key,
                "label": label,
                "current": key == sort,
                "query": urlencode(
                    {
                        **filters,
                        "sort": key,
                        "dir": "asc"
                        if key == sort and descending
                        else ("desc" if key == sort else "asc"),
                    }
                ),
            }
            for key, label in COLUMNS
        ],
        "page_query": urlencode({**filters, "sort": sort, "dir": "desc" if descending else "asc"}),
        "nav": "subscriptions",
    }
    return render(request, "inventory/list.html", context)
