"""REST record API, SuiteQL and governance limits.

Listing a record type returns only IDs (at most 1000 per page), so reading N full records that
way costs ``ceil(N/1000)`` list calls plus N gets. SuiteQL returns up to 1000 full rows per call
(``ceil(N/1000)`` calls in all), which is why bulk reads (initialization) go through
:meth:`RecordsAPI.suiteql`. SuiteQL needs the ``Prefer: transient`` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import UnexpectedResponseError

if TYPE_CHECKING:
    from .client import NetSuiteClient

MAX_PAGE_SIZE = 1000
MAX_SUITEQL_ROWS = 100_000


def _check_page_size(page_size: int) -> int:
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    return page_size


def _page(data: Any, what: str) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise UnexpectedResponseError(f"NetSuite's {what} answer has no list of items.")
    return data


def _item_id(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise UnexpectedResponseError("NetSuite's record list holds an item without an id.")
    return str(value)


class RecordsAPI:
    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client

    def list_page(self, record_type: str, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> dict:
        """One page of a record collection: ``items`` (IDs), ``hasMore``, ``totalResults``."""
        url = self.client.urls.record_url(record_type)
        data = self.client.request_json(
            "GET", url, params={"limit": _check_page_size(limit), "offset": int(offset)}
        )
        return _page(data, "record list")

    def list_ids(self, record_type: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[str]:
        """Every ID of a record type, page by page."""
        offset = 0
        while True:
            page = self.list_page(record_type, page_size, offset)
            items = page["items"]
            for item in items:
                yield _item_id(item)
            if not page.get("hasMore"):
                return
            if not items:
                raise UnexpectedResponseError("NetSuite said more records follow but sent none.")
            offset += page_size

    def get(
        self, record_type: str, record_id: str | int, *, params: dict | None = None
    ) -> dict:
        url = self.client.urls.record_url(record_type, record_id)
        data = self.client.request_json("GET", url, params=params)
        if not isinstance(data, dict):
            raise UnexpectedResponseError("NetSuite's record answer is not an object.")
        return data

    def patch(self, record_type: str, record_id: str | int, fields: dict) -> None:
        """Change only the given fields (NetSuite answers 204 No Content)."""
        if not isinstance(fields, dict) or not fields:
            raise ValueError("fields must be a non-empty dict of field IDs to values.")
        url = self.client.urls.record_url(record_type, record_id)
        response = self.client.request("PATCH", url, json=fields)
        if response.status_code not in (200, 204):
            raise UnexpectedResponseError(
                f"NetSuite answered the update with HTTP {response.status_code}, expected 204.",
                status=response.status_code,
            )

    def create(self, record_type: str, fields: dict) -> str | None:
        """Create a record; returns its ID from the ``Location`` header when NetSuite gives it."""
        url = self.client.urls.record_url(record_type)
        response = self.client.request("POST", url, json=fields)
        location = response.headers.get("Location", "")
        return location.rstrip("/").rsplit("/", 1)[-1] or None

    def suiteql_page(self, query: str, *, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> dict:
        data = self.client.request_json(
            "POST",
            self.client.urls.suiteql_url,
            json={"q": query},
            params={"limit": _check_page_size(limit), "offset": int(offset)},
            headers={"Prefer": "transient"},
        )
        return _page(data, "SuiteQL")

    def suiteql(self, query: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[dict]:
        """Every row of a SuiteQL query (lower-case column keys, NetSuite's ``links`` dropped)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a SuiteQL statement.")
        offset = 0
        while True:
            page = self.suiteql_page(query, limit=page_size, offset=offset)
            items = page["items"]
            for row in items:
                if isinstance(row, dict):
                    yield {k: v for k, v in row.items() if k != "links"}
            if not page.get("hasMore"):
                return
            if not items:
                raise UnexpectedResponseError("NetSuite said more rows follow but sent none.")
            offset += page_size
            if offset >= MAX_SUITEQL_ROWS:
                raise UnexpectedResponseError(
                    "The SuiteQL query returns more than 100,000 rows, NetSuite's limit; "
                    "narrow it with a WHERE clause.",
                )

    def governance_limits(self) -> dict:
        data = self.client.request_json("GET", self.client.urls.governance_url)
        if not isinstance(data, dict):
            raise UnexpectedResponseError("NetSuite's governance limits answer is not an object.")
        return data
