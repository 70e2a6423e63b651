"""The bundle's user-event script, played by the simulator: a record change posts webhooks.

In NetSuite the iPaaS bundle deploys one user-event script per module; after a record of that
module is created, edited or deleted, and when that deployment's flag for the event is on
(the flags the Webhook Manager RESTlet sets), the script posts the iPaaS.com hook body to the
webhook URL of each iPaaS Auth Details entry, with the entry's access token as the bearer
token. The body carries iPaaS.com's collection scope and, for an item, its record type
(``netsuite.inbound.notification_for``: ``customer/updated``, ``transaction/created``,
``product/updated`` with ``record_type: "kititem"``, ...), the way ``netsuite/inbound.py``
documents and reads it. Here a change is asked for through the admin API
(``POST /_sim/accounts/<account>/record-changes``, :meth:`Simulator.change_record`,
:meth:`SimulatorAdmin.change_record`), so a demo or a test decides when a change happens;
changes made through the REST record API do not fire the script (nothing in the dashboard
writes those records, and a test that PATCHes one would otherwise post to addresses it never
chose).

An entry without an access token is skipped: the three entries a new account starts with
point at iPaaS.com's real hosts with no token, and the simulator must never post there. Each
delivery is one POST without redirects or proxies, with short timeouts; what each answered is
returned, since a script in NetSuite would only log it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import requests

from ..inbound import RECORD_TYPES, notification_for
from ..restlet import module_for_scriptid
from .state import AUTH_DETAILS, ITEM_TYPES, SimState, SimulatorError, rest_datetime

WEBHOOK_FIELD = "custrecord_otg_ipaas_webhook"
TOKEN_FIELD = "custrecord_otg_ipaas_access_token"
DELIVERY_TIMEOUT = (2.0, 5.0)
_MODULE_OF_TYPE = {record_type: module for module, record_type in RECORD_TYPES.items()}
_FLAG_OF_EVENT = {"created": "create", "updated": "update", "deleted": "delete"}
_EVENTS = {"create": "created", "created": "created", "update": "updated", "updated": "updated",
           "edit": "updated", "delete": "deleted", "deleted": "deleted"}


def _apply(state: SimState, account_id: str, record_type: str, event: str,
           record_id: str | None, fields: dict) -> tuple[str, bool, list[dict]]:
    """Change the record; returns its ID, whether the module's flag is on, and the entries
    to deliver to (copied, so delivery runs outside the lock)."""
    module = _MODULE_OF_TYPE[record_type]
    with state.lock:
        account = state.account(account_id)
        rows = account.records.setdefault(record_type, {})
        if event == "created":
            new_id = str(record_id or account.next_id.get(record_type, len(rows) + 1))
            if new_id in rows:
                raise SimulatorError(f"{record_type} {new_id} already exists.")
            account.next_id[record_type] = max(account.next_id.get(record_type, 1),
                                               int(new_id) + 1 if new_id.isdigit() else 1)
            rows[new_id] = {"name": f"{record_type} {new_id}", "isInactive": False, **fields,
                            "id": new_id}
            record_id = new_id
        else:
            if record_id is None or str(record_id) not in rows:
                raise SimulatorError(f"No {record_type} {record_id}.", status=404)
            record_id = str(record_id)
            if event == "updated":
                rows[record_id].update({k: v for k, v in fields.items() if k != "id"})
            else:
                del rows[record_id]
        if record_type in ITEM_TYPES and event != "deleted":
            # NetSuite stamps every save; a given value lets a test or demo date a change.
            rows[record_id]["lastModifiedDate"] = fields.get("lastModifiedDate") or rest_datetime(
                dt.datetime.now(dt.UTC)
            )
        enabled = False
        for deployment in account.deployments:
            if module_for_scriptid(deployment["scriptid"]) == module:
                flags = account.flags.get(deployment["scriptdeploymentid"], {})
                enabled = enabled or bool(flags.get(_FLAG_OF_EVENT[event]))
        entries = [
            dict(entry) for entry in account.records.get(AUTH_DETAILS, {}).values()
            if not entry.get("isInactive") and entry.get(TOKEN_FIELD) and entry.get(WEBHOOK_FIELD)
        ]
    return record_id, enabled, entries


def _deliver(url: str, token: str, body: dict) -> dict:
    if urlsplit(url).scheme not in ("http", "https"):
        return {"url": url, "status": None, "error": "not an http(s) URL"}
    try:
        with requests.Session() as session:
            session.trust_env = False
            response = session.post(
                url, data=json.dumps(body), timeout=DELIVERY_TIMEOUT, allow_redirects=False,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                         "User-Agent": "NetSuiteSimulator-UserEvent/1.0"},
            )
    except requests.RequestException as exc:
        return {"url": url, "status": None, "error": type(exc).__name__}
    return {"url": url, "status": response.status_code, "error": ""}


def play(state: SimState, account_id: str, *, record_type: Any, event: Any,
         record_id: Any = None, fields: Any = None) -> dict:
    """Make the change and post its notification where the script would.

    Returns ``{"record_id", "module", "scope", "enabled", "deliveries": [{"entry", "url",
    "status", "error"}]}``; no deliveries when the module's flag for the event is off.
    """
    record_type = str(record_type or "").lower()
    if record_type not in _MODULE_OF_TYPE:
        raise SimulatorError(
            f"record_type is one of {', '.join(sorted(_MODULE_OF_TYPE))} (the modules with a "
            "user-event deployment)."
        )
    normalized = _EVENTS.get(str(event or "").lower())
    if normalized is None:
        raise SimulatorError("event is create, update or delete.")
    if fields is not None and not isinstance(fields, dict):
        raise SimulatorError("fields must be an object.")
    record_id = None if record_id in (None, "") else str(record_id)
    record_id, enabled, entries = _apply(
        state, account_id, record_type, normalized, record_id, fields or {}
    )
    module = _MODULE_OF_TYPE[record_type]
    notification = notification_for(module, normalized, record_id)
    scope = notification["scope"]
    deliveries = []
    if enabled:
        body = {"notifications": [notification]}
        for entry in entries:
            result = _deliver(entry[WEBHOOK_FIELD], entry[TOKEN_FIELD], body)
            deliveries.append({"entry": entry.get("name", entry.get("id")), **result})
        state.count("webhooks_posted", len(deliveries))
    return {"record_id": record_id, "module": module, "scope": scope, "enabled": enabled,
            "deliveries": deliveries}
