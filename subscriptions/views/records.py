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

# SuiteQL answers a checkbox as "T" or "F".
_CHECKBOX = {"T": "Yes", "F": "No"}


def _cell(value) -> str:
    """One field as a person reads it: a checkbox as Yes/No, a list as its items."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return _CHECKBOX.get(value, value)
    if isinstance(value, list | tuple):
        return ", ".join(_cell(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def _columns(data_type, records) -> list[str]:
    """The fields read, in the query's order; a type read from no query (the alternate-id
    types) by the fields its records carry."""
    if data_type.columns:
        return list(data_type.columns)
    # Declared fields first, in their order (jsonb keeps no key order), then any others.
    names: dict[str, None] = dict.fromkeys(data_type.fields)
    for record in records:
        names.update(dict.fromkeys(record.fields or {}))
    return list(names) or ["id"]


def _table(data_type, records) -> tuple[list[dict], list[dict]]:
    columns = _columns(data_type, records)
    # The labels are the template's (the record_field_label filter).
    head = [{"name": name} for name in columns]
    rows = [
        {
            "internal_id": record.internal_id,
            "cells": [
                {
                    "name": column["name"],
                    "value": _cell(
                        record.internal_id if column["name"] == "id"
                        else (record.fields or {}).get(column["name"])
                    ),
                }
                for column in head
            ],
            "fetched_at": record.fetched_at,
        }
        for record in records
    ]
    return head, rows


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
    head, rows = _table(data_type, list(page.object_list))
    context = {
        "subscription": subscription,
        "data_type": data_type,
        "types": RECORD_TYPES.values(),
        "page": page,
        "head": head,
        "rows": rows,
        "q": query,
        "nav": "subscriptions",
    }
    return render(request, "records/list.html", context)
