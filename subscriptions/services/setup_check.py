"""The setup check: the seed's prerequisites in NetSuite, verified instead of assumed.

Nothing works until the iPaaS bundle's pieces exist in the account: the Webhook Manager
RESTlet, the user-event script deployed to the seven modules, the "iPaaS Auth Details" custom
record with its three fields, and the tax override fields on Sales Orders. The check reads each
with what NetSuite offers read-only (the RESTlet's deployment list, the record API, the REST
metadata catalog) and answers, per piece, *present*, *missing* (with the seed's step to fix it)
or *unknown* (with why: the role can't read it, or a piece it depends on is missing). It writes
nothing in NetSuite; the run is put on record with its counts, as a connection test is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from netsuite.bundle import (
    AUTH_DETAILS_FIELD_LABELS,
    AUTH_DETAILS_FIELDS,
    AUTH_DETAILS_RECORD,
    ITEM_SUBLIST,
    SALES_ORDER,
    TAX_BODY_FIELDS,
    TAX_LINE_FIELDS,
)
from netsuite.errors import (
    BadRequestError,
    MetadataReferenceError,
    NotFoundError,
    RecordPermissionError,
    ScopeError,
    SuiteQLRecordNotFoundError,
)
from netsuite.restlet import DEPLOY, MODULES, SCRIPT

from .. import audit
from ..actors import ActorLike
from ..integration import client_for
from ..models import Subscription
from ..problems import REMOTE_ERRORS, Problem
from ..selectors.setup_progress import setup_refusal
from .errors import setup_not_finished

PRESENT, MISSING, UNKNOWN = "present", "missing", "unknown"

# The seed's own steps, quoted where it names them, for each missing piece.
FIX_RESTLET = (
    "Install the RESTlet script \"OTG-iPaaS Webhook Manager\" (Customization > Scripting > "
    f"Scripts, script ID {SCRIPT}) with its GET, POST, PUT and DELETE functions, and deploy it "
    f"with the deployment ID {DEPLOY}; add the integration's role to the deployment's Audience."
)
FIX_DEPLOYMENT = (
    "Deploy the user-event script \"OTG-iPaaS Notify Sync UE\" (After Submit) to {module}: "
    "Customization > Scripting > Scripts, open the script, Deploy Script, Applies To {module}, "
    "Status Released."
)
FIX_NOT_DEPLOYED = (
    "The deployment for {module} exists but is not deployed: open it (Customization > Scripting "
    "> Script Deployments) and check Deployed, Status Released."
)
FIX_RECORD = (
    "Create the custom record type \"iPaaS Auth Details\" (Customization > Lists, Records, & "
    f"Fields > Record Types > New) with the ID {AUTH_DETAILS_RECORD}, then add its fields."
)
FIX_RECORD_FIELD = (
    "Add the field \"{label}\" with the ID {field} to the custom record type \"iPaaS Auth "
    "Details\" (Customization > Lists, Records, & Fields > Record Types, open it, New Field)."
)
FIX_TAX_FIELD = (
    "Create the {where} field {field} on Sales Orders ({menu}) and deploy the bundle's Tax "
    "Override user-event script on Sales Order."
)
TAX_BODY_MENU = "Customization > Lists, Records, & Fields > Transaction Body Fields, for Sale"
TAX_LINE_MENU = "Customization > Lists, Records, & Fields > Transaction Line Fields, for Sale Item"
WHY_ROLE_RESTLET = (
    "the integration's role may not call the Webhook Manager: add it to the RESTlet "
    "deployment's Audience (a \"Web Services Only\" role cannot call RESTlets)"
)
WHY_ROLE_RECORD = (
    "the integration's role may not read the custom record: give it View on \"iPaaS Auth "
    "Details\" (Manage Roles > Permissions > Custom Record)"
)
WHY_ROLE_METADATA = (
    "the integration's role may not read the REST metadata catalog for this record type, so "
    "its fields cannot be listed"
)


@dataclass(frozen=True)
class CheckItem:
    key: str
    group: str
    label: str
    status: str  # PRESENT, MISSING or UNKNOWN
    detail: str = ""
    fix: str = ""


@dataclass
class SetupReport:
    items: list[CheckItem] = field(default_factory=list)
    problem: Problem | None = None  # NetSuite could not be asked at all (no token, say)

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def complete(self) -> bool:
        return self.problem is None and all(item.status == PRESENT for item in self.items)

    @property
    def summary(self) -> str:
        if self.problem is not None:
            return f"Not checked: {self.problem.message}"
        return (
            f"{self.count(PRESENT)} present, {self.count(MISSING)} missing, "
            f"{self.count(UNKNOWN)} unknown"
        )


def _webhook_items(client) -> list[CheckItem]:
    group = "Webhooks"
    restlet = f"Webhook Manager RESTlet ({SCRIPT})"
    try:
        deployments = client.webhooks.list_deployments()
    except ScopeError as exc:
        why = WHY_ROLE_RESTLET + f" (NetSuite: {exc.code or exc.status})"
        return [CheckItem("restlet", group, restlet, UNKNOWN, why)] + [
            CheckItem(f"deployment:{slug}", group, f"User-event script on {label}", UNKNOWN,
                      "needs the Webhook Manager's list of deployments")
            for slug, label in MODULES
        ]
    except BadRequestError as exc:
        # NetSuite's answer for a script or deployment ID that does not exist.
        missing = CheckItem(
            "restlet", group, restlet, MISSING, f"NetSuite: {exc.code or exc.message}", FIX_RESTLET
        )
        return [missing] + [
            CheckItem(f"deployment:{slug}", group, f"User-event script on {label}", UNKNOWN,
                      "needs the Webhook Manager RESTlet, which is missing")
            for slug, label in MODULES
        ]
    unplaced = [d.scriptid for d in deployments if not d.module]
    detail = f"{len(deployments)} deployment{'s' if len(deployments) != 1 else ''} listed"
    if unplaced:
        detail += f"; not matched to a module: {', '.join(unplaced)}"
    items = [CheckItem("restlet", group, restlet, PRESENT, detail)]
    by_module: dict[str, list] = {}
    for deployment in deployments:
        by_module.setdefault(deployment.module, []).append(deployment)
    for slug, label in MODULES:
        found = by_module.get(slug, [])
        name = f"User-event script on {label}"
        if any(d.isdeployed for d in found):
            ids = ", ".join(d.scriptid for d in found if d.isdeployed)
            items.append(CheckItem(f"deployment:{slug}", group, name, PRESENT, ids))
        elif found:
            items.append(CheckItem(
                f"deployment:{slug}", group, name, MISSING,
                f"{found[0].scriptid} is listed but not deployed",
                FIX_NOT_DEPLOYED.format(module=label),
            ))
        else:
            items.append(CheckItem(
                f"deployment:{slug}", group, name, MISSING,
                "no deployment of the bundle's user-event script for this module",
                FIX_DEPLOYMENT.format(module=label),
            ))
    return items


def _auth_details_items(client) -> list[CheckItem]:
    group = "iPaaS Auth Details"
    record = f"Custom record \"iPaaS Auth Details\" ({AUTH_DETAILS_RECORD})"
    fields = [
        (f"auth_field:{name}", f"Field {AUTH_DETAILS_FIELD_LABELS[name]} ({name})", name)
        for name in AUTH_DETAILS_FIELDS
    ]
    try:
        page = client.records.list_page(AUTH_DETAILS_RECORD, limit=1)
    except RecordPermissionError:
        head = CheckItem("auth_record", group, record, UNKNOWN, WHY_ROLE_RECORD)
    except NotFoundError:
        head = CheckItem("auth_record", group, record, MISSING, "NetSuite knows no such record "
                         "type", FIX_RECORD)
        return [head] + [
            CheckItem(key, group, label, UNKNOWN, "the record type is missing")
            for key, label, _name in fields
        ]
    else:
        total = page.get("totalResults", len(page.get("items", [])))
        head = CheckItem("auth_record", group, record, PRESENT,
                         f"{total} entr{'y' if total == 1 else 'ies'}")
    try:
        presence = client.records.fields_present(AUTH_DETAILS_RECORD, AUTH_DETAILS_FIELDS)
    except (RecordPermissionError, NotFoundError):
        return [head] + [
            CheckItem(key, group, label, UNKNOWN, WHY_ROLE_METADATA)
            for key, label, _name in fields
        ]
    return [head] + [
        CheckItem(key, group, label, PRESENT)
        if presence.body.get(name)
        else CheckItem(key, group, label, MISSING, "not in the record type's metadata",
                       FIX_RECORD_FIELD.format(label=AUTH_DETAILS_FIELD_LABELS[name], field=name))
        for key, label, name in fields
    ]


def _tax_items(client) -> list[CheckItem]:
    group = "Sales Order tax override"
    wanted = [(name, "header", TAX_BODY_MENU) for name in TAX_BODY_FIELDS] + [
        (name, "line", TAX_LINE_MENU) for name in TAX_LINE_FIELDS
    ]
    try:
        presence = client.records.fields_present(
            SALES_ORDER, TAX_BODY_FIELDS, {ITEM_SUBLIST: TAX_LINE_FIELDS}
        )
    except (RecordPermissionError, NotFoundError) as exc:
        why = WHY_ROLE_METADATA if isinstance(exc, RecordPermissionError) else (
            "NetSuite's metadata catalog has no Sales Order"
        )
        return [
            CheckItem(f"tax:{name}", group, f"Sales Order {where} field {name}", UNKNOWN, why)
            for name, where, _menu in wanted
        ]
    except MetadataReferenceError as exc:
        # The catalog answered, but its references loop, nest too deep or lead elsewhere: the
        # fields are neither found nor known to be absent.
        why = f"{exc.message} ({exc.detail})" if exc.detail else exc.message
        return [
            CheckItem(f"tax:{name}", group, f"Sales Order {where} field {name}", UNKNOWN, why,
                      exc.hint)
            for name, where, _menu in wanted
        ]
    lines = presence.sublists.get(ITEM_SUBLIST, {})
    items = []
    for name, where, menu in wanted:
        found = presence.body.get(name) if where == "header" else lines.get(name)
        label = f"Sales Order {where} field {name}"
        if found:
            items.append(CheckItem(f"tax:{name}", group, label, PRESENT))
        else:
            items.append(CheckItem(
                f"tax:{name}", group, label, MISSING, "not in the Sales Order's metadata",
                FIX_TAX_FIELD.format(where=where, field=name, menu=menu),
            ))
    return items


FIX_INVENTORY_TABLE = (
    "Inventory polling reads stock per item and location from SuiteQL's aggregateItemLocation. "
    "Enable Multi-Location Inventory (Setup > Company > Enable Features > Items & Inventory) "
    "if the account keeps stock at locations, and give the integration's role View on "
    "Lists > Items and Lists > Locations, and Setup > SuiteAnalytics Workbook "
    "(Setup > Users/Roles > Manage Roles). See docs/inventory.md."
)


def _inventory_items(client) -> list[CheckItem]:
    group = "Inventory polling"
    label = "Stock per item and location (SuiteQL aggregateItemLocation) readable"
    try:
        client.records.suiteql_page(
            "SELECT item, location, quantityonhand FROM aggregateitemlocation "
            "ORDER BY item, location",
            limit=1,
        )
    except SuiteQLRecordNotFoundError:
        return [CheckItem("inventory:aggregateitemlocation", group, label, MISSING,
                          "SuiteQL cannot find the table: the feature is off or the role may "
                          "not read it", FIX_INVENTORY_TABLE)]
    return [CheckItem("inventory:aggregateitemlocation", group, label, PRESENT)]


_PARTS = (
    ("Webhooks", _webhook_items),
    ("iPaaS Auth Details", _auth_details_items),
    ("Sales Order tax override", _tax_items),
    ("Inventory polling", _inventory_items),
)


def setup_check_run(*, subscription: Subscription, actor: ActorLike) -> SetupReport:
    """Check every prerequisite; put the run on record (counts and what is missing).

    A subscription that is not ready (no key or Certificate ID yet) cannot sign in: the
    report carries the missing step as its problem, and nothing is asked or recorded."""
    if why := setup_refusal(subscription):
        return SetupReport(problem=setup_not_finished(why))
    report = SetupReport()
    try:
        with client_for(subscription) as client:
            client.fetch_token()
            for group, part in _PARTS:
                try:
                    report.items.extend(part(client))
                except REMOTE_ERRORS as exc:
                    # One part's failure (a timeout, a server error) leaves the others checked.
                    why = f"NetSuite could not be asked: {Problem.of(exc).message}"
                    report.items.append(CheckItem(group, group, group, UNKNOWN, why))
    except REMOTE_ERRORS as exc:
        report = SetupReport(problem=Problem.of(exc))
    # "complete" is what the set-up checklist reads back (selectors/setup_progress.py).
    changes = {"result": [None, report.summary], "complete": [None, report.complete]}
    missing = [item.label for item in report.items if item.status == MISSING]
    if missing:
        changes["missing"] = [None, "; ".join(missing)]
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="setup_check.completed" if report.problem is None else "setup_check.failed",
            target=subscription,
            changes=changes,
        )
    return report
