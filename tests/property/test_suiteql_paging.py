"""SuiteQL paging against the simulator, over HTTP, for any number of rows and any page size.

Every row comes back exactly once and in the query's order, in as many calls as there are
pages; a query without a unique ORDER BY that spans pages is refused before a row is yielded.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsuite.certificates import generate_key_and_certificate
from netsuite.client import NetSuiteClient
from netsuite.errors import UnstablePagingError
from netsuite.simulator import Simulator
from netsuite.transport import RetryPolicy

ACCOUNT = "1234567_SB1"
RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, max_total=2.0)


@cache
def ec_pair() -> tuple[str, str]:
    return generate_key_and_certificate("ec-p256")


def read_all(rows: int, query: str, page_size: int) -> tuple[list[dict], int]:
    """``(rows read, SuiteQL calls made)`` from a fresh simulator holding ``rows`` rows."""
    with Simulator(record_counts={"customercategory": rows}) as sim:
        credentials = sim.provision(ACCOUNT, key_pair=ec_pair())
        with NetSuiteClient(credentials, base_url=sim.base_url, retry=RETRY) as client:
            read = list(client.records.suiteql(query, page_size=page_size))
        return read, sim.stats()["calls"]["suiteql"]


def pages(rows: int, page_size: int) -> int:
    return max(1, -(-rows // page_size))


@settings(max_examples=30)
@given(
    rows=st.integers(0, 120),
    page_size=st.one_of(st.integers(1, 130), st.just(1000)),
    descending=st.booleans(),
    query=st.sampled_from(
        [
            "SELECT id, name FROM customercategory ORDER BY id{}",
            "SELECT * FROM customercategory ORDER BY id{} ",
            "select id, name from customercategory order by name{}, id;",
        ]
    ),
)
def test_every_row_exactly_once_in_order(rows, page_size, descending, query):
    read, calls = read_all(rows, query.format(" DESC" if descending else ""), page_size)
    ids = [int(row["id"]) for row in read]
    assert sorted(ids) == list(range(1, rows + 1))
    if "order by name" in query:
        names = [row["name"] for row in read]
        assert names == sorted(names, reverse=descending)
    else:
        assert ids == sorted(ids, reverse=descending)
    assert calls == pages(rows, page_size)


@settings(max_examples=15)
@given(rows=st.integers(2, 60), data=st.data())
def test_an_unordered_query_over_more_than_one_page_is_refused_before_any_row(rows, data):
    page_size = data.draw(st.integers(1, rows - 1), label="page_size")
    with pytest.raises(UnstablePagingError):
        read_all(rows, "SELECT id FROM customercategory", page_size)
