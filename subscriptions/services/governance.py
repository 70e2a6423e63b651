"""Concurrency governance: what NetSuite allows, and the Concurrent Connections it suggests.

NetSuite gives each account one pool of concurrent requests; an integration record may be
given its own allocation out of it, and every integration without one shares what is left
(the *unallocated* pool, ``accountUnallocatedConcurrencyLimit``). With
``integrationLimitType: accountLimit`` the answer carries no ``integrationConcurrencyLimit``
at all. "Detect from NetSuite" reads ``governanceLimits`` (administrator roles only) and
proposes the integration's own limit when it has one, else the unallocated pool, and says
which.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .. import audit
from ..actors import ActorLike
from ..integration import client_for
from ..locks import locked_subscription
from ..models import NUMBER_LIMITS, Subscription
from ..problems import REMOTE_ERRORS, Problem, audit_answer
from .errors import ConflictError, ServiceError
from .subscriptions import save_new_revision

MAX_CONCURRENT_CONNECTIONS = NUMBER_LIMITS["concurrent_connections"][1]


class GovernanceError(ServiceError):
    """NetSuite's limits could not be read, or the value to apply is out of range."""


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
        """The most this integration may use at once: its own limit, else the shared pool."""
        if self.integration_specific:
            return self.integration_limit
        return self.unallocated

    @property
    def proposed(self) -> int | None:
        allowed = self.allowed
        return None if allowed is None else max(1, allowed)

    @property
    def basis(self) -> str:
        if self.integration_specific:
            return "the integration's own concurrency limit"
        if self.unallocated is None:
            return "nothing: NetSuite reported neither this integration's limit nor the pool"
        return (
            "the account's unallocated pool, which this integration shares with every other "
            "integration that has no limit of its own"
        )

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


def governance_detect(
    *, subscription: Subscription, actor: ActorLike, reason: str = ""
) -> GovernanceProposal:
    """Read NetSuite's limits; audited with NetSuite's answer, success or not."""
    try:
        with client_for(subscription) as client:
            limits = client.records.governance_limits()
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="governance.detect_failed",
                target=subscription,
                changes=audit_answer(problem),
                reason=reason,
            )
        raise GovernanceError(problem.message, problem=problem) from None
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
                "unallocated concurrency": [None, proposal.unallocated],
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
    actor: ActorLike,
    reason: str = "",
) -> Subscription:
    """Set Concurrent Connections, unless someone saved the subscription meanwhile."""
    if not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENT_CONNECTIONS:
        raise GovernanceError(
            f"Concurrent Connections must be a whole number from 1 to "
            f"{MAX_CONCURRENT_CONNECTIONS}.",
            field="concurrent_connections",
        )
    with transaction.atomic():
        current = locked_subscription(subscription.pk)
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
        save_new_revision(
            subscription=current,
            actor=actor,
            changes={"concurrent_connections": [before, value]},
            reason=reason or "Applied the value detected from NetSuite's governance limits",
            fields=["concurrent_connections"],
        )
    return current
