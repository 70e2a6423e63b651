"""SuiteQL paging as NetSuite does it: whole-page offsets, and no order without ORDER BY.

Oracle ("SuiteQL.runPaged(options)", "Using SuiteQL with SuiteTalk REST Web Services"): the
query must provide a unique and unambiguous sorting order to avoid duplicate or missing results.
The simulator orders an unordered query differently on every request, so only a client that
insists on a unique ORDER BY gets every row exactly once.
"""

import pytest
import requests

from netsuite.errors import BadRequestError, UnstablePagingError
from netsuite.records import ordered_by_unique_key
from netsuite.simulator import Simulator

from .helpers import ACCOUNT, FAST_RETRY

TOTAL = 97  # not a multiple of any page size below, so the last page is a short one


@pytest.fixture
def paging_client(make_client, ec_pair):
    with Simulator(record_counts={"customercategory": TOTAL}) as simulator:
        creds = simulator.provision(ACCOUNT, key_pair=ec_pair)
        yield simulator, make_client(creds, base_url=simulator.base_url, retry=FAST_RETRY)


def _page(client, query, limit, offset):
    return requests.post(
        client.urls.suiteql_url,
        params={"limit": limit, "offset": offset},
        json={"q": query},
        headers={
            "Authorization": f"Bearer {client.fetch_token().value}",
            "Prefer": "transient",
        },
        timeout=5,
    )


@pytest.mark.parametrize("page_size", [1, 3, 10, 32, 96, 97, 1000])
def test_every_row_exactly_once_with_order_by_whatever_the_page_size(paging_client, page_size):
    sim, client = paging_client
    rows = list(client.records.suiteql(
        "SELECT id, name FROM customercategory ORDER BY name, id", page_size=page_size
    ))
    ids = [row["id"] for row in rows]
    assert sorted(ids, key=int) == [str(n) for n in range(1, TOTAL + 1)]
    assert len(set(ids)) == TOTAL
    assert sim.stats()["calls"]["suiteql"] == -(-TOTAL // page_size)


def test_the_simulator_pages_an_unordered_query_inconsistently(paging_client):
    _, client = paging_client
    query = "SELECT id FROM customercategory"
    seen = []
    for offset in range(0, TOTAL, 10):
        answer = _page(client, query, 10, offset)
        assert answer.status_code == 200
        seen += [item["id"] for item in answer.json()["items"]]
    assert len(seen) == TOTAL
    # Each page came from a differently ordered run: some rows twice, so others never.
    assert len(set(seen)) < TOTAL


def test_the_client_refuses_to_page_an_unordered_query_before_yielding_a_row(paging_client):
    sim, client = paging_client
    rows = client.records.suiteql("SELECT id FROM customercategory", page_size=10)
    with pytest.raises(UnstablePagingError) as caught:
        next(rows)
    assert "ORDER BY id" in str(caught.value)
    assert sim.stats()["calls"]["suiteql"] == 1


def test_an_unordered_query_that_fits_one_page_is_read(paging_client):
    _, client = paging_client
    rows = list(client.records.suiteql("SELECT id FROM customercategory"))
    assert len({row["id"] for row in rows}) == TOTAL


def test_the_simulator_refuses_an_offset_that_is_not_a_multiple_of_the_limit(paging_client):
    _, client = paging_client
    answer = _page(client, "SELECT id FROM customercategory ORDER BY id", 10, 15)
    assert answer.status_code == 400
    detail = answer.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert detail["o:errorQueryParam"] == "offset"
    assert "multiple of the limit" in detail["detail"]
    with pytest.raises(BadRequestError):
        client.records.suiteql_page("SELECT id FROM customercategory", limit=10, offset=15)


@pytest.mark.parametrize(
    ("query", "stable"),
    [
        ("SELECT id FROM customer ORDER BY id", True),
        ("select id from customer order by ID desc;", True),
        ("SELECT c.id FROM customer c ORDER BY c.companyname ASC, c.id DESC", True),
        ("SELECT id FROM customer ORDER BY id NULLS LAST", True),
        ("SELECT id FROM customer ORDER BY companyname", False),
        ("SELECT id FROM customer ORDER BY id, companyname", False),
        ("SELECT id FROM customer", False),
        ("SELECT id FROM customer WHERE name = 'x order by id'", False),
        ("SELECT * FROM (SELECT id FROM customer ORDER BY id)", False),
    ],
)
def test_what_counts_as_a_unique_order_by(query, stable):
    assert ordered_by_unique_key(query) is stable


def test_another_unique_column_can_be_named(paging_client):
    _, client = paging_client
    query = "SELECT id, name FROM customercategory ORDER BY name"
    with pytest.raises(UnstablePagingError):
        list(client.records.suiteql(query, page_size=10))
    # The caller vouches that name is unique here (it is in the simulator's data).
    rows = list(client.records.suiteql(query, page_size=10, unique_columns=("name",)))
    assert len({row["id"] for row in rows}) == TOTAL
