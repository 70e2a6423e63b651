"""Where a subscription stands in its first hour: the set-up checklist, read from stored state.

A subscription is saved from its Name, Account ID and Consumer ID alone, so that a new
administrator can make its key and certificate in the dashboard instead of with OpenSSL.
Until it has a private key *and* the Certificate ID NetSuite issued for its certificate it
cannot sign in to NetSuite: it is *not ready*, and :func:`setup_refusal` is the one sentence
(which step is missing, where to do it) that the services refuse with and the pages show
beside the buttons they disable. The checklist goes on past "ready" (a passed connection test,
the setup check of the bundle's scripts), each step done or to do by what is stored, never
by what a page remembers; nothing here asks NetSuite.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import AuditEvent, ConnectionTest, Subscription
from .connection_tests import finished_own_tests

__all__ = [
    "SetupProgress",
    "SetupStep",
    "setup_missing",
    "setup_progress",
    "setup_refusal",
]

SETUP_CHECK_ACTIONS = ("setup_check.completed", "setup_check.failed")

_MISSING = {
    "key": (
        "Set-up not finished: this subscription has no key and certificate yet. Generate "
        "them in its Certificate section (or upload your own there) first."
    ),
    "certificate_id": (
        "Set-up not finished: the Certificate ID is missing. Upload the certificate in "
        "NetSuite (Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup) and paste "
        "the Certificate ID NetSuite shows in the Certificate section first."
    ),
}


def _value(item, name: str) -> str:
    """A field of a model instance or of a ``values()`` row (the list page uses those)."""
    if isinstance(item, dict):
        return item.get(name) or ""
    return getattr(item, name, "") or ""


def setup_missing(subscription) -> str:
    """The first thing a subscription lacks to sign in to NetSuite: "key",
    "certificate_id", or "" once it is ready. No query."""
    if not _value(subscription, "private_key_fingerprint"):
        return "key"
    if not _value(subscription, "certificate_id").strip():
        return "certificate_id"
    return ""


def setup_refusal(subscription) -> str:
    """Why a NetSuite action is refused for a subscription that is not ready (the missing
    step and where to do it), or "" once it is ready. No query."""
    missing = setup_missing(subscription)
    return _MISSING[missing] if missing else ""


@dataclass(frozen=True)
class SetupStep:
    key: str  # integration, key, certificate_id, connection_test, setup_check
    title: str
    done: bool


@dataclass(frozen=True)
class SetupProgress:
    steps: list[SetupStep]
    missing: str  # setup_missing(): what keeps NetSuite actions refused ("" when ready)

    @property
    def done_count(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def complete(self) -> bool:
        return self.done_count == self.total

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def next_step(self) -> SetupStep | None:
        return next((step for step in self.steps if not step.done), None)


def _test_passed(subscription: Subscription) -> bool:
    """The latest finished test of the subscription's own credentials passed, signing with
    its current key and Certificate ID (a test of an earlier pair says nothing)."""
    latest = (
        finished_own_tests()
        .filter(subscription=subscription)
        .order_by("-started_at", "-id")
        .only("outcome", "key_fingerprint", "netsuite_certificate_id")
        .first()
    )
    return (
        latest is not None
        and latest.outcome == ConnectionTest.Outcome.PASSED
        and latest.key_fingerprint == subscription.private_key_fingerprint
        and latest.netsuite_certificate_id == subscription.certificate_id
    )


def _setup_check_passed(subscription: Subscription) -> bool:
    """The latest setup check found every piece of the bundle present (its audit event is
    the only record of a run)."""
    changes = (
        AuditEvent.objects.filter(subscription_id=subscription.pk, action__in=SETUP_CHECK_ACTIONS)
        .order_by("-id")
        .values_list("changes", flat=True)
        .first()
    )
    return (changes or {}).get("complete") == [None, True]


def setup_progress(subscription: Subscription) -> SetupProgress:
    """The set-up checklist of one subscription, in the seed's order (two queries)."""
    missing = setup_missing(subscription)
    ready = not missing
    steps = [
        SetupStep(
            "integration",
            "Create the integration record in NetSuite and enter its Consumer ID",
            bool(subscription.consumer_id and subscription.account_id),
        ),
        SetupStep(
            "key",
            "Generate the key and certificate (or upload your own)",
            bool(subscription.private_key_fingerprint),
        ),
        SetupStep(
            "certificate_id",
            "Upload the certificate in NetSuite and paste the Certificate ID it shows",
            bool(subscription.certificate_id),
        ),
        SetupStep(
            "connection_test",
            "Test the connection",
            ready and _test_passed(subscription),
        ),
        SetupStep(
            "setup_check",
            "Check the webhook script, the RESTlet and the custom record in NetSuite",
            ready and _setup_check_passed(subscription),
        ),
    ]
    return SetupProgress(steps=steps, missing=missing)
