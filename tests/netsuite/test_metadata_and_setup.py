"""The metadata catalog and the setup-check knobs: each piece of the bundle the simulator is
told to leave out changes what the client sees."""

import pytest

from netsuite.accounts import METADATA_PATH
from netsuite.bundle import AUTH_DETAILS_FIELDS, TAX_BODY_FIELDS, TAX_LINE_FIELDS
from netsuite.errors import (
    BadRequestError,
    NotFoundError,
    RecordPermissionError,
    ScopeError,
    UnexpectedResponseError,
)
from netsuite.simulator.state import AUTH_DETAILS, DEPLOYMENT_SCRIPT_IDS

from .helpers import ACCOUNT

CUSTOMER_UE = DEPLOYMENT_SCRIPT_IDS[0]


def tax_presence(client):
    return client.records.fields_present(
        "salesorder", TAX_BODY_FIELDS, {"item": TAX_LINE_FIELDS}
    )


# -- metadata catalog --------------------------------------------------------------------------


def test_sales_order_schema_lists_the_tax_override_fields(sim, client):
    # The shape the simulator first served (and older answers may still have): in place.
    sim.set_metadata_shape(ACCOUNT, "inline")
    schema = client.records.metadata("salesOrder")
    props = schema["properties"]
    for name in TAX_BODY_FIELDS:
        assert props[name]["x-ns-custom-field"] is True
    line = props["item"]["properties"]["items"]["items"]["properties"]
    assert set(TAX_LINE_FIELDS) <= set(line)
    presence = tax_presence(client)
    assert presence.complete and presence.missing == []
    assert presence.sublists == {"item": {name: True for name in TAX_LINE_FIELDS}}


def test_custom_record_schema_lists_its_fields(client):
    presence = client.records.fields_present(AUTH_DETAILS, AUTH_DETAILS_FIELDS)
    assert presence.complete
    assert client.records.metadata(AUTH_DETAILS)["properties"][
        "custrecord_otg_ipaas_webhook"]["x-ns-custom-field"] is True


def test_the_catalog_answers_by_accept_header(sim, client):
    url = f"{sim.base_url}{METADATA_PATH}/salesorder"
    # Plain JSON is only the catalog entry: links, no fields.
    entry = client.request_json("GET", url, headers={"Accept": "application/json"})
    assert "properties" not in entry
    assert {link["mediaType"] for link in entry["links"]} >= {"application/schema+json"}
    swagger = client.request_json("GET", url, headers={"Accept": "application/swagger+json"})
    assert "salesorder" in swagger["components"]["schemas"]
    with pytest.raises(BadRequestError) as info:
        client.request("GET", url, headers={"Accept": "text/html"})
    assert info.value.status == 406
    with pytest.raises(BadRequestError):
        client.request("POST", url, json={})


def test_a_schema_without_properties_is_unexpected(sim, client):
    client.fetch_token()
    sim.add_fault(kind="record", path_prefix=METADATA_PATH, status=200, body={"name": "x"})
    with pytest.raises(UnexpectedResponseError):
        client.records.metadata("salesorder")


def test_an_unknown_type_has_no_metadata(client):
    with pytest.raises(NotFoundError) as info:
        client.records.metadata("customrecord_nothing")
    assert info.value.code == "INVALID_RECORD_TYPE"


# -- setup knobs -----------------------------------------------------------------------------


def test_a_deployment_can_be_missing_or_not_deployed(sim, client):
    listed = {d.scriptid: d for d in client.webhooks.list_deployments()}
    assert listed[CUSTOMER_UE].isdeployed
    sim.set_deployment(ACCOUNT, CUSTOMER_UE, "not_deployed")
    listed = {d.scriptid: d for d in client.webhooks.list_deployments()}
    assert listed[CUSTOMER_UE].isdeployed is False
    sim.set_deployment(ACCOUNT, CUSTOMER_UE, "missing")
    listed = {d.scriptid: d for d in client.webhooks.list_deployments()}
    assert CUSTOMER_UE not in listed and len(listed) == len(DEPLOYMENT_SCRIPT_IDS) - 1
    with pytest.raises(BadRequestError) as info:
        client.webhooks.set_flags(245, create=True, update=True, delete=True)
    assert info.value.code == "INVALID_ID"
    sim.set_deployment(ACCOUNT, CUSTOMER_UE, "deployed")
    assert CUSTOMER_UE in {d.scriptid for d in client.webhooks.list_deployments()}


def test_the_webhook_manager_can_be_undeployed(sim, client):
    sim.set_restlet_deployed(ACCOUNT, False)
    with pytest.raises(BadRequestError) as info:
        client.webhooks.list_deployments()
    assert info.value.status == 400 and info.value.code == "SSS_INVALID_SCRIPTLET_ID"
    sim.set_restlet_deployed(ACCOUNT, True)
    assert client.webhooks.list_deployments()


