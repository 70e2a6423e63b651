"""The iPaaS bundle's "OTG-iPaaS Webhook Manager" RESTlet.

GET lists the user-event deployments that send webhooks (one per module); POST and PUT set the
create/update/delete subscription flags of one deployment, addressed by its
``scriptdeploymentid``; DELETE removes a deployment's subscription. The GET answer does not
report the flags, so callers must remember the last state they set.

Only the Customer deployment's script ID is known from the bundle's documentation; the others
are placed by name, and a deployment that fits no module is kept with ``module=None`` so the
dashboard can show it instead of hiding it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .api import NetSuiteAPI
from .bundle import MODULE_LABELS, MODULES
from .errors import UNREADABLE_JSON, UnexpectedResponseError

SCRIPT = "customscript_otg_ipaas_webhook_manager"
DEPLOY = "customdeploy_otg_ipaas_webhook_manager"
CREATE_FLAG = "custscript_otg_ipaas_create_subscription"
UPDATE_FLAG = "custscript_otg_ipaas_update_subscription"
DELETE_FLAG = "custscript_otg_ipaas_delete_subscription"
CUSTOMER_SCRIPT_ID = "customdeploy_otg_ipaas_customer_sync_ue"


# Words that say nothing about the module: prefixes, "sync", "ue" (user event), numbers.
_NOISE = {"customdeploy", "customscript", "otg", "ipaas", "sync", "ue", "userevent", "deploy",
          "deployment", "notify", "webhook", "script"}
_ALIASES = {
    "customer": ("customer",),
    "inventory_part": ("inventorypart", "inventoryitem"),
    "kit_item": ("kititem", "kit"),
    "location": ("location",),
    "payment_method": ("paymentmethod",),
    "sales_order": ("salesorder",),
    "shipping_item": ("shippingitem", "shipitem", "shippingmethod"),
}


def module_for_scriptid(scriptid: str) -> str | None:
    """The module slug a deployment belongs to, or ``None`` when it cannot be placed."""
    text = (scriptid or "").strip().lower()
    if not text:
        return None
    if text == CUSTOMER_SCRIPT_ID:
        return "customer"
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _NOISE and not w.isdigit()]
    core = "".join(words)
    for slug, aliases in _ALIASES.items():
        if core in aliases:
            return slug
    # Containment is ambiguous for "customer" (customercategory, customerpayment), so only
    # the other modules are matched by a part of the name, and only when exactly one fits.
    hits = {
        slug
        for slug, aliases in _ALIASES.items()
        if slug != "customer" and any(alias in core for alias in aliases if len(alias) > 3)
    }
    if len(hits) == 1:
        return hits.pop()
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in ("T", "TRUE", "Y", "YES", "1")


def _as_int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise UnexpectedResponseError(
            f"The Webhook Manager returned a deployment with a non-numeric ID {value!r}."
        ) from None


@dataclass(frozen=True)
class Deployment:
    scriptdeploymentid: int
    deploymentid: Any
    scriptid: str
    isdeployed: bool
    runasrole: Any
    raw: dict = field(repr=False, compare=False)
    module: str | None = None

    @property
    def module_label(self) -> str | None:
        return MODULE_LABELS.get(self.module) if self.module else None

    @classmethod
    def from_raw(cls, raw: dict) -> Deployment:
        if not isinstance(raw, dict) or "scriptdeploymentid" not in raw:
            raise UnexpectedResponseError(
                "The Webhook Manager returned a deployment without a scriptdeploymentid."
            )
        scriptid = str(raw.get("scriptid") or "")
        return cls(
            scriptdeploymentid=_as_int(raw["scriptdeploymentid"]),
            deploymentid=raw.get("deploymentid"),
            scriptid=scriptid,
            isdeployed=_as_bool(raw.get("isdeployed", "T")),
            runasrole=raw.get("runasrole"),
            raw=dict(raw),
            module=module_for_scriptid(scriptid),
        )


def _deployment_list(data: Any) -> list[dict]:
    if isinstance(data, str):
        # Some scripts return JSON.stringify(...) as text; NetSuite then wraps it once more.
        try:
            data = json.loads(data)
        except UNREADABLE_JSON:
            raise UnexpectedResponseError("The Webhook Manager's answer is not JSON.") from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if "scriptdeploymentid" in data:
            return [data]
        for key in ("deployments", "results", "data", "items"):
            if isinstance(data.get(key), list):
                return data[key]
    raise UnexpectedResponseError("The Webhook Manager's answer is not a list of deployments.")


def group_by_module(deployments: list[Deployment]) -> dict[str | None, list[Deployment]]:
    """Deployments per module slug in :data:`MODULES` order, unplaceable ones under ``None``."""
    groups: dict[str | None, list[Deployment]] = {slug: [] for slug, _ in MODULES}
    groups[None] = []
    for deployment in deployments:
        groups[deployment.module].append(deployment)
    return groups


class WebhookManager:
    SCRIPT = SCRIPT
    DEPLOY = DEPLOY
    MODULES = MODULES

    def __init__(self, client: NetSuiteAPI) -> None:
        self.client = client

    @property
    def url(self) -> str:
        return self.client.urls.restlet_url(SCRIPT, DEPLOY)

    def list_deployments(self) -> list[Deployment]:
        data = self.client.request_json("GET", self.url)
        return [Deployment.from_raw(raw) for raw in _deployment_list(data)]

    def _flags_body(self, scriptdeploymentid: int, create: bool, update: bool, delete: bool):
        for value in (create, update, delete):
            if not isinstance(value, bool):
                raise ValueError("create, update and delete must be True or False.")
        return {
            "id": int(scriptdeploymentid),
            CREATE_FLAG: create,
            UPDATE_FLAG: update,
            DELETE_FLAG: delete,
        }

    @staticmethod
    def _answer(data: Any) -> dict:
        if isinstance(data, dict):
            return data
        if data is None:
            return {}
        if isinstance(data, str):
            try:
                parsed = json.loads(data)
            except UNREADABLE_JSON:
                return {"raw": data}
            return parsed if isinstance(parsed, dict) else {"raw": parsed}
        return {"raw": data}

    def set_flags(
        self, scriptdeploymentid: int, *, create: bool, update: bool, delete: bool
    ) -> dict:
        """POST all three subscription flags of one deployment."""
        body = self._flags_body(scriptdeploymentid, create, update, delete)
        # All three flags are set to given values, never toggled: repeating the POST after an
        # uncertain failure leaves the deployment as one POST would.
        return self._answer(
            self.client.request_json("POST", self.url, json=body, idempotent=True)
        )

    def put_flags(
        self, scriptdeploymentid: int, *, create: bool, update: bool, delete: bool
    ) -> dict:
        """The same as :meth:`set_flags` through the RESTlet's PUT function."""
        body = self._flags_body(scriptdeploymentid, create, update, delete)
        return self._answer(self.client.request_json("PUT", self.url, json=body))

    def delete_subscription(self, scriptdeploymentid: int) -> dict:
        """Remove a deployment's subscription (RESTlet DELETE takes its arguments in the URL)."""
        params = {"id": int(scriptdeploymentid)}
        return self._answer(self.client.request_json("DELETE", self.url, params=params))
