"""REST record API, SuiteQL and governance limits.

Listing a record type returns only IDs (at most 1000 per page), so reading N full records that
way costs ``ceil(N/1000)`` list calls plus N gets. SuiteQL returns up to 1000 full rows per call
(``ceil(N/1000)`` calls in all), which is why bulk reads (initialization) go through
:meth:`RecordsAPI.suiteql`. SuiteQL needs the ``Prefer: transient`` header.

SuiteQL pages are separate runs of the query: without a unique sort order two pages may come
from differently ordered runs and rows go missing or repeat (Oracle: "The query definition must
provide a unique and unambiguous sorting order"). The client cannot see which columns are
unique, so it asks for the next best thing it can check: a query that spans more than one page
must end with ``ORDER BY ...`` whose *last* key is a unique column (``id`` by default, also as
``alias.id``, with or without ASC/DESC). Offsets are always whole multiples of the page size,
as NetSuite requires.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .accounts import METADATA_PATH, api_url_for
from .api import NetSuiteAPI
from .errors import (
    BadRequestError,
    GovernanceNotPermittedError,
    MetadataReferenceCycleError,
    MetadataReferenceError,
    MetadataReferenceLimitError,
    MetadataReferenceRefusedError,
    NetSuiteError,
    NotFoundError,
    RecordPermissionError,
    ScopeError,
    SuiteQLRecordNotFoundError,
    UnexpectedResponseError,
    UnstablePagingError,
)

MAX_PAGE_SIZE = 1000
MAX_SUITEQL_ROWS = 100_000
UNIQUE_COLUMNS = ("id",)
# NetSuite documents no status for "only administrators may read governanceLimits".
GOVERNANCE_REFUSALS = frozenset({400, 401, 403, 404})

# NetSuite's words for a SuiteQL table it cannot find (absent, or hidden from the role).
# Not "Field 'x' for record 'y' was not found", which names a column.
_MISSING_TABLE = re.compile(r"(?:^|: )Record '(?P<table>[^']{1,100})' was not found")
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_ORDER_BY = re.compile(r"\border\s+by\s+", re.IGNORECASE)
_NULLS = re.compile(r"\s+nulls\s+(?:first|last)$", re.IGNORECASE)
_DIRECTION = re.compile(r"\s+(?:asc|desc)$", re.IGNORECASE)


def ordered_by_unique_key(query: str, unique_columns: tuple[str, ...] = UNIQUE_COLUMNS) -> bool:
    """True when the query's final ORDER BY ends with one of ``unique_columns``.

    Only the outermost, last ORDER BY counts (one inside a sub-query orders nothing), and
    quoted text is ignored so ``WHERE name = 'order by id'`` is no ORDER BY.
    """
    text = _STRING_LITERAL.sub("''", query).strip().rstrip(";").strip()
    matches = list(_ORDER_BY.finditer(text))
    if not matches:
        return False
    clause = text[matches[-1].end():]
    if ")" in clause:
        return False
    last = clause.split(",")[-1].strip()
    last = _DIRECTION.sub("", _NULLS.sub("", last)).strip()
    column = last.rsplit(".", 1)[-1].strip().strip('"').lower()
    return column in {c.lower() for c in unique_columns}


# SuiteQL is Oracle SQL underneath: a bare string is no datetime, and a datetime without a
# zone would be read in the session's time zone (the integration role's preference). An
# explicit UTC offset compares the same whatever that preference is.
SUITEQL_TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS TZH:TZM"


def suiteql_timestamp(moment: dt.datetime) -> str:
    """``moment`` as a SuiteQL expression, in UTC and whole seconds (rounded down, so a
    ``>=`` comparison also finds what changed within that second)."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware.")
    utc = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")
    return f"TO_TIMESTAMP_TZ('{utc}', '{SUITEQL_TIMESTAMP_FORMAT}')"


def _check_page_size(page_size: int) -> int:
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    return page_size


def _page(data: Any, what: str) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise UnexpectedResponseError(f"NetSuite's {what} answer has no list of items.")
    return data


