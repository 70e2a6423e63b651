"""Per-module webhooks: the Webhook Manager RESTlet's deployments and their three flags.

NetSuite's GET lists the deployments but not their create/update/delete flags, so the
dashboard keeps the state it last set (``WebhookState``), written only after NetSuite accepted
the POST. Every POST carries all three flags of the deployment: the recorded state with the
requested change applied. Bulk actions run in a thread pool sized by the subscription's
Concurrent Connections; the shared limiter holds the real cap whatever else runs meanwhile.

The deployment list (NetSuite's facts only: ids, script ids, deployed; no flags, no secrets) is
kept in Django's cache per subscription for ``WEBHOOK_LIST_CACHE_SECONDS``, so every view by
every role does not call the RESTlet; the table says how old it is and offers a refresh, and
every write drops it. Tables and rows carry a ``version`` (the newest recorded ``set_at``), so
the page can refuse to swap in a table answer older than a row it has just saved.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from netsuite.restlet import (
    CREATE_FLAG,
    DELETE_FLAG,
    MODULE_LABELS,
    MODULES,
    UPDATE_FLAG,
    Deployment,
)
from netsuite.transport import default_deadline

from .. import audit
from ..actors import ActorLike, actor_name
from ..integration import client_for, timeouts
from ..middleware import carrying_context
from ..models import NetSuiteSnapshot, Subscription, WebhookState
from ..problems import REMOTE_ERRORS, Problem, Success, audit_answer
from ..selectors.setup_progress import setup_refusal
from ..selectors.snapshots import snapshot_of
from ..selectors.webhooks import webhook_state, webhook_states, webhook_version
from ..throttling import ConcurrencyLimiter, LocalWaitError
from .errors import setup_not_finished
from .snapshots import snapshot_refresh_turn, snapshot_store

FLAGS = ("create", "update", "delete")
_ANSWER_KEYS = {"create": CREATE_FLAG, "update": UPDATE_FLAG, "delete": DELETE_FLAG}
ALL_OFF = dict.fromkeys(FLAGS, False)
KIND = NetSuiteSnapshot.Kind.WEBHOOK_TABLE


@dataclass
class WebhookRow:
    """One deployment as the page shows it: NetSuite's facts and the recorded flags."""

    module: str | None
    scriptdeploymentid: int | None = None
    scriptid: str = ""
    isdeployed: bool | None = None
    state: WebhookState | None = None
    problem: Problem | None = None
    listed: bool = True  # False when NetSuite's GET was unavailable or no longer lists it
    version: int = 0  # the subscription's webhook version when this row was read
    # The module's newest inbound event per event type, for the page: set by the view from
    # selectors.events.last_events (one query for the whole table), never by NetSuite.
    received: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return MODULE_LABELS.get(self.module, self.scriptid or "Unknown deployment")

    @property
    def flags(self) -> dict[str, bool]:
        return self.state.flags if self.state is not None else dict(ALL_OFF)

    @property
    def recorded(self) -> bool:
        return self.state is not None

    @property
    def toggles(self) -> list[dict]:
        # Never set from here: NetSuite does not report the flags, so they are unknown, not off.
        unknown = self.state is None
        return [
            {"flag": flag, "checked": self.flags[flag] and not unknown, "unknown": unknown}
            for flag in FLAGS
        ]


@dataclass
class WebhookTable:
    rows: list[WebhookRow] = field(default_factory=list)
    unplaced: list[WebhookRow] = field(default_factory=list)
    problem: Problem | None = None  # NetSuite could not list the deployments
    notice: Problem | Success | None = None  # the outcome of a bulk action
    listed_at: float | None = None  # when NetSuite listed the deployments (epoch seconds)
    version: int = 0
    # Set when the deployments are NetSuite's last answer (a snapshot), not read now.
    fetched_at: dt.datetime | None = None
    fetched_by: str = ""

    @property
    def loaded(self) -> bool:
        return self.problem is None

    @property
    def age_seconds(self) -> int | None:
        if self.listed_at is None:
            return None
        return max(0, int(time.time() - self.listed_at))


@dataclass
class _Outcome:
    deployment: Deployment
    before: dict | None
    wanted: dict
    confirmed: dict | None = None
    problem: Problem | None = None


