"""Writes that fail loudly. NetSuite's REST record API drops an unknown property name with only a
warning unless the request sends ``X-NetSuite-PropertyNameValidation: Error`` (values Error,
Warning, Ignore in the REST API Browser's request headers). The simulator does the same, and the
client asks for errors on every record write, so a misspelled custom field is refused instead of
quietly not being saved."""

import pytest
import requests

from netsuite.errors import BadRequestError

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"
MISSPELLED = {"custrecord_otg_ipaas_webhok": "https://example.com/hook"}


def _patch(client, body, **headers):
    return requests.patch(
        client.urls.record_url(AUTH_DETAILS, 1),
        json=body,
        headers={"Authorization": f"Bearer {client.fetch_token().value}", **headers},
        timeout=5,
    )


def test_without_the_header_an_unknown_field_is_dropped_and_the_write_succeeds(client):
    answer = _patch(client, {**MISSPELLED, "name": "Renamed"})
    assert answer.status_code == 204
    record = client.records.get(AUTH_DETAILS, 1)
    assert record["name"] == "Renamed"
    assert "custrecord_otg_ipaas_webhok" not in record


@pytest.mark.parametrize("value", ["Warning", "Ignore"])
def test_warning_and_ignore_let_the_write_through(client, value):
    answer = _patch(client, MISSPELLED, **{"X-NetSuite-PropertyNameValidation": value})
    assert answer.status_code == 204


def test_with_the_header_an_unknown_field_is_refused_with_its_path(client):
    answer = _patch(
        client, {**MISSPELLED, "name": "Renamed"}, **{"X-NetSuite-PropertyNameValidation": "Error"}
    )
    assert answer.status_code == 400
    detail = answer.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail["o:errorPath"] == "custrecord_otg_ipaas_webhok"
    # Refused as a whole: the valid field was not written either.
    assert client.records.get(AUTH_DETAILS, 1)["name"] == "Production"


def test_the_client_refuses_a_misspelled_field_in_a_patch(client):
    with pytest.raises(BadRequestError) as caught:
        client.records.patch(AUTH_DETAILS, 1, MISSPELLED)
    assert caught.value.status == 400
    assert "custrecord_otg_ipaas_webhok" in caught.value.detail
    assert client.records.get(AUTH_DETAILS, 1)["custrecord_otg_ipaas_webhook"] == (
        "https://api.ipaas.com/hookapi/v2/iPaaS1"
    )


def test_the_client_refuses_a_misspelled_field_in_a_create(client):
    with pytest.raises(BadRequestError):
        client.records.create(AUTH_DETAILS, {"name": "Extra", **MISSPELLED})
    assert len(list(client.records.list_ids(AUTH_DETAILS))) == 3


def test_the_client_asks_for_errors_on_writes_only(client, sim):
    client.records.patch(AUTH_DETAILS, 1, {"custrecord_otg_ipaas_webhook": "https://a.example"})
    client.records.create(AUTH_DETAILS, {"name": "Extra"})
    client.records.get(AUTH_DETAILS, 1)
    seen = {
        r["method"]: r["headers"].get("x-netsuite-propertynamevalidation")
        for r in sim.requests_seen() if r["kind"] == "record"
    }
    assert seen == {"PATCH": "Error", "POST": "Error", "GET": None}
