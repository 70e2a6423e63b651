"""Answers shaped like NetSuite's ("Collection Paging", "Executing SuiteQL Queries Through REST
Web Services"): SuiteQL rows carry only the selected columns, lower-cased, checkboxes as "T"/"F",
null columns left out; every collection page links self, next (more follow), previous (not the
first page), first and last."""

from urllib.parse import parse_qs, urlsplit

import pytest

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"


def _links(page) -> dict[str, int]:
    return {
        link["rel"]: int(parse_qs(urlsplit(link["href"]).query)["offset"][0])
        for link in page["links"]
    }


def test_suiteql_rows_carry_only_the_selected_columns_in_lower_case(client):
    page = client.records.suiteql_page("SELECT ID, IsInactive FROM location ORDER BY id", limit=2)
    assert page["items"][0] == {"links": [], "id": "1", "isinactive": "F"}


def test_suiteql_leaves_null_columns_out(client):
    new_id = client.records.create(AUTH_DETAILS, {"name": "Sparse"})
    rows = list(client.records.suiteql(
        f"SELECT id, name, custrecord_otg_ipaas_webhook FROM {AUTH_DETAILS} ORDER BY id"
    ))
    assert rows[-1] == {"id": new_id, "name": "Sparse"}
    assert rows[0]["custrecord_otg_ipaas_webhook"].startswith("https://")


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, {"self": 0, "next": 5, "first": 0, "last": 10}),
        (5, {"self": 5, "next": 10, "previous": 0, "first": 0, "last": 10}),
        (10, {"self": 10, "previous": 5, "first": 0, "last": 10}),
    ],
)
def test_collection_pages_link_self_next_previous_first_and_last(client, offset, expected):
    # 12 locations in pages of 5: offsets 0, 5 and 10.
    record_page = client.records.list_page("location", limit=5, offset=offset)
    assert _links(record_page) == expected
    suiteql_page = client.records.suiteql_page(
        "SELECT id FROM location ORDER BY id", limit=5, offset=offset
    )
    assert _links(suiteql_page) == expected


def test_the_clients_next_offset_is_the_one_netsuite_links(client, sim):
    # The client counts offsets itself; they must be the pages NetSuite's next links name.
    rows = list(client.records.suiteql("SELECT id FROM location ORDER BY id", page_size=5))
    assert [r["id"] for r in rows] == [str(n) for n in range(1, 13)]
    asked = [
        int(parse_qs(r["query"])["offset"][0])
        for r in sim.requests_seen() if r["kind"] == "suiteql"
    ]
    assert asked == [0, 5, 10]
    linked = [
        _links(client.records.suiteql_page(
            "SELECT id FROM location ORDER BY id", limit=5, offset=at
        )).get("next")
        for at in asked
    ]
    assert linked == [5, 10, None]
