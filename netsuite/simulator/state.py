"""In-memory state of the simulated NetSuite: accounts, integrations, certificates, tokens,
records, webhook deployments, injected faults and counters. Guarded by one lock."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import certificates
from ..accounts import normalize_account_id
from ..auth import KNOWN_SCOPES
from ..bundle import SALES_ORDER
from . import inventory

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"
ALTERNATE_ID_TYPE = "customrecord_otg_ipaas_alternate_id_type"
DEFAULT_RECORD_COUNTS = {
    "customercategory": 25,
    "location": 12,
    "paymentmethod": 10,
    "shipitem": 8,
    "inventoryitem": 30,
}
# Item record types and the ``itemtype`` SuiteQL's one ``item`` table gives each of them.
ITEM_TYPES = {"inventoryitem": "InvtPart"}
ITEM_TABLE = "item"
MAX_ACTIVE_CERTIFICATES = 5
# NetSuite documents no status for governanceLimits asked by a non-administrator role.
GOVERNANCE_REFUSAL_STATUSES = (400, 401, 403, 404)
_UNSET: Any = object()
MAX_VALIDITY = dt.timedelta(days=730)

# The user-event deployments the Webhook Manager lists: the seven modules and one the
# dashboard cannot place, so it has to show an unknown deployment instead of hiding it.
DEPLOYMENT_SCRIPT_IDS = (
    "customdeploy_otg_ipaas_customer_sync_ue",
    "customdeploy_otg_ipaas_inventorypart_sync_ue",
    "customdeploy_otg_ipaas_kititem_sync_ue",
    "customdeploy_otg_ipaas_location_sync_ue",
    "customdeploy_otg_ipaas_paymentmethod_sync_ue",
    "customdeploy_otg_ipaas_salesorder_sync_ue",
    "customdeploy_otg_ipaas_shipitem_sync_ue",
    "customdeploy_otg_ipaas_vendor_sync_ue",
)
FIRST_SCRIPT_DEPLOYMENT_ID = 245

_AUTH_DETAILS_ROWS = (
    ("Production", "https://api.ipaas.com/hookapi/v2/iPaaS1"),
    ("Sandbox", "https://stagingapi.ipaas.com/hookapi/v2/iPaaS1"),
    ("Beta", "https://betaapi.ipaas.com/hookapi/v2/iPaaS1"),
)


class SimulatorError(Exception):
    """An admin request the simulator refuses (HTTP 400 on the admin API)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Integration:
    """An integration record. ``administrator`` says whether the role its certificate is
    mapped to is an administrator (only those may read governanceLimits); ``slots_in_use``
    are requests it has in flight outside the simulator, so tests can model other
    integrations taking their share of the account's pool."""

    consumer_id: str
    account_id: str
    name: str
    scopes: frozenset[str]
    concurrency_limit: int | None = None
    in_flight: int = 0
    administrator: bool = True
    slots_in_use: int = 0
    # The role and entity of the M2M mapping (Oracle's sample token says sub "3;-5").
    role: int = 3
    entity: int = -5
    can_manage_certificates: bool = True
    # Record types the role has no permission for (record API and metadata answer 403).
    denied_records: set[str] = field(default_factory=set)
    metadata_catalog_denied: bool = False

    @property
    def busy(self) -> int:
        return self.in_flight + self.slots_in_use


@dataclass
class RegisteredCertificate:
    certificate_id: str
    account_id: str
    consumer_id: str
    role: int
    public_key: Any
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime  # after NetSuite's two-year cut
    validity_cut: bool
    revoked: bool = False
    entity: int = -5
    algorithm: str = "RSA"
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def active(self, now: dt.datetime) -> bool:
        return not self.revoked and self.not_before <= now < self.not_after