def _check_offset(page: dict, requested: int) -> None:
    # A page that starts elsewhere than asked would silently skip or repeat rows.
    answered = page.get("offset", requested)
    try:
        same = int(answered) == requested
    except (TypeError, ValueError):
        same = False
    if not same:
        raise UnexpectedResponseError(
            f"NetSuite answered the page at offset {answered!r} when {requested} was asked for."
        )


def _item_id(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise UnexpectedResponseError("NetSuite's record list holds an item without an id.")
    return str(value)


SCHEMA_JSON = "application/schema+json"
# Oracle's help ("Sending an Asynchronous Request Using an Idempotency Key") shows the header
# with Prefer: respond-async; whether a synchronous create honours it is not documented, so
# the client sends it as a safeguard and never relies on it: a create is not repeated anyway.
IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
# A sales order's line fields sit two references deep (sublist -> collection -> element); ten
# leaves room for NetSuite nesting more while a looping or endless chain still ends quickly.
MAX_METADATA_REFERENCES = 10
_CATALOG_ENTRY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,199}")


def metadata_reference_url(client: NetSuiteAPI, ref: str, base: str) -> str:
    """Where a ``$ref`` found in the document at ``base`` points, if that is an entry of the
    account's own metadata catalog; refused otherwise.

    The bearer token goes with every catalog read, so an answer must not choose where it goes:
    only the account's SuiteTalk origin (or its real NetSuite host, re-rooted there when a base
    URL is set) and only ``…/metadata-catalog/<name>``. A relative reference is read against
    the document it came from, as JSON Schema does.
    """
    try:
        target = urlsplit(urljoin(base, ref.strip()))
    except ValueError:  # an unreadable address ("http://[x"): nothing to follow
        raise MetadataReferenceRefusedError(detail=f"$ref {ref[:200]!r}") from None
    own = {client.urls.suitetalk_origin.lower(),
           "{0.scheme}://{0.netloc}".format(urlsplit(api_url_for(client.urls.account_id)))}
    name = target.path.removeprefix(METADATA_PATH + "/")
    if (
        f"{target.scheme}://{target.netloc}".lower() not in own
        or target.username is not None
        or not target.path.startswith(METADATA_PATH + "/")
        or not _CATALOG_ENTRY.fullmatch(name)
        or target.query
        or target.fragment
    ):
        where = target.hostname or "no host"
        raise MetadataReferenceRefusedError(
            detail=f"$ref to {where}{target.path[:200]}",
        )
    return f"{client.urls.suitetalk_origin}{METADATA_PATH}/{name}"


@dataclass(frozen=True)
class FieldPresence:
    """Which of the asked-for fields a record type's metadata lists.

    ``body`` maps each body field to present or not; ``sublists`` maps each sublist to its
    line fields (a missing sublist makes all of its fields absent).
    """

    record_type: str
    body: dict[str, bool]
    sublists: dict[str, dict[str, bool]]

    @property
    def missing(self) -> list[str]:
        """Absent fields, line fields as ``sublist.field``."""
        found = [name for name, present in self.body.items() if not present]
        for sublist, fields in self.sublists.items():
            found += [f"{sublist}.{name}" for name, present in fields.items() if not present]
        return found

    @property
    def complete(self) -> bool:
        return not self.missing


def _properties(schema: Any) -> dict | None:
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        return schema["properties"]
    return None


def _permission(exc: ScopeError, record_type: str) -> RecordPermissionError:
    return RecordPermissionError(
        f"The integration's role may not read the NetSuite record type {record_type}.",
        code=exc.code, detail=exc.detail, status=exc.status,
    )


