"""REST records, SuiteQL and governance limits against the simulator."""

import pytest
import requests

from netsuite.errors import BadRequestError, NotFoundError
from netsuite.simulator import Simulator

from .helpers import ACCOUNT, FAST_RETRY

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"


@pytest.fixture
def big_sim(ec_pair):
    with Simulator(record_counts={"customercategory": 2500, "location": 1000}) as simulator:
        yield simulator


@pytest.fixture
def big_client(big_sim, ec_pair):
    from netsuite.client import NetSuiteClient

    client = NetSuiteClient(big_sim.provision(ACCOUNT, key_pair=ec_pair),
                            base_url=big_sim.base_url, retry=FAST_RETRY)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("record_type", "page_size", "expected_calls"),
    [("customercategory", 1000, 3), ("customercategory", 999, 3), ("customercategory", 7, 358),
     ("location", 1000, 1), ("location", 500, 2)],
)
def test_paging_returns_every_record_exactly_once(
    big_sim, big_client, record_type, page_size, expected_calls
):
    ids = list(big_client.records.list_ids(record_type, page_size=page_size))
    total = 2500 if record_type == "customercategory" else 1000
    assert len(ids) == total
    assert len(set(ids)) == total
    assert big_sim.stats()["calls"]["record"] == expected_calls