@dataclass
class IssuedToken:
    account_id: str
    consumer_id: str
    certificate_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class Account:
    account_id: str
    concurrency_limit: int
    records: dict[str, dict[str, dict]] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)
    deployments: list[dict] = field(default_factory=list)
    flags: dict[int, dict[str, bool]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    # Setup-check knobs: what an incomplete bundle installation leaves out.
    restlet_deployed: bool = True
    deployment_states: dict[str, str] = field(default_factory=dict)
    hidden_record_types: set[str] = field(default_factory=set)
    hidden_fields: set[tuple[str, str, str]] = field(default_factory=set)
    # How the metadata catalog answers a sublist: by reference, as NetSuite does, or nested in
    # place, as the simulator first did (METADATA_SHAPES).
    metadata_shape: str = "referenced"
    # SuiteQL's aggregateItemLocation: "<item>:<location>" -> level (simulator/inventory.py).
    item_locations: dict[str, dict] = field(default_factory=dict)
    # X-NetSuite-Idempotency-Key of each record create -> (when, the record's Location).
    idempotency_keys: dict[str, tuple[float, str]] = field(default_factory=dict)


DEPLOYMENT_STATES = ("deployed", "not_deployed", "missing")
METADATA_SHAPES = ("referenced", "inline")
# The catalog's own spelling of the sales order in its sublists' entry names
# (salesOrder-itemCollection, salesOrder-itemElement); lookups are case-insensitive.
SALES_ORDER_SCHEMA = "salesOrder"
COLLECTION, ELEMENT = "Collection", "Element"
JSON_SCHEMA = "https://json-schema.org/draft-06/schema#"
IDEMPOTENCY_RETENTION = 24 * 3600.0


def _prop(title: str, kind: str = "string", *, custom: bool = False, **extra: Any) -> dict:
    spec: dict[str, Any] = {"title": title, "type": kind, "nullable": True, **extra}
    if custom:
        spec["x-ns-custom-field"] = True
    return spec


# The parts of the sales order's JSON Schema the dashboard looks at: a few standard fields,
# the seed's tax override fields, and the item sublist with its line fields.
SALES_ORDER_BODY = {
    "id": _prop("Internal ID"),
    "tranId": _prop("Order #"),
    "tranDate": _prop("Date", format="date"),
    "entity": _prop("Customer", "object"),
    "total": _prop("Total", "number", format="double"),
    "custbody_otg_ipaas_total_tax": _prop("iPaaS Total Tax", "number", custom=True,
                                          format="double"),
    "custbody_otg_ipaas_tax_code": _prop("iPaaS Tax Code", custom=True),
    "custbody_otg_ipaas_tax_rate": _prop("iPaaS Tax Rate", "number", custom=True,
                                         format="double"),
}
SALES_ORDER_SUBLISTS = {
    "item": {
        "title": "Items",
        "fields": {
            "line": _prop("Line", "integer", format="int64"),
            "item": _prop("Item", "object"),
            "quantity": _prop("Quantity", "number", format="double"),
            "rate": _prop("Rate", "number", format="double"),
            "amount": _prop("Amount", "number", format="double"),
            "custcol_otg_ipaas_tax_code": _prop("iPaaS Tax Code", custom=True),
            "custcol_otg_ipaas_tax_rate": _prop("iPaaS Tax Rate", "number", custom=True,
                                                format="double"),
        },
    },
}


@dataclass
class Fault:
    fault_id: int
    kind: str | None
    path_prefix: str | None
    method: str | None
    status: int | None
    remaining: int
    body: Any
    delay: float
    action: str | None
    location: str | None = None
    # Served after the call did its work (stored the record, the certificate): the answer,
    # not the request, is what fails.
    after_store: bool = False

    def matches(self, kind: str, method: str, path: str) -> bool:
        if self.kind and self.kind != kind:
            return False
        if self.path_prefix and not path.startswith(self.path_prefix):
            return False
        return not (self.method and self.method != method)


def rest_datetime(moment: dt.datetime) -> str:
    """A datetime as REST web services send it: ISO 8601 in UTC, in whole seconds (as
    NetSuite keeps ``lastModifiedDate``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_fields(record_type: str, n: int) -> dict:
    # REST field names are camelCase (isInactive); SuiteQL answers the same fields lower-cased.
    if record_type in ("inventoryitem", ITEM_TABLE):
        fields = {"itemId": f"ITEM-{n:05d}", "displayName": f"Inventory item {n}",
                  "isInactive": False, "lastModifiedDate": ""}
        return fields if record_type != ITEM_TABLE else {**fields, "itemType": "InvtPart"}
    if record_type == inventory.ITEM_LOCATION_TABLE:
        return inventory.empty_row()
    if record_type == "shipitem":
        return {"itemId": f"Ship method {n}", "displayName": f"Ship method {n}",
                "isInactive": False}
    if record_type == "location":
        return {"name": f"Location {n}", "isInactive": False, "makeInventoryAvailable": True}
    if record_type == "customercategory":
        return {"name": f"Customer category {n}", "isInactive": False}
    if record_type == "paymentmethod":
        return {"name": f"Payment method {n}", "isInactive": False}
    if record_type == ALTERNATE_ID_TYPE:
        return {"name": f"Alternate ID type {n}", "isInactive": False}
    return {"name": f"{record_type} {n}", "isInactive": False}


class SimState:
    """Everything the simulator knows; its constructor holds the settings' defaults.

    ``latency`` is the time from a governed call's arrival to its answer, the simulator's own
    work on it included (only the rest of it is slept), ``concurrency_limit`` is a new
    account's limit, ``record_counts`` adds to or overrides :data:`DEFAULT_RECORD_COUNTS`,
    ``token_ttl`` is a token's lifetime and ``expires_in_format`` ("string", as NetSuite sends
    it, or "number") the form of ``expires_in``.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        concurrency_limit: int = 5,
        record_counts: dict[str, int] | None = None,
        token_ttl: int = 3600,
        expires_in_format: str = "string",
    ) -> None:
        self.lock = threading.RLock()
        self.latency = latency
        self.concurrency_limit = concurrency_limit
        self.record_counts = {**DEFAULT_RECORD_COUNTS, **(record_counts or {})}
        self.token_ttl = token_ttl
        self.expires_in_format = expires_in_format
        self.governance_refusal_status = 403
        # Oracle's page shows no upload answer: "certificate" answers the new entry (with its
        # Certificate ID), "empty" answers 204 and leaves the client to find it in the list.
        self.certificate_upload_answer = "certificate"
        # How long a record create's idempotency key is remembered: Oracle's help states no
        # period, so a day is an assumption.
        self.idempotency_retention = IDEMPOTENCY_RETENTION
        self.accounts: dict[str, Account] = {}
        self.integrations: dict[str, Integration] = {}
        self.certificates: dict[str, RegisteredCertificate] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.faults: list[Fault] = []
        self._fault_ids = 0
        self.login_audit: deque[dict] = deque(maxlen=500)
        # What arrived, minus credentials: tests check headers the simulator does not enforce.
        self.requests_seen: deque[dict] = deque(maxlen=200)
        self.counters: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.token_refusals: Counter[str] = Counter()
        self._seed = 0
        # The account's time zone (Set Preferences): what a literal without an offset means
        # and how a plain date column is answered.
        self.time_zone = "UTC"

    # -- configuration -------------------------------------------------------------------

    def configure(self, **changes: Any) -> dict:
        allowed = {
            "latency", "token_ttl", "expires_in_format", "concurrency_limit",
            "governance_refusal_status", "certificate_upload_answer", "time_zone",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise SimulatorError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        with self.lock:
            if "latency" in changes:
                self.latency = max(0.0, float(changes["latency"]))
            if "token_ttl" in changes:
                self.token_ttl = int(changes["token_ttl"])
            if "expires_in_format" in changes:
                if changes["expires_in_format"] not in ("string", "number"):
                    raise SimulatorError("expires_in_format is 'string' or 'number'.")
                self.expires_in_format = changes["expires_in_format"]
            if "concurrency_limit" in changes:
                self.concurrency_limit = int(changes["concurrency_limit"])
            if "governance_refusal_status" in changes:
                status = int(changes["governance_refusal_status"])
                if status not in GOVERNANCE_REFUSAL_STATUSES:
                    raise SimulatorError("governance_refusal_status is 400, 401, 403 or 404.")
                self.governance_refusal_status = status
            if "certificate_upload_answer" in changes:
                if changes["certificate_upload_answer"] not in ("certificate", "empty"):
                    raise SimulatorError("certificate_upload_answer is 'certificate' or 'empty'.")
                self.certificate_upload_answer = changes["certificate_upload_answer"]
            if "time_zone" in changes:
                try:
                    ZoneInfo(str(changes["time_zone"]))
                except (ZoneInfoNotFoundError, ValueError):
                    raise SimulatorError("time_zone is an IANA name such as "
                                         "America/Los_Angeles.") from None
                self.time_zone = str(changes["time_zone"])
            return {
                "latency": self.latency,
                "token_ttl": self.token_ttl,
                "expires_in_format": self.expires_in_format,
                "concurrency_limit": self.concurrency_limit,
                "governance_refusal_status": self.governance_refusal_status,
                "certificate_upload_answer": self.certificate_upload_answer,
                "time_zone": self.time_zone,
            }

    # -- accounts and integrations ---------------------------------------------------------

    def _account_id(self, value: Any) -> str:
        try:
            return normalize_account_id(value)
        except ValueError as exc:
            raise SimulatorError(str(exc)) from None

    def account(self, account_id: str, *, create: bool = False) -> Account:
        key = self._account_id(account_id)
        with self.lock:
            account = self.accounts.get(key)
            if account is None:
                if not create:
                    raise SimulatorError(f"No simulated account {key}.", status=404)
                account = self._new_account(key)
                self.accounts[key] = account
            return account

    def _new_account(self, account_id: str) -> Account:
        account = Account(account_id=account_id, concurrency_limit=self.concurrency_limit)
        details = {}
        for n, (name, hook) in enumerate(_AUTH_DETAILS_ROWS, start=1):
            details[str(n)] = {
                "id": str(n),
                "name": name,
                "custrecord_otg_ipaas_webhook": hook,
                "custrecord_otg_ipaas_access_token": "",
                "custrecord_otg_ipaas_tracking_guid": "",
                "isInactive": False,
            }
        account.records[AUTH_DETAILS] = details
        account.next_id[AUTH_DETAILS] = len(details) + 1
        created = dt.datetime.now(dt.UTC)
        for record_type, count in self.record_counts.items():
            rows = {}
            for n in range(1, count + 1):
                rows[str(n)] = {"id": str(n), **_record_fields(record_type, n)}
                if record_type in ITEM_TYPES:
                    # Item n was last changed n days and an hour before the account was
                    # made, so a window of the last N days holds items 1 to N - 1.
                    rows[str(n)]["lastModifiedDate"] = rest_datetime(
                        created - dt.timedelta(days=n, hours=1)
                    )
            account.records[record_type.lower()] = rows
            account.next_id[record_type.lower()] = count + 1
        account.item_locations = inventory.seed(
            account.records.get("inventoryitem", {}), account.records.get("location", {}), created
        )
        for n, scriptid in enumerate(DEPLOYMENT_SCRIPT_IDS, start=1):
            sdid = FIRST_SCRIPT_DEPLOYMENT_ID + n - 1
            account.deployments.append(
                {
                    "isdeployed": "T",
                    "deploymentid": n,
                    "scriptdeploymentid": sdid,
                    "runasrole": 3,
                    "scriptid": scriptid,
                    "id": n,
                }
            )
            account.flags[sdid] = {"create": False, "update": False, "delete": False}
        return account

    def create_integration(
        self,
        account_id: str,
        *,
        name: str | None = None,
        consumer_id: str | None = None,
        scopes: list[str] | tuple[str, ...] | None = None,
        concurrency_limit: int | None = None,
        administrator: bool = True,
    ) -> Integration:
        scope_set = frozenset(scopes or ("restlets", "rest_webservices"))
        if not scope_set <= KNOWN_SCOPES:
            raise SimulatorError("Scopes are restlets, rest_webservices and suite_analytics.")
        with self.lock:
            account = self.account(account_id, create=True)
            consumer_id = consumer_id or secrets.token_hex(32)
            if consumer_id in self.integrations:
                raise SimulatorError("That consumer ID is already used by another integration.")
            integration = Integration(
                consumer_id=consumer_id,
                account_id=account.account_id,
                name=name or "iPaaS integration",
                scopes=scope_set,
                administrator=bool(administrator),
            )
            self.integrations[consumer_id] = integration
            if concurrency_limit is not None:
                try:
                    self._set_own_limit(account, integration, concurrency_limit)
                except SimulatorError:
                    del self.integrations[consumer_id]
                    raise
            return integration

    def update_integration(
        self,
        consumer_id: str,
        *,
        administrator: bool | None = None,
        concurrency_limit: Any = _UNSET,
        slots_in_use: int | None = None,
        role: int | None = None,
        entity: int | None = None,
        can_manage_certificates: bool | None = None,
        denied_records: list[str] | None = None,
        metadata_catalog_denied: bool | None = None,
    ) -> Integration:
        """Change what an administrator (or another integration's traffic) changes.

        ``concurrency_limit=None`` removes the integration's own limit (it then shares the
        unallocated pool); leaving it out keeps it.
        """
        with self.lock:
            integration = self.integrations.get(consumer_id)
            if integration is None:
                raise SimulatorError(f"No integration {consumer_id}.", status=404)
            account = self.account(integration.account_id)
            if administrator is not None:
                integration.administrator = bool(administrator)
            if concurrency_limit is not _UNSET:
                self._set_own_limit(account, integration, concurrency_limit)
            if slots_in_use is not None:
                if int(slots_in_use) < 0:
                    raise SimulatorError("slots_in_use cannot be negative.")
                integration.slots_in_use = int(slots_in_use)
            if role is not None:
                integration.role = int(role)
            if entity is not None:
                integration.entity = int(entity)
            if can_manage_certificates is not None:
                integration.can_manage_certificates = bool(can_manage_certificates)
            if denied_records is not None:
                integration.denied_records = {str(t).lower() for t in denied_records}
            if metadata_catalog_denied is not None:
                integration.metadata_catalog_denied = bool(metadata_catalog_denied)
            return integration

    def describe_integration(self, integration: Integration) -> dict:
        return {
            "consumer_id": integration.consumer_id,
            "account_id": integration.account_id,
            "name": integration.name,
            "scopes": sorted(integration.scopes),
            "administrator": integration.administrator,
            "concurrency_limit": integration.concurrency_limit,
            "slots_in_use": integration.slots_in_use,
            "role": integration.role,
            "entity": integration.entity,
            "can_manage_certificates": integration.can_manage_certificates,
            "denied_records": sorted(integration.denied_records),
            "metadata_catalog_denied": integration.metadata_catalog_denied,
        }

    def _integrations_of(self, account: Account) -> list[Integration]:
        return [i for i in self.integrations.values() if i.account_id == account.account_id]

    def _allocated(self, account: Account, *, without: Integration | None = None) -> int:
        return sum(
            i.concurrency_limit or 0 for i in self._integrations_of(account) if i is not without
        )

    def _set_own_limit(self, account: Account, integration: Integration, limit: Any) -> None:
        if limit is None:
            integration.concurrency_limit = None
            return
        limit = int(limit)
        if limit < 1:
            raise SimulatorError("An integration's concurrency limit is at least 1.")
        # NetSuite keeps at least one slot unallocated (Integration Governance page).
        if self._allocated(account, without=integration) + limit > account.concurrency_limit - 1:
            raise SimulatorError(
                "That allocation leaves no unallocated concurrency: NetSuite keeps at least one."
            )
        integration.concurrency_limit = limit

    def unallocated(self, account: Account) -> int:
        return max(account.concurrency_limit - self._allocated(account), 0)

    def register_certificate(
        self,
        account_id: str,
        consumer_id: str,
        certificate_pem: str,
        role: int | None = None,
        *,
        entity: int | None = None,
        strict: bool = False,
    ) -> RegisteredCertificate:
        """What an admin does on the OAuth 2.0 Client Credentials (M2M) Setup page.

        ``role``/``entity`` default to the integration's mapping. ``strict`` refuses what
        NetSuite's upload refuses (an expired certificate, the same certificate twice for one
        integration); without it, as the admin API uses it, an expired certificate is accepted
        (so tests can model one that expired after upload) and the same certificate again
        answers the existing entry.
        """
        try:
            cert = certificates.load_certificate(certificate_pem)
        except certificates.CertificateError as exc:
            raise SimulatorError(str(exc)) from None
        now = dt.datetime.now(dt.UTC)
        with self.lock:
            account = self.account(account_id)
            integration = self.integrations.get(consumer_id)
            if integration is None or integration.account_id != account.account_id:
                raise SimulatorError("No integration with that consumer ID in this account.")
            role = integration.role if role is None else int(role)
            entity = integration.entity if entity is None else int(entity)
            info = certificates.describe_certificate(cert)
            fingerprint = info.fingerprint
            if strict and now >= info.effective_not_after:
                raise SimulatorError(
                    "The certificate has expired. Upload a certificate that is currently valid."
                )
            for existing in self.certificates.values():
                if (
                    existing.consumer_id == consumer_id
                    and existing.fingerprint == fingerprint
                    and not existing.revoked
                ):
                    if strict:
                        # Oracle: one certificate serves one integration, role and entity.
                        raise SimulatorError(
                            "This certificate is already used for this integration record. "
                            "Each combination of integration record, role and entity needs its "
                            "own certificate."
                        )
                    return existing
            active = [
                c for c in self.certificates.values()
                if c.consumer_id == consumer_id and c.active(now)
            ]
            if len(active) >= MAX_ACTIVE_CERTIFICATES:
                raise SimulatorError(
                    "This integration record already has five active certificates; revoke one "
                    "before adding another."
                )
            not_before = info.not_before
            not_after = info.effective_not_after
            registered = RegisteredCertificate(
                certificate_id=secrets.token_urlsafe(32),
                account_id=account.account_id,
                consumer_id=consumer_id,
                role=role,
                public_key=cert.public_key(),
                fingerprint=fingerprint,
                not_before=not_before,
                not_after=not_after,
                validity_cut=info.validity_cut,
                entity=entity,
                algorithm=info.key.kind,
                created=now,
            )
            self.certificates[registered.certificate_id] = registered
            return registered

    def certificates_of(self, consumer_id: str) -> list[RegisteredCertificate]:
        with self.lock:
            return [c for c in self.certificates.values() if c.consumer_id == consumer_id]

    def revoke_certificate(self, certificate_id: str) -> None:
        with self.lock:
            cert = self.certificates.get(certificate_id)
            if cert is None:
                raise SimulatorError("No such certificate.", status=404)
            cert.revoked = True

    def revoke_tokens(self, account_id: str | None = None) -> int:
        with self.lock:
            doomed = [
                value for value, token in self.tokens.items()
                if account_id is None or token.account_id == self._account_id(account_id)
            ]
            for value in doomed:
                del self.tokens[value]
            return len(doomed)

    def set_governance(
        self,
        account_id: str,
        *,
        account_limit: int | None = None,
        integration_limits: dict[str, int | None] | None = None,
    ) -> dict:
        with self.lock:
            account = self.account(account_id)
            if account_limit is not None:
                if int(account_limit) < 1:
                    raise SimulatorError("The account limit must be at least 1.")
                account.concurrency_limit = int(account_limit)
            for consumer_id, limit in (integration_limits or {}).items():
                integration = self.integrations.get(consumer_id)
                if integration is None or integration.account_id != account.account_id:
                    raise SimulatorError(f"No integration {consumer_id} in this account.")
                self._set_own_limit(account, integration, limit)
            return self.governance(account.account_id)

    def governance(self, account_id: str, consumer_id: str | None = None) -> dict:
        """NetSuite's governanceLimits answer for one integration (or the account alone).

        With ``integrationLimitType: accountLimit`` NetSuite sends no
        ``integrationConcurrencyLimit``: such an integration shares the unallocated pool.
        """
        with self.lock:
            account = self.account(account_id)
            integration = self.integrations.get(consumer_id) if consumer_id else None
            specific = integration is not None and integration.concurrency_limit is not None
            answer: dict[str, Any] = {
                "accountConcurrencyLimit": account.concurrency_limit,
                "accountUnallocatedConcurrencyLimit": self.unallocated(account),
                "integrationLimitType": "integrationSpecific" if specific else "accountLimit",
            }
            if specific:
                answer["integrationConcurrencyLimit"] = integration.concurrency_limit
            return answer

    # -- setup-check knobs -----------------------------------------------------------------

    def configure_setup(
        self,
        account_id: str,
        *,
        restlet_deployed: bool | None = None,
        deployments: dict[str, str] | None = None,
        record_types: dict[str, bool] | None = None,
        fields: list[dict] | None = None,
        metadata_shape: str | None = None,
    ) -> dict:
        """Leave pieces of the bundle out, or put them back.

        ``deployments`` maps a user-event deployment's script ID to "deployed", "not_deployed"
        (listed with ``isdeployed: "F"``) or "missing" (not listed); ``record_types`` maps a
        record type to present or not; each ``fields`` entry is ``{"record_type", "field",
        "sublist"?, "present"}`` and hides a field from the record's answers and metadata.
        ``metadata_shape`` is "referenced" (a sublist as a ``$ref`` to its own catalog entries,
        as NetSuite answers) or "inline" (nested in the record's schema).
        """
        if metadata_shape is not None and metadata_shape not in METADATA_SHAPES:
            raise SimulatorError("metadata_shape is 'referenced' or 'inline'.")
        with self.lock:
            account = self.account(account_id)
            if metadata_shape is not None:
                account.metadata_shape = metadata_shape
            if restlet_deployed is not None:
                account.restlet_deployed = bool(restlet_deployed)
            known = {d["scriptid"] for d in account.deployments}
            for scriptid, state in (deployments or {}).items():
                if scriptid not in known:
                    raise SimulatorError(f"No user-event deployment {scriptid}.")
                if state not in DEPLOYMENT_STATES:
                    raise SimulatorError(
                        "A deployment's state is 'deployed', 'not_deployed' or 'missing'."
                    )
                account.deployment_states[scriptid] = state
            for record_type, present in (record_types or {}).items():
                key = str(record_type).lower()
                if key not in account.records and key != SALES_ORDER:
                    raise SimulatorError(f"The simulator has no record type {record_type}.")
                if present:
                    account.hidden_record_types.discard(key)
                else:
                    account.hidden_record_types.add(key)
            for entry in fields or []:
                if not isinstance(entry, dict) or not entry.get("record_type") or not entry.get(
                    "field"
                ):
                    raise SimulatorError(
                        'Each field is {"record_type", "field", "sublist"?, "present"}.'
                    )
                key = (str(entry["record_type"]).lower(), str(entry.get("sublist") or ""),
                       str(entry["field"]))
                if entry.get("present", False):
                    account.hidden_fields.discard(key)
                else:
                    account.hidden_fields.add(key)
            return self.setup_state(account.account_id)

    def setup_state(self, account_id: str) -> dict:
        with self.lock:
            account = self.account(account_id)
            return {
                "restlet_deployed": account.restlet_deployed,
                "deployments": {
                    d["scriptid"]: account.deployment_states.get(d["scriptid"], "deployed")
                    for d in account.deployments
                },
                "hidden_record_types": sorted(account.hidden_record_types),
                "hidden_fields": [
                    {"record_type": t, "sublist": sub or None, "field": f}
                    for t, sub, f in sorted(account.hidden_fields)
                ],
                "metadata_shape": account.metadata_shape,
            }

    def listed_deployments(self, account: Account) -> list[dict]:
        """The Webhook Manager's GET answer, with missing deployments left out."""
        with self.lock:
            listed = []
            for deployment in account.deployments:
                state = account.deployment_states.get(deployment["scriptid"], "deployed")
                if state == "missing":
                    continue
                listed.append({**deployment, "isdeployed": "F" if state == "not_deployed"
                               else deployment["isdeployed"]})
            return listed

    def item_table(self, account: Account) -> dict[str, dict]:
        """SuiteQL's ``item`` table: every item record type in one, with its ``itemType``
        (the caller holds the lock; the rows are copies)."""
        rows = {}
        for record_type, item_type in ITEM_TYPES.items():
            for key, row in account.records.get(record_type, {}).items():
                rows[key] = {**row, "itemType": item_type}
        return rows

    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.time_zone)

    def item_location_table(self, account: Account) -> dict[str, dict]:
        """SuiteQL's ``aggregateItemLocation`` as answered (the caller holds the lock; the
        rows are copies)."""
        return {key: inventory.answer(row) for key, row in account.item_locations.items()}

    def move_stock(self, account_id: str, **move: Any) -> dict:
        """A transaction moving stock of one item at one location (see
        :func:`inventory.move`); the item record is not touched."""
        with self.lock:
            account = self.account(account_id)
            try:
                return inventory.move(account.item_locations, now=dt.datetime.now(dt.UTC),
                                      **move)
            except ValueError as exc:
                raise SimulatorError(str(exc)) from None

    def record_type_present(self, account: Account, record_type: str) -> bool:
        key = record_type.lower()
        with self.lock:
            if key in account.hidden_record_types:
                return False
            return key in account.records or key == SALES_ORDER

    def visible_record(self, account: Account, record_type: str, record: dict) -> dict:
        key = record_type.lower()
        with self.lock:
            hidden = {f for t, sub, f in account.hidden_fields if t == key and not sub}
        return {k: v for k, v in record.items() if k not in hidden}

    def metadata(self, account: Account, name: str, catalog: str) -> dict | None:
        """The catalog entry ``name`` as its JSON Schema, or ``None``: a record type, or one of
        the entries a sales order's sublist refers to (``salesOrder-itemCollection``, whose
        ``items`` are ``salesOrder-itemElement``). ``catalog`` is the catalog's absolute URL on
        the host asked, which every ``$ref`` starts with, as NetSuite's do."""
        key, _, part = name.lower().partition("-")
        if not self.record_type_present(account, key):
            return None
        if part:
            return self._sublist_metadata(account, key, part, catalog)
        with self.lock:
            hidden = set(account.hidden_fields)
            shape = account.metadata_shape
            if key == SALES_ORDER:
                body = dict(SALES_ORDER_BODY)
                sublists = {name: dict(spec["fields"]) for name, spec in
                            SALES_ORDER_SUBLISTS.items()}
                titles = {name: spec["title"] for name, spec in SALES_ORDER_SUBLISTS.items()}
            else:
                template = next(iter(account.records[key].values()), {})
                body = {}
                for name, value in template.items():
                    kind = ("boolean" if isinstance(value, bool) else
                            "integer" if isinstance(value, int) else "string")
                    body[name] = _prop(name, kind, custom=name.startswith("custrecord"))
                body.setdefault("id", _prop("Internal ID"))
                sublists, titles = {}, {}
        properties: dict[str, Any] = {
            name: spec for name, spec in body.items() if (key, "", name) not in hidden
        }
        for sublist in sublists:
            if shape == "inline":
                properties[sublist] = {
                    "title": titles[sublist],
                    **self._sublist_metadata(account, key, sublist + COLLECTION, catalog,
                                             inline=True),
                    "x-ns-sublist": True,
                }
            else:
                properties[sublist] = {
                    "title": titles[sublist],
                    "$ref": f"{catalog}/{SALES_ORDER_SCHEMA}-{sublist}{COLLECTION}",
                }
        properties["links"] = {
            "title": "Links", "type": "array", "readOnly": True,
            "items": {"$ref": f"{catalog}/nsLink"},
        }
        return {"type": "object", "properties": properties, "$schema": JSON_SCHEMA}

    def _sublist_metadata(
        self, account: Account, key: str, part: str, catalog: str, *, inline: bool = False
    ) -> dict | None:
        """A sublist's collection (``part`` = ``itemcollection``) or line element
        (``itemelement``) schema; ``inline`` nests the element instead of referring to it."""
        sublists = SALES_ORDER_SUBLISTS if key == SALES_ORDER else {}
        part = part.lower()
        for sublist, spec in sublists.items():
            if part == (sublist + ELEMENT).lower():
                with self.lock:
                    hidden = set(account.hidden_fields)
                line = {f: field_spec for f, field_spec in spec["fields"].items()
                        if (key, sublist, f) not in hidden}
                schema = {"type": "object", "properties": line}
                return schema if inline else {**schema, "$schema": JSON_SCHEMA}
            if part == (sublist + COLLECTION).lower():
                element = (
                    self._sublist_metadata(account, key, sublist + ELEMENT, catalog, inline=True)
                    if inline
                    else {"$ref": f"{catalog}/{SALES_ORDER_SCHEMA}-{sublist}{ELEMENT}"}
                )
                schema = {"type": "object", "properties": {
                    "items": {"type": "array", "items": element},
                    "totalResults": {"type": "integer"},
                }}
                return schema if inline else {**schema, "$schema": JSON_SCHEMA}
        return None

    # -- tokens ----------------------------------------------------------------------------

    def issue_token(self, cert: RegisteredCertificate, scopes: frozenset[str]) -> tuple[str, int]:
        value = "sim1." + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[value] = IssuedToken(
                account_id=cert.account_id,
                consumer_id=cert.consumer_id,
                certificate_id=cert.certificate_id,
                scopes=scopes,
                expires_at=time.time() + self.token_ttl,
            )
            self.counters["tokens_issued"] += 1
            return value, self.token_ttl

    def token(self, value: str) -> IssuedToken | None:
        with self.lock:
            token = self.tokens.get(value)
            if token is None:
                return None
            if token.expires_at <= time.time():
                del self.tokens[value]
                return None
            cert = self.certificates.get(token.certificate_id)
            if cert is None or cert.revoked:
                return None
            return token

    def audit(self, result: str, detail: str, **context: Any) -> None:
        with self.lock:
            self.login_audit.append(
                {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "result": result, "detail": detail, **context}
            )

    # -- governance slots --------------------------------------------------------------------

    def acquire_slot(self, token: IssuedToken) -> bool:
        """One more request in flight, if the account's pool and this integration's share
        (its own limit, else the unallocated pool shared with every integration without one)
        both have room; other integrations' ``slots_in_use`` count against both."""
        with self.lock:
            account = self.accounts[token.account_id]
            integration = self.integrations.get(token.consumer_id)
            members = self._integrations_of(account)
            if sum(i.busy for i in members) >= account.concurrency_limit:
                return False
            if account.in_flight >= account.concurrency_limit:
                return False
            if integration is not None:
                if integration.concurrency_limit is not None:
                    if integration.busy >= integration.concurrency_limit:
                        return False
                else:
                    shared = sum(i.busy for i in members if i.concurrency_limit is None)
                    if shared >= self.unallocated(account):
                        return False
            account.in_flight += 1
            account.max_in_flight = max(account.max_in_flight, account.in_flight)
            if integration is not None:
                integration.in_flight += 1
            return True

    def release_slot(self, token: IssuedToken) -> None:
        with self.lock:
            self.accounts[token.account_id].in_flight -= 1
            integration = self.integrations.get(token.consumer_id)
            if integration is not None:
                integration.in_flight -= 1

    # -- faults ------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        kind: str | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        status: int | None = None,
        count: int = 1,
        body: Any = None,
        delay: float = 0.0,
        action: str | None = None,
        location: str | None = None,
        after_store: bool = False,
    ) -> int:
        if kind not in (
            None, "token", "record", "suiteql", "restlet", "governance", "certificates"
        ):
            raise SimulatorError(
                "kind is one of token, record, suiteql, restlet, governance, certificates."
            )
        if action not in (None, "disconnect", "redirect"):
            raise SimulatorError("action is 'disconnect', 'redirect' or absent.")
        if action == "redirect":
            status = 302 if status is None else status
            if not 300 <= int(status) < 400:
                raise SimulatorError("A redirect's status is a 3xx.")
            action = None
        if status is None and not delay and not action:
            status = 503
        if count < 1:
            raise SimulatorError("count must be at least 1.")
        with self.lock:
            self._fault_ids += 1
            self.faults.append(
                Fault(
                    fault_id=self._fault_ids,
                    kind=kind,
                    path_prefix=path_prefix,
                    method=method.upper() if method else None,
                    status=int(status) if status is not None else None,
                    remaining=int(count),
                    body=body,
                    delay=float(delay),
                    action=action,
                    location=str(location) if location else None,
                    after_store=bool(after_store),
                )
            )
            return self._fault_ids

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # -- idempotency keys ----------------------------------------------------------------------

    def idempotent_create(
        self, account: Account, key: str | None, create: Callable[[], str]
    ) -> tuple[bool, str]:
        """``(True, location)`` of a new record made by ``create()`` (which answers its
        Location), or ``(False, location)`` of the one an earlier create with the same key
        made while it is retained. One lock around both, so two requests carrying one key
        cannot both create."""
        with self.lock:
            now = time.monotonic()
            for old, (at, _) in list(account.idempotency_keys.items()):
                if now - at > self.idempotency_retention:
                    del account.idempotency_keys[old]
            if key and key in account.idempotency_keys:
                return False, account.idempotency_keys[key][1]
            location = create()
            if key:
                account.idempotency_keys[key] = (now, location)
            return True, location

    def take_fault(
        self, kind: str, method: str, path: str, *, after_store: bool = False
    ) -> Fault | None:
        """The next fault for this call, of those served before (or ``after_store``, after)
        the call did its work."""
        with self.lock:
            for fault in self.faults:
                if fault.after_store != after_store:
                    continue
                if fault.remaining > 0 and fault.matches(kind, method, path):
                    fault.remaining -= 1
                    self.counters["faults_served"] += 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def next_seed(self) -> int:
        """A new seed per unordered query: reproducible runs, different order every request."""
        with self.lock:
            self._seed += 1
            return self._seed

    # -- counters ----------------------------------------------------------------------------

    def count(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counters[name] += amount

    def stats(self) -> dict:
        with self.lock:
            accounts = {
                a.account_id: {
                    "in_flight": a.in_flight,
                    "max_in_flight": a.max_in_flight,
                    "concurrency_limit": a.concurrency_limit,
                }
                for a in self.accounts.values()
            }
            return {
                "token_requests": self.counters["token_requests"],
                "tokens_issued": self.counters["tokens_issued"],
                "token_refusals": dict(self.token_refusals),
                "calls": dict(self.calls),
                "requests": sum(self.calls.values()),
                "max_in_flight": max((a["max_in_flight"] for a in accounts.values()), default=0),
                "rejected_429": self.counters["rejected_429"],
                "restlet_limit_errors": self.counters["restlet_limit_errors"],
                "unauthorized": self.counters["unauthorized"],
                "faults_served": self.counters["faults_served"],
                "accounts": accounts,
            }

    def reset_stats(self) -> None:
        with self.lock:
            self.requests_seen.clear()
            self.counters.clear()
            self.calls.clear()
            self.token_refusals.clear()
            for account in self.accounts.values():
                account.max_in_flight = account.in_flight

    def webhook_flags(self, account_id: str) -> dict[int, dict[str, bool]]:
        with self.lock:
            account = self.account(account_id)
            return {sdid: dict(flags) for sdid, flags in account.flags.items()}
