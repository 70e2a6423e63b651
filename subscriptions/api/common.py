"""What several routers share: the id of a row in a path, a page of a list, one subscription."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import Http404
from ninja import Path, Query, Schema

from ..selectors.subscriptions import subscription_get
from .errors import not_found

# Ids fit a 64-bit column: anything else is a 422, never an overflow in the database.
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Text = Annotated[str, Query(max_length=200)]


class PageMeta(Schema):
    count: int
    limit: int
    offset: int


def page(queryset, *, limit: int, offset: int) -> tuple[list, dict]:
    """One slice of ``queryset`` and its count."""
    return list(queryset[offset : offset + limit]), {
        "count": queryset.count(),
        "limit": limit,
        "offset": offset,
    }


def clean(text: str) -> str:
    """A search text as the pages take it: no NUL (PostgreSQL refuses it in a parameter)."""
    return text.replace("\x00", "").strip()[:200]


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment without a zone is read as UTC (the API's zone, as every answer's)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def subscription_or_404(pk: int):
    try:
        return subscription_get(pk)
    except Http404:
        raise not_found(
            f"There is no subscription {pk}; GET /api/v1/subscriptions lists them."
        ) from None