def _row(
    deployment: Deployment, state: WebhookState | None, problem: Problem | None = None
) -> WebhookRow:
    return WebhookRow(
        module=deployment.module,
        scriptdeploymentid=deployment.scriptdeploymentid,
        scriptid=deployment.scriptid,
        isdeployed=deployment.isdeployed,
        state=state,
        problem=problem,
    )


def _cache_key(subscription: Subscription) -> str:
    return f"webhooks:deployments:{subscription.pk}"


def _cached_deployments(
    subscription: Subscription, *, stale_ok: bool = False
) -> tuple[list[Deployment], float] | None:
    """The deployment list NetSuite gave lately for this subscription's account, and when.

    A write marks it stale: the table then asks NetSuite again, while a toggle may still take
    a deployment's facts (module, deployed) from it."""
    entry = cache.get(_cache_key(subscription))
    if not isinstance(entry, dict) or entry.get("account") != subscription.account_id:
        return None
    if entry.get("stale") and not stale_ok:
        return None
    try:
        deployments = [Deployment(**d, raw={}) for d in entry["deployments"]]
    except (KeyError, TypeError):
        return None
    return deployments, float(entry["at"])


def _deployment_facts(deployments: list[Deployment]) -> list[dict]:
    """NetSuite's facts of each deployment (no flags, no secrets): the cache's and the
    snapshot's shape."""
    return [
        {
            "scriptdeploymentid": d.scriptdeploymentid,
            "deploymentid": d.deploymentid,
            "scriptid": d.scriptid,
            "isdeployed": d.isdeployed,
            "runasrole": d.runasrole,
            "module": d.module,
        }
        for d in deployments
    ]


def _cache_deployments(subscription: Subscription, deployments: list[Deployment]) -> float:
    now = time.time()
    seconds = settings.WEBHOOK_LIST_CACHE_SECONDS
    if seconds > 0:
        entry = {
            "account": subscription.account_id,
            "at": now,
            "deployments": _deployment_facts(deployments),
        }
        cache.set(_cache_key(subscription), entry, seconds)
    return now


def webhook_list_forget(*, subscription: Subscription) -> None:
    """Invalidate the cached deployment list: the next table asks NetSuite."""
    key = _cache_key(subscription)
    entry = cache.get(key)
    if isinstance(entry, dict):
        cache.set(key, {**entry, "stale": True}, settings.WEBHOOK_LIST_CACHE_SECONDS)


def _version(states: dict[int, WebhookState]) -> int:
    newest = max((s.set_at for s in states.values()), default=None)
    return int(newest.timestamp() * 1_000_000) if newest else 0


def _build_table(
    subscription: Subscription,
    deployments: list[Deployment] | None,
    problem: Problem | None = None,
    listed_at: float | None = None,
) -> WebhookTable:
    """The seven module rows (deployed or not) and the deployments no module claims."""
    states = webhook_states(subscription)
    table = WebhookTable(problem=problem, listed_at=listed_at, version=_version(states))
    if deployments is None:
        # NetSuite could not be asked: show what was recorded, without toggles for the rest.
        by_module: dict[str, list[WebhookState]] = {}
        for state in states.values():
            by_module.setdefault(state.module, []).append(state)
        for slug, _label in MODULES:
            recorded = by_module.get(slug) or []
            if not recorded:
                table.rows.append(WebhookRow(module=slug, listed=False))
            for state in recorded:
                table.rows.append(
                    WebhookRow(
                        module=slug,
                        scriptdeploymentid=state.scriptdeploymentid,
                        scriptid=state.scriptid,
                        state=state,
                        listed=False,
                    )
                )
        return table
    grouped: dict[str | None, list[Deployment]] = {slug: [] for slug, _ in MODULES}
    grouped[None] = []
    for deployment in deployments:
        grouped.setdefault(deployment.module, []).append(deployment)
    for slug, _label in MODULES:
        if not grouped[slug]:
            table.rows.append(WebhookRow(module=slug, listed=False))
        for deployment in grouped[slug]:
            table.rows.append(_row(deployment, states.get(deployment.scriptdeploymentid)))
    for deployment in grouped[None]:
        table.unplaced.append(_row(deployment, states.get(deployment.scriptdeploymentid)))
    return table