@pytest.mark.parametrize("page_size", [1000, 300])
def test_suiteql_paging_returns_every_row_exactly_once(big_sim, big_client, page_size):
    query = "SELECT * FROM customercategory ORDER BY id"
    rows = list(big_client.records.suiteql(query, page_size=page_size))
    assert len(rows) == 2500
    assert len({row["id"] for row in rows}) == 2500
    assert big_sim.stats()["calls"]["suiteql"] == -(-2500 // page_size)
    assert rows[0] == {"id": "1", "name": "Customer category 1", "isinactive": "F"}


def test_suiteql_columns_and_order(client):
    rows = list(client.records.suiteql("select ID, Name from LOCATION order by id desc"))
    assert rows[0] == {"id": "12", "name": "Location 12"}
    assert len(rows) == 12


def test_suiteql_refusals(client):
    with pytest.raises(BadRequestError) as info:
        list(client.records.suiteql("DELETE FROM location"))
    assert info.value.code == "INVALID_PARAMETER"
    with pytest.raises(BadRequestError, match="nosuchtype"):
        list(client.records.suiteql("SELECT * FROM nosuchtype"))
    with pytest.raises(BadRequestError, match="colour"):
        list(client.records.suiteql("SELECT id, colour FROM location"))
    with pytest.raises(ValueError):
        list(client.records.suiteql("   "))


def test_suiteql_needs_prefer_transient(client):
    response = client.request(
        "POST", client.urls.suiteql_url, json={"q": "SELECT * FROM location"},
        headers={"Prefer": "transient"},
    )
    assert response.status_code == 200
    with pytest.raises(BadRequestError) as info:
        client.request("POST", client.urls.suiteql_url, json={"q": "SELECT * FROM location"})
    assert info.value.code == "INVALID_HEADER"


def test_page_size_above_1000_is_refused(client):
    with pytest.raises(ValueError, match="1000"):
        list(client.records.list_ids("location", page_size=1001))
    # And the simulator refuses it as NetSuite does.
    with pytest.raises(BadRequestError) as info:
        client.request("GET", client.urls.record_url("location"), params={"limit": 1001})
    assert (info.value.status, info.value.code) == (400, "INVALID_PARAMETER")


def test_list_page_shape(client):
    page = client.records.list_page(AUTH_DETAILS, limit=2, offset=0)
    assert page["count"] == 2 and page["hasMore"] is True and page["totalResults"] == 3
    assert [item["id"] for item in page["items"]] == ["1", "2"]
    assert page["items"][0]["links"][0]["rel"] == "self"
    assert [link["rel"] for link in page["links"]] == ["self", "next", "first", "last"]


def test_auth_details_entries(client):
    ids = list(client.records.list_ids(AUTH_DETAILS))
    names = [client.records.get(AUTH_DETAILS, i)["name"] for i in ids]
    assert names == ["Production", "Sandbox", "Beta"]
    record = client.records.get("CustomRecord_OTG_iPaaS_Auth_Details", 2)
    assert set(record) >= {
        "custrecord_otg_ipaas_webhook", "custrecord_otg_ipaas_access_token",
        "custrecord_otg_ipaas_tracking_guid",
    }


def test_patch_changes_only_the_given_fields(client):
    before = client.records.get(AUTH_DETAILS, 2)
    client.records.patch(AUTH_DETAILS, 2, {
        "custrecord_otg_ipaas_webhook": "https://stagingapi.ipaas.com/hookapi/v2/iPaaS1",
        "custrecord_otg_ipaas_access_token": "ElYhXzUC3Eg0ZGU2YWMzOS1jYTc5",
    })
    after = client.records.get(AUTH_DETAILS, 2)
    assert after["custrecord_otg_ipaas_access_token"] == "ElYhXzUC3Eg0ZGU2YWMzOS1jYTc5"
    assert after["name"] == before["name"]
    guid = "custrecord_otg_ipaas_tracking_guid"
    assert after[guid] == before[guid]


def test_patch_answers_204_with_location(client):
    response = client.request(
        "PATCH", client.urls.record_url(AUTH_DETAILS, 1), json={"name": "Production"}
    )
    assert response.status_code == 204
    assert response.headers["Location"].endswith(f"/{AUTH_DETAILS}/1")


def test_patch_with_unknown_field_is_refused_without_echoing_secrets(client):
    with pytest.raises(BadRequestError) as info:
        client.records.patch(AUTH_DETAILS, 1, {"custrecord_nope": 1})
    assert info.value.code == "INVALID_CONTENT"
    assert "custrecord_nope" in info.value.detail
    with pytest.raises(ValueError):
        client.records.patch(AUTH_DETAILS, 1, {})


def test_create_returns_the_new_id(client):
    new_id = client.records.create("location", {"name": "Warehouse 9"})
    assert client.records.get("location", new_id)["name"] == "Warehouse 9"


def test_missing_record_and_type(client):
    with pytest.raises(NotFoundError) as info:
        client.records.get(AUTH_DETAILS, 42)
    assert (info.value.status, info.value.code) == (404, "NONEXISTENT_ID")
    assert "bundle" in info.value.hint
    with pytest.raises(NotFoundError) as info:
        client.records.get("customrecord_missing", 1)
    assert info.value.code == "INVALID_RECORD_TYPE"


def test_governance_limits(sim, client, creds):
    limits = client.records.governance_limits()
    assert limits == {
        "accountConcurrencyLimit": 5,
        "accountUnallocatedConcurrencyLimit": 5,
        "integrationLimitType": "accountLimit",
    }
    sim.set_governance(creds.account_id, account_limit=15, integration_limits={
        creds.consumer_id: 4})
    limits = client.records.governance_limits()
    assert limits["accountConcurrencyLimit"] == 15
    assert limits["accountUnallocatedConcurrencyLimit"] == 11
    assert limits["integrationConcurrencyLimit"] == 4


def test_initialization_types_exist(client):
    for record_type in ("customercategory", "location", "paymentmethod", "shipitem"):
        rows = list(client.records.suiteql(f"SELECT id FROM {record_type}"))
        assert rows, record_type


def test_missing_bearer_is_invalid_login(sim, client):
    response = requests.get(client.urls.record_url("location"), timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert "Login Audit Trail" in body["o:errorDetails"][0]["detail"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": "many"}, {"offset": -1}])
def test_bad_paging_parameters_are_refused(client, params):
    with pytest.raises(BadRequestError) as info:
        client.request("GET", client.urls.record_url("location"), params=params)
    assert info.value.code == "INVALID_PARAMETER"
