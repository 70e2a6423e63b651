"""A SuiteQL table the role may not read is answered as one that does not exist: NetSuite says
it cannot find the record. The client names the table and what to give the role."""

import pytest

from netsuite.errors import BadRequestError, SuiteQLRecordNotFoundError

QUERY = "SELECT id, name FROM location ORDER BY id"


def test_a_table_hidden_from_the_role_reads_as_not_found_with_what_to_do(sim, client, creds):
    assert client.records.suiteql_page(QUERY, limit=5)["items"]
    sim.update_integration(creds.consumer_id, denied_records=["location"])
    with pytest.raises(SuiteQLRecordNotFoundError) as info:
        client.records.suiteql_page(QUERY, limit=5)
    error = info.value
    assert isinstance(error, BadRequestError) and error.status == 400
    assert "Record 'location' was not found" in error.detail
    assert "location" in error.message
    assert "SuiteAnalytics Workbook" in error.hint and "View" in error.hint
    # Other tables stay readable: the refusal is per table.
    assert client.records.suiteql_page("SELECT id FROM paymentmethod ORDER BY id", limit=5)


def test_a_table_that_does_not_exist_gets_the_same_answer(client):
    with pytest.raises(SuiteQLRecordNotFoundError) as info:
        client.records.suiteql_page("SELECT id FROM nosuchtable ORDER BY id", limit=5)
    assert "nosuchtable" in info.value.message


def test_other_bad_queries_stay_plain_refusals(client):
    with pytest.raises(BadRequestError) as info:
        client.records.suiteql_page("SELECT nosuchcolumn FROM location ORDER BY id", limit=5)
    assert not isinstance(info.value, SuiteQLRecordNotFoundError)