def webhook_table(
    *, subscription: Subscription, refresh: bool = False, actor: ActorLike = None
) -> WebhookTable:
    """The deployments as NetSuite listed them lately (cached), or asked now with ``refresh``.

    A read: nothing is audited; a list read from NetSuite is kept as the snapshot read-only
    viewers are shown. A failure is never cached. A subscription that is not ready gets the
    table without NetSuite's list and the missing step as its problem.
    """
    if why := setup_refusal(subscription):
        return _build_table(subscription, None, setup_not_finished(why))
    cached = None if refresh else _cached_deployments(subscription)
    if cached is not None:
        deployments, listed_at = cached
        return _build_table(subscription, deployments, listed_at=listed_at)
    try:
        with client_for(subscription) as client:
            deployments = client.webhooks.list_deployments()
    except REMOTE_ERRORS as exc:
        return _build_table(subscription, None, Problem.of(exc))
    listed_at = _cache_deployments(subscription, deployments)
    snapshot_store(
        subscription=subscription, kind=KIND, actor=actor,
        data={"deployments": _deployment_facts(deployments)},
    )
    return _build_table(subscription, deployments, listed_at=listed_at)


def webhook_known(*, subscription: Subscription) -> WebhookTable | None:
    """NetSuite's deployment list as it last answered (no call) with the flags recorded here
    now; None when never read."""
    if why := setup_refusal(subscription):
        return _build_table(subscription, None, setup_not_finished(why))
    snapshot = snapshot_of(subscription, KIND)
    if snapshot is None or snapshot.data is None:
        return None
    deployments = [Deployment(**d, raw={}) for d in snapshot.data.get("deployments", [])]
    table = _build_table(subscription, deployments)
    table.fetched_at, table.fetched_by = snapshot.fetched_at, snapshot.fetched_by
    return table


def webhook_refresh(*, subscription: Subscription, actor: ActorLike) -> WebhookTable:
    """A read-only viewer's "Refresh from NetSuite": a turn of the shared window
    (``RefreshTooSoon`` without a call), then the read."""
    snapshot_refresh_turn(subscription=subscription, kind=KIND)
    return webhook_table(subscription=subscription, refresh=True, actor=actor)


