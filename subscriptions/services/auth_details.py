"""The iPaaS Auth Details custom record in NetSuite: where NetSuite sends its webhooks.

One entry per environment (production, sandbox, beta) with the webhook URL, the access token
NetSuite sends as a bearer token, and a tracking GUID. The token is never read back to a page:
an entry only says whether it is set. Changes go out as PATCH (NetSuite answers 204) and are
audited with the URL and GUID before and after and ``***CHANGED***`` for the token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from .. import audit
from ..actors import ActorLike
from ..integration import client_for
from ..models import NetSuiteSnapshot, Subscription
from ..models.webhooks import AUTH_DETAILS_TOKEN_MAX_LENGTH
from ..problems import REMOTE_ERRORS, Problem, audit_answer
from ..selectors.snapshots import snapshot_of
from .errors import ServiceError
from .snapshots import snapshot_refresh_turn, snapshot_store

RECORD = "customrecord_otg_ipaas_auth_details"
WEBHOOK_FIELD = "custrecord_otg_ipaas_webhook"
TOKEN_FIELD = "custrecord_otg_ipaas_access_token"
GUID_FIELD = "custrecord_otg_ipaas_tracking_guid"
MAX_ENTRIES = 50
KIND = NetSuiteSnapshot.Kind.AUTH_DETAILS


class AuthDetailsError(ServiceError):
    """A refused or failed change: ``errors`` by field for bad input, ``problem`` for NetSuite."""


@dataclass(frozen=True)
class AuthDetailsEntry:
    id: str
    name: str
    webhook_url: str
    tracking_guid: str
    token_set: bool
    inactive: bool = False

    @classmethod
    def from_record(cls, record: dict) -> AuthDetailsEntry:
        # The token's value is dropped here, the moment it arrives.
        return cls(
            id=str(record.get("id", "")),
            name=str(record.get("name") or record.get("altname") or f"Entry {record.get('id')}"),
            webhook_url=str(record.get(WEBHOOK_FIELD) or ""),
            tracking_guid=str(record.get(GUID_FIELD) or ""),
            token_set=bool(record.get(TOKEN_FIELD)),
            # REST field names are camelCase; SuiteQL's lower-case form is accepted too.
            inactive=record.get("isInactive", record.get("isinactive")) in (True, "T"),
        )


@dataclass
class AuthDetailsList:
    entries: list[AuthDetailsEntry]
    problem: Problem | None = None  # NetSuite could not be read
    # Set when the entries are NetSuite's last answer (a snapshot), not read now.
    fetched_at: dt.datetime | None = None
    fetched_by: str = ""


def auth_details_list(*, subscription: Subscription, actor: ActorLike = None) -> AuthDetailsList:
    """Every entry, read from NetSuite (a read: nothing audited); a successful read is kept as
    the snapshot read-only viewers are shown (the token only as set or not)."""
    try:
        with client_for(subscription) as client:
            ids = []
            for record_id in client.records.list_ids(RECORD):
                ids.append(record_id)
                if len(ids) >= MAX_ENTRIES:
                    break
            entries = [AuthDetailsEntry.from_record(client.records.get(RECORD, i)) for i in ids]
    except REMOTE_ERRORS as exc:
        return AuthDetailsList(entries=[], problem=Problem.of(exc))
    snapshot_store(
        subscription=subscription, kind=KIND, actor=actor,
        data={"entries": [dataclasses.asdict(entry) for entry in entries]},
    )
    return AuthDetailsList(entries=entries)


def auth_details_known(*, subscription: Subscription) -> AuthDetailsList | None:
    """The entries as NetSuite last answered (no call), or None when never read."""
    snapshot = snapshot_of(subscription, KIND)
    if snapshot is None or snapshot.data is None:
        return None
    entries = [AuthDetailsEntry(**entry) for entry in snapshot.data.get("entries", [])]
    return AuthDetailsList(
        entries=entries, fetched_at=snapshot.fetched_at, fetched_by=snapshot.fetched_by
    )


def auth_details_refresh(*, subscription: Subscription, actor: ActorLike) -> AuthDetailsList:
    """A read-only viewer's "Refresh from NetSuite": a turn of the shared window, then the
    read (``RefreshTooSoon`` without a call when the window's turn is taken)."""
    snapshot_refresh_turn(subscription=subscription, kind=KIND)
    return auth_details_list(subscription=subscription, actor=actor)


def validate_webhook_url(
    value: str, *, require_https: bool = True, built_here: bool = False
) -> str:
    """A typed URL must be a full public URL; one this dashboard built only needs its scheme."""
    value = (value or "").strip()
    try:
        if built_here:
            if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
                raise ValidationError("not a URL")
        else:
            URLValidator(schemes=["https", "http"])(value)
    except ValidationError:
        raise ValidationError(
            "Enter a full URL, like https://example.com/hooks/netsuite/1/."
        ) from None
    if require_https and urlsplit(value).scheme != "https":
        raise ValidationError(
            "The webhook URL must use https: NetSuite sends the access token with every call."
        )
    return value


def validate_tracking_guid(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(
            "The tracking GUID must be a UUID like 3f2b8c1e-4a5d-4e7f-9a1b-2c3d4e5f6a7b."
        ) from None


def _validated(
    webhook_url: str, tracking_guid: str | None, require_https: bool, built_here: bool
) -> dict:
    errors = {}
    clean = {}
    try:
        clean["webhook_url"] = validate_webhook_url(
            webhook_url, require_https=require_https, built_here=built_here
        )
    except ValidationError as exc:
        errors["webhook_url"] = exc.messages[0]
    if tracking_guid is not None:
        try:
            clean["tracking_guid"] = validate_tracking_guid(tracking_guid)
        except ValidationError as exc:
            errors["tracking_guid"] = exc.messages[0]
    if errors:
        raise AuthDetailsError("Correct the marked fields; nothing was sent.", errors=errors)
    return clean


PROTECTED_NAMES = {"production"}


def needs_typed_name(name: str) -> bool:
    """Whether overwriting this entry asks for its name to be typed (Production)."""
    return name.strip().lower() in PROTECTED_NAMES


def name_confirmed(name: str, typed: str) -> bool:
    return not needs_typed_name(name) or typed.strip() == name.strip()


def _target(subscription: Subscription, entry_id: str, name: str) -> dict:
    return {
        "target_type": "auth_details",
        "target_id": str(entry_id),
        "target_repr": f"{subscription.name}: iPaaS Auth Details {name}".strip(),
        "subscription_id": subscription.pk,
    }


def auth_details_update(
    *,
    subscription: Subscription,
    entry_id: str,
    webhook_url: str,
    tracking_guid: str | None,
    actor: ActorLike,
    access_token: str = "",
    require_https: bool = True,
    built_here: bool = False,
    reason: str = "",
    confirm_name: str | None = None,
) -> AuthDetailsEntry:
    """PATCH the entry with the changed fields.

    A blank ``access_token`` keeps the current one; ``tracking_guid=None`` keeps the GUID.
    With ``confirm_name`` (an overwrite confirmed by a person), an entry NetSuite names
    Production is changed only if that is the name typed.

    Raises :class:`AuthDetailsError` for bad input (nothing sent, nothing audited) or for a
    NetSuite failure (audited as ``auth_details.update_failed``).
    """
    clean = _validated(webhook_url, tracking_guid, require_https, built_here)
    token = (access_token or "").strip()
    if len(token) > AUTH_DETAILS_TOKEN_MAX_LENGTH:
        raise AuthDetailsError(
            "Correct the marked fields; nothing was sent.",
            errors={
                "access_token": f"The access token can have at most "
                f"{AUTH_DETAILS_TOKEN_MAX_LENGTH} characters (it has {len(token)})."
            },
        )
    entry_id = str(entry_id)
    try:
        with client_for(subscription) as client:
            before = AuthDetailsEntry.from_record(client.records.get(RECORD, entry_id))
            if confirm_name is not None and not name_confirmed(before.name, confirm_name):
                raise AuthDetailsError(
                    "Nothing was sent.",
                    errors={"confirm_name": f"Type {before.name} to confirm."},
                )
            patch = {}
            if clean["webhook_url"] != before.webhook_url:
                patch[WEBHOOK_FIELD] = clean["webhook_url"]
            guid = clean.get("tracking_guid", before.tracking_guid)
            if guid != before.tracking_guid:
                patch[GUID_FIELD] = guid
            if token:
                patch[TOKEN_FIELD] = token
            if patch:
                client.records.patch(RECORD, entry_id, patch)
    except REMOTE_ERRORS as exc:
        problem = Problem.of(exc)
        attempted = {"webhook URL": [None, clean["webhook_url"]]}
        if token:
            attempted["access token"] = audit.censor_secret(False, True)
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="auth_details.update_failed",
                changes={**attempted, **audit_answer(problem)},
                reason=reason,
                **_target(subscription, entry_id, ""),
            )
        raise AuthDetailsError(problem.message, problem=problem) from None
    if not patch:
        return before
    changes = {}
    if WEBHOOK_FIELD in patch:
        changes["webhook URL"] = [before.webhook_url or None, clean["webhook_url"]]
    if GUID_FIELD in patch:
        changes["tracking GUID"] = [before.tracking_guid or None, guid or None]
    if TOKEN_FIELD in patch:
        changes["access token"] = audit.censor_secret(before.token_set, True)
    changes.update(audit_answer(None))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="auth_details.updated",
            changes=changes,
            reason=reason,
            **_target(subscription, entry_id, before.name),
        )
    return AuthDetailsEntry(
        id=before.id,
        name=before.name,
        webhook_url=clean["webhook_url"],
        tracking_guid=guid,
        token_set=before.token_set or bool(token),
        inactive=before.inactive,
    )


def auth_details_use_dashboard(
    *,
    subscription: Subscription,
    entry_id: str,
    inbound_url: str,
    actor: ActorLike,
    allow_http: bool = False,
    reason: str = "",
    confirm_name: str | None = None,
) -> AuthDetailsEntry:
    """Point the entry at this dashboard: its inbound URL and the Webhook API Key.

    ``confirm_name`` as for :func:`auth_details_update`: the page passes what was typed."""
    key = Subscription.objects.values_list("webhook_api_key", flat=True).get(pk=subscription.pk)
    if not key:
        raise AuthDetailsError(
            "This subscription has no Webhook API Key yet; generate one on the subscription "
            "page first."
        )
    if urlsplit(inbound_url).scheme != "https" and not allow_http:
        raise AuthDetailsError(
            "This dashboard is not reached over https, so NetSuite would send the Webhook API "
            "Key in clear; serve it over https first."
        )
    return auth_details_update(
        subscription=subscription,
        entry_id=entry_id,
        webhook_url=inbound_url,
        tracking_guid=None,
        access_token=key,
        actor=actor,
        require_https=not allow_http,
        built_here=True,
        reason=reason or "Use this dashboard",
        confirm_name=confirm_name,
    )
