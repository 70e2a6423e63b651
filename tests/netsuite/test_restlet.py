"""The Webhook Manager RESTlet and the module mapping."""

import pytest
import requests

from netsuite.errors import BadRequestError
from netsuite.restlet import (
    CREATE_FLAG,
    DELETE_FLAG,
    MODULES,
    UPDATE_FLAG,
    WebhookManager,
    group_by_module,
    module_for_scriptid,
)

from .helpers import ACCOUNT


def test_modules_are_the_seven_of_the_seed():
    # The seed names the modules by label, in this order; each slug is its label in snake case.
    seed = (
        "Customer, Inventory Part, Kit Item, Location, Payment Method, Sales Order, Shipping Item"
    )
    assert [label for _, label in MODULES] == seed.split(", ")
    assert all(slug == label.lower().replace(" ", "_") for slug, label in MODULES)
    assert WebhookManager.SCRIPT == "customscript_otg_ipaas_webhook_manager"
    assert WebhookManager.DEPLOY == "customdeploy_otg_ipaas_webhook_manager"


@pytest.mark.parametrize(
    ("scriptid", "module"),
    [
        ("customdeploy_otg_ipaas_customer_sync_ue", "customer"),
        ("CUSTOMDEPLOY_OTG_IPAAS_CUSTOMER_SYNC_UE", "customer"),
        ("customdeploy_otg_ipaas_inventorypart_sync_ue", "inventory_part"),
        ("customdeploy_otg_ipaas_inventory_part_sync_ue", "inventory_part"),
        ("customdeploy_otg_ipaas_kititem_sync_ue", "kit_item"),
        ("customdeploy_otg_ipaas_kit_item_ue", "kit_item"),
        ("customdeploy_otg_ipaas_location_sync_ue", "location"),
        ("customdeploy_otg_ipaas_paymentmethod_sync_ue", "payment_method"),
        ("customdeploy_otg_ipaas_salesorder_sync_ue", "sales_order"),
        ("customdeploy_otg_ipaas_sales_order_sync_ue2", "sales_order"),
        ("customdeploy_otg_ipaas_shipitem_sync_ue", "shipping_item"),
        ("customdeploy_otg_ipaas_shippingitem_sync_ue", "shipping_item"),
        ("customdeploy_otg_ipaas_vendor_sync_ue", None),
        ("customdeploy_otg_ipaas_customercategory_sync_ue", None),
        ("customdeploy1", None),
        ("", None),
    ],
)
def test_module_for_scriptid(scriptid, module):
    assert module_for_scriptid(scriptid) == module


def test_list_deployments_places_seven_and_keeps_the_unknown(client):
    deployments = client.webhooks.list_deployments()
    assert len(deployments) == 8
    first = deployments[0]
    assert first.scriptdeploymentid == 245
    assert first.scriptid == "customdeploy_otg_ipaas_customer_sync_ue"
    assert first.isdeployed is True and first.runasrole == 3 and first.deploymentid == 1
    assert first.raw["isdeployed"] == "T"
    assert first.module == "customer" and first.module_label == "Customer"
    groups = group_by_module(deployments)
    assert [len(groups[slug]) for slug, _ in MODULES] == [1] * 7
    assert [d.scriptid for d in groups[None]] == ["customdeploy_otg_ipaas_vendor_sync_ue"]


def test_set_flags_is_visible_in_the_simulator(sim, client):
    answer = client.webhooks.set_flags(250, create=True, update=True, delete=False)
    assert answer["success"] is True and answer["id"] == 250
    assert answer[CREATE_FLAG] is True and answer[DELETE_FLAG] is False
    assert sim.webhook_flags(ACCOUNT)[250] == {"create": True, "update": True, "delete": False}
    client.webhooks.put_flags(250, create=False, update=True, delete=True)
    assert sim.webhook_flags(ACCOUNT)[250] == {"create": False, "update": True, "delete": True}
    client.webhooks.delete_subscription(250)
    assert sim.webhook_flags(ACCOUNT)[250] == {"create": False, "update": False, "delete": False}
    # The other deployments were not touched.
    assert sim.webhook_flags(ACCOUNT)[245] == {"create": False, "update": False, "delete": False}


def test_admin_endpoint_reports_flags(admin, client):
    client.webhooks.set_flags(245, create=True, update=False, delete=True)
    flags = admin.webhook_flags(ACCOUNT)
    assert flags[245] == {"create": True, "update": False, "delete": True}
    assert flags[246] == {"create": False, "update": False, "delete": False}


def test_unknown_deployment_id(client):
    with pytest.raises(BadRequestError) as info:
        client.webhooks.set_flags(999, create=True, update=True, delete=True)
    assert (info.value.status, info.value.code) == (400, "INVALID_ID")
    with pytest.raises(BadRequestError):
        client.webhooks.delete_subscription(999)


def test_flags_must_be_booleans(client):
    with pytest.raises(ValueError):
        client.webhooks.set_flags(245, create="yes", update=True, delete=True)


def test_seed_partial_payload(sim, client):
    url = client.webhooks.url
    client.request("POST", url, json={"id": 245, CREATE_FLAG: True, UPDATE_FLAG: True})
    client.request("POST", url, json={"id": 245, CREATE_FLAG: False})
    assert sim.webhook_flags(ACCOUNT)[245] == {"create": False, "update": True, "delete": False}


def test_restlet_refusals(sim, client):
    url = client.webhooks.url
    with pytest.raises(BadRequestError) as info:
        client.request("GET", url, json={"id": 245})
    assert info.value.status == 400
    with pytest.raises(BadRequestError) as info:
        client.request("POST", url, headers={"Content-Type": "text/plain"}, json={"id": 245})
    assert info.value.status == 415
    wrong = client.urls.restlet_url("customscript_other", "customdeploy_other")
    with pytest.raises(BadRequestError) as info:
        client.request("GET", wrong)
    assert info.value.code == "SSS_INVALID_SCRIPTLET_ID"
    with pytest.raises(BadRequestError) as info:
        client.request("PATCH", url, json={"id": 245})
    assert info.value.status == 405


def test_restlet_without_token_is_invalid_login(sim, client):
    response = requests.get(client.webhooks.url, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_LOGIN_ATTEMPT"