class RecordsAPI:
    def __init__(self, client: NetSuiteAPI) -> None:
        self.client = client

    def _read(self, record_type: str, url: str, **kwargs) -> Any:
        """A GET whose 403 means "this role may not read it", not "wrong scope"."""
        try:
            return self.client.request_json("GET", url, **kwargs)
        except ScopeError as exc:
            if exc.status == 403 and "scope" not in (exc.detail or "").lower():
                raise _permission(exc, record_type) from None
            raise

    def metadata(self, record_type: str) -> dict:
        """The record type's JSON Schema from the metadata catalog (custom fields included).

        Raises :class:`~netsuite.errors.NotFoundError` when the type does not exist and
        :class:`~netsuite.errors.RecordPermissionError` when the role may not read it.
        """
        data = self._read(
            record_type, self.client.urls.metadata_url(record_type),
            headers={"Accept": SCHEMA_JSON},
        )
        if _properties(data) is None:
            raise UnexpectedResponseError(
                f"NetSuite's metadata for {record_type} is not a JSON Schema with properties."
            )
        return data

    def _resolve(self, record_type: str, spec: Any, chain: list[str]) -> Any:
        """``spec`` with its ``$ref``s followed until one without. ``chain`` holds the catalog
        documents read so far, the record type's own first and the one ``spec`` comes from
        last, so a cycle or an endless chain ends in a typed error instead of a hang."""
        while isinstance(spec, dict) and isinstance(spec.get("$ref"), str):
            url = metadata_reference_url(self.client, spec["$ref"], chain[-1])
            name = url.rsplit("/", 1)[-1]
            # Catalog names are case-insensitive, as record types are (salesOrder = salesorder).
            if url.lower() in (seen.lower() for seen in chain):
                raise MetadataReferenceCycleError(
                    detail=f"{chain[-1].rsplit('/', 1)[-1]} refers back to {name}",
                )
            if len(chain) > MAX_METADATA_REFERENCES:
                raise MetadataReferenceLimitError(
                    detail=f"more than {MAX_METADATA_REFERENCES} references from {record_type}",
                )
            chain.append(url)
            try:
                spec = self._read(record_type, url, headers={"Accept": SCHEMA_JSON})
            except NotFoundError as exc:
                raise MetadataReferenceError(
                    f"NetSuite's metadata catalog refers to {name}, which it does not have.",
                    code=exc.code, detail=exc.detail, status=exc.status,
                ) from None
            if not isinstance(spec, dict):
                raise UnexpectedResponseError(
                    f"NetSuite's metadata catalog entry {name} is not a JSON Schema."
                )
        return spec

    def _line_properties(self, record_type: str, schema: dict, sublist: str) -> dict | None:
        # NetSuite answers a sublist by reference (item -> salesOrder-itemCollection, whose
        # items.items -> salesOrder-itemElement); the same shape may also come nested in place
        # (sublist.properties.items.items.properties), or the element schema directly.
        chain = [self.client.urls.metadata_url(record_type)]
        spec = self._resolve(record_type, (_properties(schema) or {}).get(sublist), chain)
        if not isinstance(spec, dict):
            return None
        element: Any = spec
        inner = _properties(spec)
        if inner is not None and isinstance(inner.get("items"), dict):
            array = self._resolve(record_type, inner["items"], chain)
            element = array.get("items", array)
        elif isinstance(spec.get("items"), dict):
            element = spec["items"]
        return _properties(self._resolve(record_type, element, chain))

    def fields_present(
        self,
        record_type: str,
        body_fields: Iterable[str] = (),
        sublist_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> FieldPresence:
        """Which of ``body_fields`` and ``sublist_fields`` (``{"item": ["custcol_..."]}``)
        the record type has, read from its metadata (errors as :meth:`metadata`; a sublist's
        references that leave the account's catalog, loop or nest too deep raise a
        :class:`~netsuite.errors.MetadataReferenceError`)."""
        schema = self.metadata(record_type)
        properties = _properties(schema) or {}
        body = {name: name in properties for name in body_fields}
        sublists = {}
        for sublist, names in (sublist_fields or {}).items():
            line = self._line_properties(record_type, schema, sublist) or {}
            sublists[sublist] = {name: name in line for name in names}
        return FieldPresence(record_type=record_type, body=body, sublists=sublists)

    def list_page(self, record_type: str, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> dict:
        """One page of a record collection: ``items`` (IDs), ``hasMore``, ``totalResults``."""
        url = self.client.urls.record_url(record_type)
        data = self._read(
            record_type, url, params={"limit": _check_page_size(limit), "offset": int(offset)}
        )
        return _page(data, "record list")

    def list_ids(self, record_type: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[str]:
        """Every ID of a record type, page by page."""
        offset = 0
        while True:
            page = self.list_page(record_type, page_size, offset)
            _check_offset(page, offset)
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
        data = self._read(record_type, url, params=params)
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

    def create(
        self, record_type: str, fields: dict, *, idempotency_key: str | None = None
    ) -> str | None:
        """Create a record; returns its ID from the ``Location`` header when NetSuite gives it.

        The POST carries ``X-NetSuite-Idempotency-Key`` (a fresh UUID unless the caller
        repeats one logical create with its own key) and is never repeated by the transport
        once NetSuite may have stored it: a 5xx or a broken connection raises instead. NetSuite
        answers a key it has already seen with 400 ``IDEMPOTENCY_ERROR``
        (:class:`~netsuite.errors.BadRequestError`), never with a second record.
        """
        url = self.client.urls.record_url(record_type)
        response = self.client.request(
            "POST", url, json=fields,
            headers={IDEMPOTENCY_HEADER: idempotency_key or str(uuid.uuid4())},
            idempotent=False,
        )
        location = response.headers.get("Location", "")
        return location.rstrip("/").rsplit("/", 1)[-1] or None

    def suiteql_page(self, query: str, *, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> dict:
        try:
            data = self.client.request_json(
                "POST",
                self.client.urls.suiteql_url,
                json={"q": query},
                params={"limit": _check_page_size(limit), "offset": int(offset)},
                headers={"Prefer": "transient"},
                # A read sent as POST: repeating it changes nothing.
                idempotent=True,
            )
        except BadRequestError as exc:
            found = _MISSING_TABLE.search(exc.detail or "")
            if found is None:
                raise
            raise SuiteQLRecordNotFoundError(
                f"NetSuite's SuiteQL cannot find the record type {found['table']}: it is not "
                "in this account or the integration's role may not read it.",
                code=exc.code, detail=exc.detail, status=exc.status,
            ) from None
        return _page(data, "SuiteQL")

    def suiteql(
        self,
        query: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        unique_columns: tuple[str, ...] = UNIQUE_COLUMNS,
    ) -> Iterator[dict]:
        """Every row of a SuiteQL query (lower-case column keys, NetSuite's ``links`` dropped).

        Raises :class:`~netsuite.errors.UnstablePagingError` before yielding anything when the
        query spans pages without a final ``ORDER BY`` on one of ``unique_columns``.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a SuiteQL statement.")
        _check_page_size(page_size)
        stable = ordered_by_unique_key(query, unique_columns)
        offset = 0
        while True:
            page = self.suiteql_page(query, limit=page_size, offset=offset)
            _check_offset(page, offset)
            items = page["items"]
            if page.get("hasMore") and not items:
                raise UnexpectedResponseError("NetSuite said more rows follow but sent none.")
            if offset == 0 and page.get("hasMore") and not stable:
                raise UnstablePagingError(
                    "This SuiteQL query returns more than one page "
                    f"({page.get('totalResults', 'more than ' + str(page_size))} rows) but does "
                    f"not end with ORDER BY {' or '.join(unique_columns)}: NetSuite would lose "
                    "or repeat rows between pages."
                )
            for row in items:
                if isinstance(row, dict):
                    yield {k: v for k, v in row.items() if k != "links"}
            if not page.get("hasMore"):
                return
            # Always a whole page further: NetSuite refuses offsets between page starts.
            offset += page_size
            if offset >= MAX_SUITEQL_ROWS:
                raise UnexpectedResponseError(
                    "The SuiteQL query returns more than 100,000 rows, NetSuite's limit; "
                    "narrow it with a WHERE clause.",
                )

    def governance_limits(self) -> dict:
        """The account's and this integration's concurrency limits (administrator roles only).

        A refusal (400, 401, 403 or 404: NetSuite documents none) raises
        :class:`~netsuite.errors.GovernanceNotPermittedError` at once: no retry and no new
        token, since a 401 here means "not for this role", not "token expired".
        """
        # The token is settled first, so a refusal below can only be governanceLimits' own.
        self.client.fetch_token()
        try:
            data = self.client.request_json(
                "GET", self.client.urls.governance_url, renew_on_401=False
            )
        except NetSuiteError as exc:
            if exc.status in GOVERNANCE_REFUSALS:
                raise GovernanceNotPermittedError(
                    code=exc.code, detail=exc.detail, status=exc.status
                ) from None
            raise
        if not isinstance(data, dict):
            raise UnexpectedResponseError("NetSuite's governance limits answer is not an object.")
        return data