def test_the_custom_record_type_can_be_missing(sim, client):
    sim.set_record_type_present(ACCOUNT, AUTH_DETAILS, False)
    for call in (lambda: client.records.list_page(AUTH_DETAILS),
                 lambda: client.records.get(AUTH_DETAILS, 1),
                 lambda: client.records.metadata(AUTH_DETAILS)):
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.status == 404 and info.value.code == "INVALID_RECORD_TYPE"
    sim.set_record_type_present(ACCOUNT, AUTH_DETAILS, True)
    assert client.records.get(AUTH_DETAILS, 1)["custrecord_otg_ipaas_webhook"]


def test_a_custom_record_field_can_be_missing(sim, client):
    field = "custrecord_otg_ipaas_tracking_guid"
    sim.set_field_present(ACCOUNT, AUTH_DETAILS, field, False)
    assert field not in client.records.get(AUTH_DETAILS, 1)
    presence = client.records.fields_present(AUTH_DETAILS, AUTH_DETAILS_FIELDS)
    assert presence.missing == [field]
    with pytest.raises(BadRequestError) as info:
        client.records.patch(AUTH_DETAILS, 1, {field: "x"})
    assert field in info.value.detail
    sim.set_field_present(ACCOUNT, AUTH_DETAILS, field, True)
    assert client.records.fields_present(AUTH_DETAILS, AUTH_DETAILS_FIELDS).complete


@pytest.mark.parametrize("field", TAX_BODY_FIELDS)
def test_each_tax_header_field_can_be_missing(sim, client, field):
    sim.set_field_present(ACCOUNT, "salesorder", field, False)
    assert tax_presence(client).missing == [field]


@pytest.mark.parametrize("field", TAX_LINE_FIELDS)
def test_each_tax_line_field_can_be_missing(sim, client, field):
    sim.set_field_present(ACCOUNT, "salesorder", field, False, sublist="item")
    presence = tax_presence(client)
    assert presence.missing == [f"item.{field}"]
    assert presence.body == {name: True for name in TAX_BODY_FIELDS}


def test_a_role_without_permission_cannot_tell(sim, client, creds):
    sim.update_integration(creds.consumer_id, denied_records=[AUTH_DETAILS])
    for call in (lambda: client.records.get(AUTH_DETAILS, 1),
                 lambda: client.records.list_page(AUTH_DETAILS),
                 lambda: client.records.fields_present(AUTH_DETAILS, AUTH_DETAILS_FIELDS)):
        with pytest.raises(RecordPermissionError) as info:
            call()
        assert isinstance(info.value, ScopeError) and info.value.status == 403
        assert "Custom Record" in info.value.detail
    assert tax_presence(client).complete
    sim.update_integration(creds.consumer_id, denied_records=[], metadata_catalog_denied=True)
    with pytest.raises(RecordPermissionError):
        tax_presence(client)
    assert client.records.get(AUTH_DETAILS, 1)


def test_the_knobs_over_http(admin, client, creds):
    state = admin.set_deployment(ACCOUNT, CUSTOMER_UE, "missing")
    assert state["deployments"][CUSTOMER_UE] == "missing"
    admin.set_restlet_deployed(ACCOUNT, False)
    admin.set_record_type_present(ACCOUNT, AUTH_DETAILS, False)
    state = admin.set_field_present(ACCOUNT, "salesorder", TAX_LINE_FIELDS[0], False,
                                    sublist="item")
    assert state == admin.setup_state(ACCOUNT)
    assert state["restlet_deployed"] is False
    assert state["hidden_record_types"] == [AUTH_DETAILS]
    assert state["hidden_fields"] == [
        {"record_type": "salesorder", "sublist": "item", "field": TAX_LINE_FIELDS[0]}
    ]
    assert tax_presence(client).missing == [f"item.{TAX_LINE_FIELDS[0]}"]
    with pytest.raises(NotFoundError):
        client.records.metadata(AUTH_DETAILS)
    admin.update_integration(creds.consumer_id, metadata_catalog_denied=True)
    with pytest.raises(RecordPermissionError):
        client.records.metadata("salesorder")


def test_bad_knob_values_are_refused(sim, admin):
    from netsuite.simulator import SimulatorError, SimulatorRefused

    sim.state.account(ACCOUNT, create=True)
    for changes in ({"deployments": {"customdeploy_nope": "missing"}},
                    {"deployments": {CUSTOMER_UE: "gone"}},
                    {"record_types": {"customrecord_nope": False}},
                    {"fields": [{"field": "x"}]}):
        with pytest.raises(SimulatorError):
            sim.configure_setup(ACCOUNT, **changes)
    with pytest.raises(SimulatorRefused) as info:
        admin.configure_setup(ACCOUNT, nonsense=True)
    assert info.value.status == 400
