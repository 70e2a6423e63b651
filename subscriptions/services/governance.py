"""Concurrency governance: what NetSuite allows, and the Concurrent Connections it suggests.

NetSuite gives each account one pool of concurrent requests shared by every integration; an
integration record may be given its own, smaller, allocation. "Detect from NetSuite" reads
``governanceLimits`` and proposes the integration's own limit when it has one, else the
account's limit minus one (leaving a slot for people and other integrations).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .. import audit
from ..models import NUMBER_LIMITS, Subscription
from ..netsuite_glue import REMOTE_ERRORS, audit_answer, client_for, error_info
from .subscriptions import ConflictError

MAX_CONCURRENT_CONNECTIONS = NUMBER_LIMITS["concurrent_connections"][1]


class GovernanceError(Exception):
    def __init__(self, message: str, info: dict | None = None):
        self.message = message
        self.info = info
        super().__init__(message)


def _int_or_none(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@dataclass(frozen=True)
class GovernanceProposal:
    account_limit: int | None
    unallocated: int | None
    integration_limit: int | None
    limit_type: str
    configured: int

    @property
    def integration_specific(self) -> bool:
        return self.limit_type == "integrationSpecific" and self.integration_limit is not None

    @property
    def allowed(self) -> int | None:
        """The most this integration may use at once."""
        if self.integration_specific:
            return self.integration_limit
        return self.account_limit

    @property
    def proposed(self) -> int | None:
        if self.integration_specific:
            return max(1, self.integration_limit)
        if self.account_limit is None:
            return None
        return max(1, self.account_limit - 1)

    @property
    def basis(self) -> str:
        if self.integration_specific:
            return "the integration's own concurrency limit"
        return "the account's concurrency limit minus one, for people and other integrations"

    @property
    def warning(self) -> str:
        allowed = self.allowed
        if allowed is not None and self.configured > allowed:
            return (
                f"Concurrent Connections is {self.configured}, but NetSuite allows this "
                f"integration {allowed}: calls beyond that are refused (HTTP 429 or "
                "SSS_REQUEST_LIMIT_EXCEEDED) and retried."
            )
        return ""


def governance_detect(*, subscription: Subscription, actor, reason: str = "") -> GovernanceProposal:
    """Read NetSuite's limits; audited with NetSuite's answer, success or not."""
    try:
        with client_for(subscription) as client:
            limits = client.records.governance_limits()
    except REMOTE_ERRORS as exc:
        info = error_info(exc)
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="governance.detect_failed",
                target=subscription,
                changes=audit_answer(info),
                reason=reason,
            )
        raise GovernanceError(info["message"], info) from None
    proposal = GovernanceProposal(
        account_limit=_int_or_none(limits.get("accountConcurrencyLimit")),
        unallocated=_int_or_none(limits.get("accountUnallocatedConcurrencyLimit")),
        integration_limit=_int_or_none(limits.get("integrationConcurrencyLimit")),
        limit_type=str(limits.get("integrationLimitType") or ""),
        configured=subscription.concurrent_connections,
    )
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="governance.detected",
            target=subscription,
            changes={
                "account concurrency limit": [None, proposal.account_limit],
                "integration concurrency limit": [None, proposal.integration_limit],
                "integration limit type": [None, proposal.limit_type or None],
                "proposed Concurrent Connections": [None, proposal.proposed],
                **audit_answer(None),
            },
            reason=reason,
        )
    return proposal


def governance_apply(
    *,
    subscription: Subscription,
    value: int,
    expected_revision: int,
    actor,
    reason: str = "",
) -> Subscription:
    """Set Concurrent Connections, unless someone saved the subscription meanwhile."""
    if not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENT_CONNECTIONS:
        raise GovernanceError(
            f"Concurrent Connections must be a whole number from 1 to "
            f"{MAX_CONCURRENT_CONNECTIONS}."
        )
    with transaction.atomic():
        current = (
            Subscription.objects.select_for_update()
            .defer("private_key", "webhook_api_key")
            .get(pk=subscription.pk)
        )
        if current.revision != expected_revision:
            raise ConflictError(
                current,
                {
                    "Concurrent Connections": [
                        subscription.concurrent_connections,
                        current.concurrent_connections,
                    ]
                },
            )
        before = current.concurrent_connections
        if before == value:
            return current
        current.concurrent_connections = value
        current.revision += 1
        current.save(update_fields=["concurrent_connections", "revision", "updated_at"])
        audit.record(
            actor=actor,
            action="subscription.updated",
            target=current,
            changes={"concurrent_connections": [before, value]},
            reason=reason or "Applied the value detected from NetSuite's governance limits",
        )
    return current
