"""The setup check against a simulator told to leave pieces of the bundle out.

Every "missing" answer is produced by an account that really lacks the piece, every
"unknown" by a role that really can't read it: the checklist is what NetSuite's answers say.
"""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from netsuite.accounts import METADATA_PATH
from netsuite.bundle import AUTH_DETAILS_RECORD, TAX_BODY_FIELDS, TAX_LINE_FIELDS
from netsuite.restlet import MODULES
from netsuite.simulator.state import DEPLOYMENT_SCRIPT_IDS, METADATA_SHAPES
from subscriptions.models import AuditEvent
from subscriptions.services.setup_check import (
    MISSING,
    PRESENT,
    TAX_LINE_MENU,
    UNKNOWN,
    setup_check_run,
)
from tests.html import table_rows, urls

pytestmark = pytest.mark.django_db

ACCOUNT = "1234567"


def statuses(report) -> dict[str, str]:
    return {item.key: item.status for item in report.items}


def run(subscription, actor):
    return setup_check_run(subscription=subscription, actor=actor)


def test_a_complete_installation_is_all_present_and_audited(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    report = run(subscription, admin_user)
    assert report.problem is None
    found = statuses(report)
    # The RESTlet, seven deployments, the record and its three fields, five tax fields, the
    # inventory levels' table.
    assert len(found) == (
        1 + len(MODULES) + 1 + 3 + len(TAX_BODY_FIELDS) + len(TAX_LINE_FIELDS) + 1
    )
    assert set(found.values()) == {PRESENT}
    assert report.complete
    event = AuditEvent.objects.get(action="setup_check.completed")
    assert event.changes["result"] == [None, f"{len(found)} present, 0 missing, 0 unknown"]
    assert "missing" not in event.changes
    assert netsuite_sim.stats()["tokens_issued"] == 1


def test_a_missing_and_an_undeployed_module_deployment(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    customer, inventory = DEPLOYMENT_SCRIPT_IDS[0], DEPLOYMENT_SCRIPT_IDS[1]
    netsuite_sim.sim.set_deployment(ACCOUNT, customer, "missing")
    netsuite_sim.sim.set_deployment(ACCOUNT, inventory, "not_deployed")
    report = run(subscription, admin_user)
    items = {item.key: item for item in report.items}
    assert items["deployment:customer"].status == MISSING
    assert "Applies To Customer" in items["deployment:customer"].fix
    assert items["deployment:inventory_part"].status == MISSING
    assert "not deployed" in items["deployment:inventory_part"].detail
    assert items["restlet"].status == PRESENT
    others = [k for k in items if k.startswith("deployment:")]
    assert sum(items[k].status == PRESENT for k in others) == len(MODULES) - 2
    event = AuditEvent.objects.get(action="setup_check.completed")
    assert "User-event script on Customer" in event.changes["missing"][1]


def test_without_the_restlet_the_deployments_are_unknown(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.set_restlet_deployed(ACCOUNT, False)
    found = statuses(run(subscription, admin_user))
    assert found["restlet"] == MISSING
    assert {found[f"deployment:{slug}"] for slug, _ in MODULES} == {UNKNOWN}
    assert found["auth_record"] == PRESENT  # the other parts are still checked


def test_a_missing_custom_record_and_a_missing_field(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.set_field_present(
        ACCOUNT, AUTH_DETAILS_RECORD, "custrecord_otg_ipaas_tracking_guid", False
    )
    found = statuses(run(subscription, admin_user))
    assert found["auth_record"] == PRESENT
    assert found["auth_field:custrecord_otg_ipaas_tracking_guid"] == MISSING
    assert found["auth_field:custrecord_otg_ipaas_webhook"] == PRESENT

    netsuite_sim.sim.set_record_type_present(ACCOUNT, AUTH_DETAILS_RECORD, False)
    report = run(subscription, admin_user)
    found = statuses(report)
    assert found["auth_record"] == MISSING
    assert found["auth_field:custrecord_otg_ipaas_webhook"] == UNKNOWN
    assert "Record Types > New" in next(i.fix for i in report.items if i.key == "auth_record")


@pytest.mark.parametrize("field", [*TAX_BODY_FIELDS, *TAX_LINE_FIELDS])
def test_each_missing_tax_field_is_named(netsuite_sim, admin_user, ec_pair, field):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    sublist = "item" if field in TAX_LINE_FIELDS else None
    netsuite_sim.sim.set_field_present(ACCOUNT, "salesorder", field, False, sublist=sublist)
    found = statuses(run(subscription, admin_user))
    assert found[f"tax:{field}"] == MISSING
    assert [k for k, v in found.items() if v != PRESENT] == [f"tax:{field}"]


@pytest.mark.parametrize("shape", METADATA_SHAPES)
def test_line_tax_fields_are_read_on_either_catalog_shape(
    netsuite_sim, admin_user, ec_pair, shape
):
    # "referenced" is NetSuite's: item -> salesOrder-itemCollection -> salesOrder-itemElement.
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.set_metadata_shape(ACCOUNT, shape)
    assert set(statuses(run(subscription, admin_user)).values()) == {PRESENT}
    for field in TAX_LINE_FIELDS:
        netsuite_sim.sim.set_field_present(ACCOUNT, "salesorder", field, False, sublist="item")
    report = run(subscription, admin_user)
    missing = {item.key: item for item in report.items if item.status == MISSING}
    assert set(missing) == {f"tax:{field}" for field in TAX_LINE_FIELDS}
    assert all(TAX_LINE_MENU in item.fix for item in missing.values())


@pytest.mark.parametrize(("where", "says"), [
    ("own", "refers back"),
    ("https://evil.example.com", "outside this account's own catalog"),
])
def test_a_catalog_reference_not_followed_leaves_the_tax_fields_unknown(
    netsuite_sim, admin_user, ec_pair, where, says
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    collection = f"{METADATA_PATH}/salesOrder-itemCollection"
    origin = netsuite_sim.sim.base_url if where == "own" else where
    netsuite_sim.sim.add_fault(kind="record", path_prefix=collection, status=200,
                               body={"$ref": f"{origin}{collection}"})
    report = run(subscription, admin_user)
    tax = [item for item in report.items if item.key.startswith("tax:")]
    assert len(tax) == len(TAX_BODY_FIELDS) + len(TAX_LINE_FIELDS)
    assert {item.status for item in tax} == {UNKNOWN}
    assert all(says in item.detail and item.fix for item in tax)
    assert {item.status for item in report.items if item not in tax} == {PRESENT}


def test_what_the_role_cannot_read_is_unknown_not_missing(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.update_integration(
        subscription.consumer_id, denied_records=[AUTH_DETAILS_RECORD], metadata_catalog_denied=True
    )
    report = run(subscription, admin_user)
    found = statuses(report)
    assert found["auth_record"] == UNKNOWN
    assert {found[f"tax:{f}"] for f in (*TAX_BODY_FIELDS, *TAX_LINE_FIELDS)} == {UNKNOWN}
    assert MISSING not in found.values()
    why = next(i.detail for i in report.items if i.key == "auth_record")
    assert "Custom Record" in why


def test_no_token_means_nothing_checked_and_says_why(netsuite_sim, admin_user, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair, register=False)
    report = run(subscription, admin_user)
    assert report.problem is not None and not report.items
    assert not report.complete
    assert AuditEvent.objects.filter(action="setup_check.failed").count() == 1


def test_the_page_runs_it_for_support_and_refuses_auditors(
    netsuite_sim, support_client, auditor_client, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.set_deployment(ACCOUNT, DEPLOYMENT_SCRIPT_IDS[0], "missing")
    url = reverse("subscriptions:setup_check", args=[subscription.pk])
    response = support_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    rows = table_rows(response)
    assert len(rows) == 18
    customer = next(row for row in rows if "User-event script on Customer" in row[1])
    assert customer[2] == "missing"
    page = support_client.get(url)
    assert url in urls(page)  # the form that runs it
    assert auditor_client.get(url).status_code == 403
    assert auditor_client.post(url).status_code == 403
    assert AuditEvent.objects.filter(action="setup_check.completed").count() == 1


def test_the_command_prints_the_checklist_and_fails_when_something_is_missing(
    netsuite_sim, ec_pair, capsys
):
    subscription = netsuite_sim.subscription("Acme Prod", pair=ec_pair)
    call_command("check_netsuite_setup", "acme prod")
    out = capsys.readouterr().out
    assert out.count("PRESENT ") == 18 and "Setup check: 18 present" in out
    netsuite_sim.sim.set_field_present(ACCOUNT, "salesorder", TAX_BODY_FIELDS[0], False)
    with pytest.raises(CommandError, match="incomplete"):
        call_command("check_netsuite_setup", subscription.name)
    out = capsys.readouterr().out
    assert f"MISSING  Sales Order header field {TAX_BODY_FIELDS[0]}" in out
    assert "What to do: Create the header field" in out
    event = AuditEvent.objects.filter(action="setup_check.completed").latest("id")
    assert event.actor_name == "system (command line)"


def test_the_inventory_levels_table_hidden_from_the_role_is_missing_with_its_fix(
    netsuite_sim, admin_user, ec_pair
):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    netsuite_sim.sim.update_integration(
        subscription.consumer_id, denied_records={"aggregateitemlocation"}
    )
    report = run(subscription, admin_user)
    item = {i.key: i for i in report.items}["inventory:aggregateitemlocation"]
    assert item.status == MISSING
    assert "Multi-Location Inventory" in item.fix
    assert "SuiteAnalytics Workbook" in item.fix
