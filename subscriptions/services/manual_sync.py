"""Manual sync: read one record from NetSuite now, by module and internal ID, and show it.

The by-hand counterpart of an inbound event, for support staff checking what NetSuite holds
when an event seems missing. It reads through the REST record API with the subscription's own
client (its caps and throttle), changes nothing here, and is audited like the other reads a
person makes with the subscription's credentials (who asked for which record, and NetSuite's
answer; never the record itself). What is shown has every field whose name suggests a secret
replaced, and NetSuite's links removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from netsuite.bundle import MODULE_LABELS
from netsuite.inbound import RECORD_TYPES

from .. import audit
from ..actors import ActorLike
from ..integration import client_for
from ..models import Subscription
from ..problems import REMOTE_ERRORS, Problem, audit_answer
from .errors import InvalidInput, ServiceError

HIDDEN = "(hidden: looks like a secret)"
_SECRET_NAME = re.compile(r"token|secret|password|passwd|api_?key|private|credential", re.I)
_INTERNAL_ID = re.compile(r"^[0-9]{1,18}$")


class ManualSyncError(ServiceError):
    """NetSuite could not give the record (its Problem says why)."""


@dataclass(frozen=True)
class SyncedRecord:
    module: str
    record_type: str
    internal_id: str
    fields: dict[str, Any]

    @property
    def module_label(self) -> str:
        return MODULE_LABELS[self.module]

    @property
    def rows(self) -> list[tuple[str, str]]:
        """``(field, value)`` for a table: text as it came, anything else as JSON."""
        return [
            (name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for name, value in self.fields.items()
        ]


def _shown(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: HIDDEN if _SECRET_NAME.search(str(key)) else _shown(item)
            for key, item in value.items()
            if key != "links"
        }
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value


def manual_sync_fetch(
    *, subscription: Subscription, module: str, internal_id: str, actor: ActorLike
) -> SyncedRecord:
    """The record as NetSuite returns it now; :class:`InvalidInput` for a bad module or ID,
    :class:`ManualSyncError` when NetSuite refused or could not be reached."""
    internal_id = str(internal_id).strip()
    errors = {}
    if module not in RECORD_TYPES:
        errors["module"] = "Choose one of the modules."
    if not _INTERNAL_ID.match(internal_id):
        errors["internal_id"] = "A NetSuite internal ID is a number, such as 107."
    if errors:
        raise InvalidInput(errors)
    record_type = RECORD_TYPES[module]
    changes = {"module": [None, MODULE_LABELS[module]], "internal ID": [None, internal_id]}
    try:
        with client_for(subscription) as client:
            data = client.records.get(record_type, internal_id)
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        with transaction.atomic():
            audit.record(
                actor=actor, action="manual_sync.failed", target=subscription,
                changes={**changes, **audit_answer(problem)},
            )
        raise ManualSyncError(problem.message, problem=problem) from None
    with transaction.atomic():
        audit.record(
            actor=actor, action="manual_sync.fetched", target=subscription,
            changes={**changes, **audit_answer(None)},
        )
    return SyncedRecord(
        module=module, record_type=record_type, internal_id=internal_id, fields=_shown(data)
    )
