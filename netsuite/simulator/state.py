"""In-memory state of the simulated NetSuite: accounts, integrations, certificates, tokens,
records, webhook deployments, injected faults and counters. Guarded by one lock."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .. import certificates
from ..accounts import normalize_account_id
from ..auth import KNOWN_SCOPES

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"
ALTERNATE_ID_TYPE = "customrecord_otg_ipaas_alternate_id_type"
DEFAULT_RECORD_COUNTS = {
    "customercategory": 25,
    "location": 12,
    "paymentmethod": 10,
    "shipitem": 8,
    ALTERNATE_ID_TYPE: 6,
}
MAX_ACTIVE_CERTIFICATES = 5
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
    consumer_id: str
    account_id: str
    name: str
    scopes: frozenset[str]
    concurrency_limit: int | None = None
    in_flight: int = 0


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

    def matches(self, kind: str, method: str, path: str) -> bool:
        if self.kind and self.kind != kind:
            return False
        if self.path_prefix and not path.startswith(self.path_prefix):
            return False
        return not (self.method and self.method != method)


def _record_fields(record_type: str, n: int) -> dict:
    if record_type == "shipitem":
        return {"itemid": f"Ship method {n}", "displayname": f"Ship method {n}",
                "isinactive": False}
    if record_type == "location":
        return {"name": f"Location {n}", "isinactive": False, "makeinventoryavailable": True}
    if record_type == "customercategory":
        return {"name": f"Customer category {n}", "isinactive": False}
    if record_type == "paymentmethod":
        return {"name": f"Payment method {n}", "isinactive": False}
    if record_type == ALTERNATE_ID_TYPE:
        return {"name": f"Alternate ID type {n}", "isinactive": False}
    return {"name": f"{record_type} {n}", "isinactive": False}


class SimState:
    """Everything the simulator knows; its constructor holds the settings' defaults.

    ``latency`` is added to every governed call, ``concurrency_limit`` is a new account's
    limit, ``record_counts`` adds to or overrides :data:`DEFAULT_RECORD_COUNTS`, ``token_ttl``
    is a token's lifetime and ``expires_in_format`` ("string", as NetSuite sends it, or
    "number") the form of ``expires_in``.
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
        self.accounts: dict[str, Account] = {}
        self.integrations: dict[str, Integration] = {}
        self.certificates: dict[str, RegisteredCertificate] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.faults: list[Fault] = []
        self._fault_ids = 0
        self.login_audit: deque[dict] = deque(maxlen=500)
        self.counters: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.token_refusals: Counter[str] = Counter()

    # -- configuration -------------------------------------------------------------------

    def configure(self, **changes: Any) -> dict:
        allowed = {"latency", "token_ttl", "expires_in_format", "concurrency_limit"}
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
            return {
                "latency": self.latency,
                "token_ttl": self.token_ttl,
                "expires_in_format": self.expires_in_format,
                "concurrency_limit": self.concurrency_limit,
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
                "isinactive": False,
            }
        account.records[AUTH_DETAILS] = details
        account.next_id[AUTH_DETAILS] = len(details) + 1
        for record_type, count in self.record_counts.items():
            rows = {}
            for n in range(1, count + 1):
                rows[str(n)] = {"id": str(n), **_record_fields(record_type, n)}
            account.records[record_type.lower()] = rows
            account.next_id[record_type.lower()] = count + 1
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
                concurrency_limit=concurrency_limit,
            )
            self.integrations[consumer_id] = integration
            return integration

    def register_certificate(
        self, account_id: str, consumer_id: str, certificate_pem: str, role: int = 3
    ) -> RegisteredCertificate:
        """What an admin does on the OAuth 2.0 Client Credentials (M2M) Setup page."""
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
            fingerprint = certificates.describe_certificate(cert).fingerprint
            for existing in self.certificates.values():
                if (
                    existing.consumer_id == consumer_id
                    and existing.fingerprint == fingerprint
                    and not existing.revoked
                ):
                    return existing
            active = [
                c for c in self.certificates.values()
                if c.consumer_id == consumer_id and c.active(now)
            ]
            if len(active) >= MAX_ACTIVE_CERTIFICATES:
                raise SimulatorError(
                    "This integration already has five active certificates; revoke one first."
                )
            not_before = cert.not_valid_before_utc
            not_after = cert.not_valid_after_utc
            cut = not_after - not_before > MAX_VALIDITY
            if cut:
                not_after = not_before + MAX_VALIDITY
            registered = RegisteredCertificate(
                certificate_id=secrets.token_urlsafe(32),
                account_id=account.account_id,
                consumer_id=consumer_id,
                role=int(role),
                public_key=cert.public_key(),
                fingerprint=fingerprint,
                not_before=not_before,
                not_after=not_after,
                validity_cut=cut,
            )
            self.certificates[registered.certificate_id] = registered
            return registered

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
                integration.concurrency_limit = None if limit is None else int(limit)
            return self.governance(account.account_id)

    def governance(self, account_id: str, consumer_id: str | None = None) -> dict:
        with self.lock:
            account = self.account(account_id)
            allocated = sum(
                i.concurrency_limit or 0
                for i in self.integrations.values()
                if i.account_id == account.account_id
            )
            integration = self.integrations.get(consumer_id) if consumer_id else None
            specific = integration is not None and integration.concurrency_limit is not None
            return {
                "accountConcurrencyLimit": account.concurrency_limit,
                "accountUnallocatedConcurrencyLimit": max(
                    account.concurrency_limit - allocated, 0
                ),
                "integrationConcurrencyLimit": (
                    integration.concurrency_limit if specific else account.concurrency_limit
                ),
                "integrationLimitType": "integrationSpecific" if specific else "accountLimit",
            }

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
        with self.lock:
            account = self.accounts[token.account_id]
            integration = self.integrations.get(token.consumer_id)
            if account.in_flight >= account.concurrency_limit:
                return False
            if (
                integration is not None
                and integration.concurrency_limit is not None
                and integration.in_flight >= integration.concurrency_limit
            ):
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
    ) -> int:
        if kind not in (None, "token", "record", "suiteql", "restlet", "governance"):
            raise SimulatorError(
                "kind is one of token, record, suiteql, restlet, governance."
            )
        if action not in (None, "disconnect"):
            raise SimulatorError("action is 'disconnect' or absent.")
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
                )
            )
            return self._fault_ids

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, kind: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.matches(kind, method, path):
                    fault.remaining -= 1
                    self.counters["faults_served"] += 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
            return None

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
            self.counters.clear()
            self.calls.clear()
            self.token_refusals.clear()
            for account in self.accounts.values():
                account.max_in_flight = account.in_flight

    def webhook_flags(self, account_id: str) -> dict[int, dict[str, bool]]:
        with self.lock:
            account = self.account(account_id)
            return {sdid: dict(flags) for sdid, flags in account.flags.items()}