def _push(client, subscription: Subscription, outcomes: list[_Outcome]) -> None:
    """POST every outcome's wanted flags, at most Concurrent Connections at once."""

    def send(outcome: _Outcome) -> None:
        wanted = outcome.wanted
        try:
            answer = client.webhooks.set_flags(
                outcome.deployment.scriptdeploymentid,
                create=wanted["create"],
                update=wanted["update"],
                delete=wanted["delete"],
            )
        except REMOTE_ERRORS as exc:
            outcome.problem = Problem.of(exc)
            return
        # NetSuite's answer, when it echoes the flags, is what it now has; otherwise the
        # success of the POST confirms what was sent.
        outcome.confirmed = {
            flag: answer[key] if isinstance(answer.get(key), bool) else wanted[flag]
            for flag, key in _ANSWER_KEYS.items()
        }

    if len(outcomes) <= 1:
        for outcome in outcomes:
            send(outcome)
        return
    workers = max(1, min(len(outcomes), subscription.concurrent_connections or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks") as pool:
        list(pool.map(carrying_context(send), outcomes))


def _flags_text(flags: dict) -> str:
    return ", ".join(f"{flag} {'on' if flags[flag] else 'off'}" for flag in FLAGS)


def _record(
    subscription: Subscription, outcomes: list[_Outcome], actor: ActorLike, reason: str
) -> dict[int, WebhookState]:
    """Save what NetSuite confirmed and audit every attempt, in one transaction."""
    set_by = actor_name(actor)
    saved = {}
    with transaction.atomic():
        now = timezone.now()
        for outcome in outcomes:
            deployment = outcome.deployment
            label = MODULE_LABELS.get(deployment.module, deployment.scriptid)
            target = {
                "target_type": "webhook",
                "target_id": str(deployment.scriptdeploymentid),
                "target_repr": f"{subscription.name}: {label} ({deployment.scriptid})",
                "subscription_id": subscription.pk,
            }
            if outcome.problem is not None:
                audit.record(
                    actor=actor,
                    action="webhook.set_failed",
                    changes={
                        "attempted": [None, _flags_text(outcome.wanted)],
                        **audit_answer(outcome.problem),
                    },
                    reason=reason,
                    **target,
                )
                continue
            confirmed = outcome.confirmed
            state, _ = WebhookState.objects.update_or_create(
                subscription=subscription,
                scriptdeploymentid=deployment.scriptdeploymentid,
                defaults={
                    "scriptid": deployment.scriptid[:255],
                    "module": deployment.module or "",
                    "create_enabled": confirmed["create"],
                    "update_enabled": confirmed["update"],
                    "delete_enabled": confirmed["delete"],
                    "set_by": set_by,
                    "set_at": now,
                },
            )
            saved[deployment.scriptdeploymentid] = state
            before = outcome.before
            changes = {
                f"{label} {flag}": [None if before is None else before[flag], confirmed[flag]]
                for flag in FLAGS
                if before is None or before[flag] != confirmed[flag]
            }
            if not changes:
                changes = {"flags (re-applied)": [None, _flags_text(confirmed)]}
            changes.update(audit_answer(None))
            audit.record(
                actor=actor, action="webhook.set", changes=changes, reason=reason, **target
            )
    return saved


def _audit_unreachable(
    subscription: Subscription, actor: ActorLike, action: str, problem: Problem, reason: str
) -> None:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=action,
            target_type="subscription",
            target_id=str(subscription.pk),
            target_repr=subscription.name,
            subscription_id=subscription.pk,
            changes=audit_answer(problem),
            reason=reason,
        )


def webhook_set_flag(
    *,
    subscription: Subscription,
    scriptdeploymentid: int,
    flag: str,
    value: bool,
    actor: ActorLike,
    reason: str = "",
) -> WebhookRow:
    """Switch one flag of a deployment: the recorded state with that flag changed.

    Returns the row to show: the new state when NetSuite confirmed it, else the recorded one
    with the reason in ``row.problem``.
    """
    if flag not in FLAGS:
        raise ValueError("flag must be create, update or delete.")
    return _set(
        subscription=subscription,
        scriptdeploymentid=scriptdeploymentid,
        change=lambda flags: {**flags, flag: bool(value)},
        actor=actor,
        reason=reason,
    )


def webhook_set_flags(
    *,
    subscription: Subscription,
    scriptdeploymentid: int,
    flags: dict[str, bool],
    actor: ActorLike,
    reason: str = "",
) -> WebhookRow:
    """Set all three flags of a deployment; returns the row as :func:`webhook_set_flag`."""
    if set(flags) != set(FLAGS):
        raise ValueError("flags must give create, update and delete.")
    wanted = {f: bool(flags[f]) for f in FLAGS}
    return _set(
        subscription=subscription,
        scriptdeploymentid=scriptdeploymentid,
        change=lambda _flags: dict(wanted),
        actor=actor,
        reason=reason,
    )


def _unknown_deployment(scriptdeploymentid: int) -> Problem:
    return Problem(
        message=f"NetSuite lists no webhook deployment {scriptdeploymentid}.",
        code="UNKNOWN_DEPLOYMENT",
        hint="Reload the webhook table; a sandbox refresh or a bundle update may have "
        "replaced the deployments.",
    )


class _WritesBusy(Exception):
    """Another webhook write of the subscription kept its turn for NETSUITE_SLOT_WAIT."""


_BUSY = Problem(
    message="Another change to these webhooks was still being sent to NetSuite; this one was "
    "not sent.",
    code="WEBHOOK_WRITE_BUSY",
    hint="Wait a moment and try again: the checkboxes show what NetSuite last confirmed.",
)


@contextlib.contextmanager
def _taking_turns(subscription: Subscription, calls: int):
    """Webhook writes of one subscription one at a time, across every process and machine.

    Each POST carries all three flags, computed from the recorded state: two writes at once
    (two people, or two quick clicks in one row) would each send the other's flag back as it
    was, and the last answer would win in NetSuite and in the record alike. The turn is a
    lease in the throttle store that outlasts the write's ``calls`` (so a killed process
    holds it no longer than that); a write that waits longer than NETSUITE_SLOT_WAIT for
    it is refused with :data:`_BUSY` and sends nothing."""
    limiter = ConcurrencyLimiter(
        f"webhook-write:{subscription.pk}",
        1,
        hold_seconds=calls * default_deadline(timeouts()) + 5,
        wait_seconds=settings.NETSUITE_SLOT_WAIT,
    )
    with contextlib.ExitStack() as turn:
        try:
            turn.enter_context(limiter.slot())
        except LocalWaitError:
            raise _WritesBusy from None
        yield


def _set(
    *,
    subscription: Subscription,
    scriptdeploymentid: int,
    change: Callable[[dict[str, bool]], dict[str, bool]],
    actor: ActorLike,
    reason: str,
) -> WebhookRow:
    if why := setup_refusal(subscription):
        # Not ready: refused before anything is sent or recorded, with the missing step.
        state = webhook_state(subscription, scriptdeploymentid)
        return WebhookRow(
            module=state.module if state else None,
            scriptdeploymentid=scriptdeploymentid,
            scriptid=state.scriptid if state else "",
            state=state,
            problem=setup_not_finished(why),
        )
    try:
        # The deployment list (when not cached) and the POST.
        with _taking_turns(subscription, calls=2):
            return _set_in_turn(
                subscription=subscription,
                scriptdeploymentid=scriptdeploymentid,
                change=change,
                actor=actor,
                reason=reason,
            )
    except _WritesBusy:
        _audit_unreachable(subscription, actor, "webhook.set_failed", _BUSY, reason)
        state = webhook_state(subscription, scriptdeploymentid)
        return WebhookRow(
            module=state.module if state else None,
            scriptdeploymentid=scriptdeploymentid,
            scriptid=state.scriptid if state else "",
            state=state,
            problem=_BUSY,
        )


def _set_in_turn(
    *,
    subscription: Subscription,
    scriptdeploymentid: int,
    change: Callable[[dict[str, bool]], dict[str, bool]],
    actor: ActorLike,
    reason: str,
) -> WebhookRow:
    state = webhook_state(subscription, scriptdeploymentid)

    def refused(problem: Problem, **row) -> WebhookRow:
        _audit_unreachable(subscription, actor, "webhook.set_failed", problem, reason)
        return WebhookRow(scriptdeploymentid=scriptdeploymentid, problem=problem, **row)

    try:
        client = client_for(subscription)
    except REMOTE_ERRORS as exc:
        return refused(
            Problem.of(exc),
            module=state.module if state else None,
            scriptid=state.scriptid if state else "",
            state=state,
        )
    cached = _cached_deployments(subscription, stale_ok=True)
    listed = next(
        (d for d in (cached[0] if cached else []) if d.scriptdeploymentid == scriptdeploymentid),
        None,
    )
    with client:
        if listed is not None:
            deployment = listed  # as NetSuite listed it lately: its "deployed" stays shown
        elif state is not None:
            deployment = Deployment(
                scriptdeploymentid=state.scriptdeploymentid,
                deploymentid=None,
                scriptid=state.scriptid,
                isdeployed=None,  # not asked this time
                runasrole=None,
                raw={},
                module=state.module or None,
            )
        else:
            # Never set from here: NetSuite's list says what this deployment is.
            try:
                deployments = client.webhooks.list_deployments()
            except REMOTE_ERRORS as exc:
                return refused(Problem.of(exc), module=None)
            deployment = next(
                (d for d in deployments if d.scriptdeploymentid == scriptdeploymentid), None
            )
            if deployment is None:
                return refused(_unknown_deployment(scriptdeploymentid), module=None)
        before = state.flags if state is not None else None
        wanted = change(dict(before or ALL_OFF))
        outcome = _Outcome(deployment=deployment, before=before, wanted=wanted)
        _push(client, subscription, [outcome])
    saved = _record(subscription, [outcome], actor, reason)
    webhook_list_forget(subscription=subscription)
    row = _row(deployment, saved.get(scriptdeploymentid, state), outcome.problem)
    row.version = webhook_version(subscription)
    return row


@dataclass
class BulkResult:
    table: WebhookTable
    succeeded: int = 0
    failed: int = 0


def _bulk(
    *,
    subscription: Subscription,
    actor: ActorLike,
    reason: str,
    choose,
    what: str,
) -> BulkResult:
    if why := setup_refusal(subscription):
        # Not ready: refused before anything is sent or recorded, with the missing step.
        return BulkResult(table=_build_table(subscription, None, setup_not_finished(why)))
    # The list, then every deployment (one per module and maybe one more) in rounds of
    # Concurrent Connections.
    rounds = math.ceil((len(MODULES) + 1) / max(1, subscription.concurrent_connections or 1))
    try:
        with _taking_turns(subscription, calls=1 + rounds):
            with client_for(subscription) as client:
                deployments = client.webhooks.list_deployments()
                states = webhook_states(subscription)
                outcomes, missing = choose(deployments, states)
                _push(client, subscription, outcomes)
            _record(subscription, outcomes, actor, reason or what)
    except (_WritesBusy, *REMOTE_ERRORS) as exc:
        problem = _BUSY if isinstance(exc, _WritesBusy) else Problem.of(exc)
        _audit_unreachable(subscription, actor, "webhook.bulk_failed", problem, reason or what)
        return BulkResult(table=_build_table(subscription, None, problem))
    webhook_list_forget(subscription=subscription)
    # The list was asked for just now: it is the freshest there is.
    listed_at = _cache_deployments(subscription, deployments)
    table = _build_table(subscription, deployments, listed_at=listed_at)
    problems = {o.deployment.scriptdeploymentid: o.problem for o in outcomes if o.problem}
    for row in [*table.rows, *table.unplaced]:
        if row.scriptdeploymentid in problems:
            row.problem = problems[row.scriptdeploymentid]
    failed = len(problems)
    succeeded = len(outcomes) - failed
    text = f"{what}: NetSuite confirmed {succeeded} deployment{'s' if succeeded != 1 else ''}"
    if failed:
        text += f", {failed} failed (see the rows marked below)"
    if missing:
        text += (
            f"; {len(missing)} recorded deployment{'s are' if len(missing) != 1 else ' is'} no "
            f"longer listed by NetSuite ({', '.join(missing)})"
        )
    table.notice = Problem(text + ".") if failed or missing else Success(text + ".")
    return BulkResult(table=table, succeeded=succeeded, failed=failed)


def webhook_set_all(
    *,
    subscription: Subscription,
    enabled: bool,
    actor: ActorLike,
    module: str | None = None,
    reason: str = "",
) -> BulkResult:
    """Every flag of every placed deployment (or of one module's) on or off."""
    if module is not None and module not in MODULE_LABELS:
        raise ValueError(f"unknown module {module!r}")
    wanted = dict.fromkeys(FLAGS, bool(enabled))

    def choose(deployments, states):
        outcomes = [
            _Outcome(
                deployment=d,
                before=states[d.scriptdeploymentid].flags
                if d.scriptdeploymentid in states
                else None,
                wanted=dict(wanted),
            )
            for d in deployments
            if d.module and (module is None or d.module == module)
        ]
        return outcomes, []

    scope = MODULE_LABELS[module] if module else "all modules"
    what = f"{'Enable' if enabled else 'Disable'} all ({scope})"
    return _bulk(subscription=subscription, actor=actor, reason=reason, choose=choose, what=what)


def webhook_reapply(
    *, subscription: Subscription, actor: ActorLike, reason: str = ""
) -> BulkResult:
    """Push every recorded state to NetSuite again (after a sandbox refresh, for example)."""

    def choose(deployments, states):
        listed = {d.scriptdeploymentid: d for d in deployments}
        outcomes = [
            _Outcome(deployment=listed[sdid], before=state.flags, wanted=state.flags)
            for sdid, state in states.items()
            if sdid in listed
        ]
        missing = [state.scriptid for sdid, state in states.items() if sdid not in listed]
        return outcomes, missing

    return _bulk(
        subscription=subscription,
        actor=actor,
        reason=reason,
        choose=choose,
        what="Re-apply the recorded state",
    )
