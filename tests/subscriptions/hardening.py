"""Every URL of the dashboard, who may use it with which method, and real objects to fill its
path; a plain module, not a test module (test_hardening_*.py use it).

``ACCESS`` is the source of truth the tests hold the views to: a URL that is not in it fails
the matrix test with the line to add. What the views' decorators declare is read only to
cross-check the table and to suggest that line.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from subscriptions.models import Role

ADMIN, SUPPORT, AUDITOR = Role.ADMINISTRATOR, Role.SUPPORT, Role.AUDITOR
ANON = "anonymous"
ROLES = (ANON, AUDITOR, SUPPORT, ADMIN)
STAFF = frozenset({ADMIN, SUPPORT, AUDITOR})
EVERYONE = STAFF | {ANON}
# The inbound webhook: the Webhook API Key is the only way in, a session counts for nothing.
KEY_ONLY = "key only"
# The API (/api/v1/): a personal token is the only way in, a session counts for nothing; who
# may call what with a token is tests/api/matrix.py's table.
TOKEN_ONLY = KEY_ONLY
# /metrics: METRICS_TOKEN or an allowed address, a session counts for nothing; with neither
# configured (as in the tests) it does not exist: 404 (tests/subscriptions/test_metrics.py).
SCRAPER_ONLY = "metrics token or address"
METHODS = ("GET", "POST", "PUT", "DELETE")

A, AS, AA = frozenset({ADMIN}), frozenset({ADMIN, SUPPORT}), frozenset({ADMIN, AUDITOR})

# url name -> {method: roles that may use it}. A method not listed answers 405; a role not
# listed 403 (anonymous: 302 to the login page, unless the view needs no login).
ACCESS: dict[str, dict[str, frozenset | str]] = {
    # Django's RedirectView sends every method on to the landing page.
    "home": {method: STAFF for method in METHODS},
    # A redirect to the static icon, for every browser, logged in or not.
    "favicon": {"GET": EVERYONE},
    # Prometheus's scrape (views/metrics.py).
    "metrics": {"GET": SCRAPER_ONLY},
    # Probes for load balancers and monitors: no login, nothing secret (views/health.py).
    "healthz": {"GET": EVERYONE},
    "readyz": {"GET": EVERYONE},
    # Django's FormView takes PUT as a POST.
    "login": {"GET": EVERYONE, "POST": EVERYONE, "PUT": EVERYONE},
    "logout": {"POST": EVERYONE},
    # Single sign-on: out to the provider and back, before any session (GET only; with SSO
    # not set up, both send back to the login page with a message).
    "sso_login": {"GET": EVERYONE},
    "sso_callback": {"GET": EVERYONE},
    "subscriptions:landing": {"GET": STAFF},
    "subscriptions:list": {"GET": STAFF},
    "subscriptions:create": {"GET": A, "POST": A},
    "subscriptions:api_url_preview": {"GET": A},
    "subscriptions:detail": {"GET": STAFF},
    "subscriptions:edit": {"GET": A, "POST": A},
    "subscriptions:delete": {"GET": A, "POST": A},
    "subscriptions:webhook_key_regenerate": {"GET": A, "POST": A},
    "subscriptions:subscription_history": {"GET": AA},
    "subscriptions:connection_test": {"POST": AS},
    "subscriptions:connection_test_step": {"POST": AS},
    "subscriptions:connection_tests": {"GET": STAFF},
    # Monitoring: the schedule is a setting of the subscription; so is silencing a notice.
    "subscriptions:connection_test_schedule": {"POST": A},
    "subscriptions:notice_acknowledge": {"POST": A},
    "subscriptions:certificates": {"GET": STAFF},
    "subscriptions:certificate_generate": {"POST": A},
    "subscriptions:certificate_upload": {"POST": A},
    "subscriptions:certificate_set_id": {"POST": A},
    "subscriptions:certificate_register_in_simulator": {"POST": A},
    "subscriptions:certificate_activate": {"POST": A},
    "subscriptions:certificate_discard": {"POST": A},
    "subscriptions:certificate_download": {"GET": A},
    "subscriptions:certificate_rotate_confirm": {"GET": A},
    "subscriptions:certificate_rotate": {"POST": A},
    "subscriptions:certificate_netsuite_list": {"GET": STAFF},
    "subscriptions:certificate_revoke_confirm": {"GET": A},
    "subscriptions:certificate_revoke_in_netsuite": {"POST": A},
    "subscriptions:webhooks": {"GET": STAFF},
    "subscriptions:webhooks_overview": {"GET": AS},
    "subscriptions:webhook_toggle": {"POST": AS},
    "subscriptions:webhook_set_all": {"POST": AS},
    "subscriptions:webhook_reapply": {"POST": AS},
    "subscriptions:auth_details": {"GET": STAFF},
    # A read-only viewer's "Refresh from NetSuite": anyone who may view the section.
    "subscriptions:netsuite_refresh": {"POST": STAFF},
    "subscriptions:auth_details_edit": {"POST": A},
    "subscriptions:auth_details_use_dashboard": {"POST": A},
    "subscriptions:inbound_webhook": {"POST": KEY_ONLY},
    "subscriptions:events": {"GET": AS},
    "subscriptions:events_manual_sync": {"POST": AS},
    "subscriptions:setup_check": {"GET": AS, "POST": AS},
    "subscriptions:governance": {"GET": A, "POST": A},
    "subscriptions:governance_apply": {"POST": A},
    "subscriptions:subscription_jobs": {"GET": AS},
    "subscriptions:initialization_start": {"POST": A},
    "subscriptions:polling_start": {"POST": A},
    "subscriptions:polling_settings": {"POST": A},
    "subscriptions:records": {"GET": AS},
    "subscriptions:jobs": {"GET": AS},
    "subscriptions:inventory": {"GET": AS},
    "subscriptions:job_detail": {"GET": AS},
    "subscriptions:job_cancel": {"POST": A},
    "subscriptions:job_retry": {"POST": A},
    "subscriptions:audit_list": {"GET": AA},
    "subscriptions:audit_export": {"POST": AA},
    "subscriptions:audit_verify": {"GET": AA},
    "subscriptions:audit_detail": {"GET": AA},
    "subscriptions:people": {"GET": A},
    "subscriptions:people_set_role": {"POST": A},
    "subscriptions:people_set_active": {"POST": A},
    "subscriptions:people_unlock": {"POST": A},
    "subscriptions:lockout_lift": {"POST": A},
    "subscriptions:people_invite": {"POST": A},
    "subscriptions:people_send_password_link": {"POST": A},
    # The second factor: an administrator resets another's (a confirmed step); everyone
    # has their own page, enrolment, code step and new recovery codes.
    "subscriptions:people_mfa_reset": {"GET": A, "POST": A},
    "subscriptions:mfa_page": {"GET": STAFF},
    "subscriptions:mfa_enrol": {"GET": STAFF, "POST": STAFF},
    "subscriptions:mfa_verify": {"GET": STAFF, "POST": STAFF},
    "subscriptions:mfa_recovery_codes_regenerate": {"POST": STAFF},
    # A person's own API tokens: everyone with a role has them.
    "subscriptions:api_tokens": {"GET": STAFF, "POST": STAFF},
    "subscriptions:api_token_revoke": {"POST": STAFF},
    # The API: its root leads to the docs; the docs, the schema and health need no token.
    "api:api-root": {"GET": EVERYONE},
    "api:openapi-json": {"GET": EVERYONE},
    "api:openapi-view": {"GET": EVERYONE},
    "api:health": {"GET": EVERYONE},
    "api:subscription_list": {"GET": TOKEN_ONLY},
    "api:subscription_detail": {"GET": TOKEN_ONLY},
    "api:webhook_list": {"GET": TOKEN_ONLY},
    "api:webhook_set": {"PUT": TOKEN_ONLY},
    "api:connection_test_start": {"POST": TOKEN_ONLY},
    "api:connection_test_detail": {"GET": TOKEN_ONLY},
    "api:initialization_start": {"POST": TOKEN_ONLY},
    "api:polling_start": {"POST": TOKEN_ONLY},
    "api:job_list": {"GET": TOKEN_ONLY},
    "api:job_detail": {"GET": TOKEN_ONLY},
    "api:inventory_list": {"GET": TOKEN_ONLY},
    "api:record_list": {"GET": TOKEN_ONLY},
    "api:event_list": {"GET": TOKEN_ONLY},
    "api:audit_events": {"GET": TOKEN_ONLY},
    "api:audit_stream": {"GET": TOKEN_ONLY},
    # Opened from the emailed link, without a session.
    "subscriptions:password_set": {"GET": EVERYONE, "POST": EVERYONE},
}


@dataclass(frozen=True)
class Url:
    name: str
    route: str
    view: object
    params: tuple[str, ...]

    @property
    def login_required(self) -> bool:
        return getattr(self.view, "login_required", True)


def every_url() -> list[Url]:
    """Every named URL the root URLconf serves, includes flattened."""
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
                found.append(
                    Url(
                        name=name,
                        route=prefix + str(pattern.pattern),
                        view=pattern.callback,
                        params=tuple(pattern.pattern.converters),
                    )
                )

    walk(get_resolver().url_patterns, "", "")
    return found


# --- what the views declare: the cross-check and the suggested table line -------------------


def declared(view) -> tuple[frozenset[str] | None, tuple[str, ...] | None]:
    """``(methods, permissions)`` the view's decorators name, each None when none does."""
    methods = perms = None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handlers = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
        methods = frozenset(handlers & set(METHODS))
    fn = view
    while fn is not None:
        names = getattr(getattr(fn, "__code__", None), "co_freevars", ())
        # getattr: a functools.partial (ninja's schema and docs views) has no closure.
        cells = dict(zip(names, getattr(fn, "__closure__", None) or (), strict=False))
        if methods is None and "request_method_list" in cells:
            methods = frozenset(cells["request_method_list"].cell_contents)
        if perms is None and "perms" in cells:
            perms = tuple(cells["perms"].cell_contents)
        fn = getattr(fn, "__wrapped__", None)
    return methods, perms


def roles_holding(perms: tuple[str, ...]) -> frozenset:
    from subscriptions.permissions import PERMISSIONS

    roles = set(STAFF)
    for perm in perms:
        codename = perm.split(".")[-1]
        roles &= PERMISSIONS.get(codename, {ADMIN})
    return frozenset(roles)


def suggested_line(url: Url) -> str:
    methods, perms = declared(url.view)
    roles = roles_holding(perms) if perms is not None else None
    names = {STAFF: "STAFF", A: "A", AS: "AS", AA: "AA", EVERYONE: "EVERYONE"}
    who = (
        names.get(roles, sorted(roles) if roles else "<roles>")
        if roles is not None
        else ("<roles: the view checks no permission by decorator>")
    )
    entries = ", ".join(f'"{m}": {who}' for m in sorted(methods or {"GET"}))
    return f'    "{url.name}": {{{entries}}},'


# --- real objects for every path parameter ----------------------------------------------------


def path_values(world: dict) -> dict:
    """Path parameter -> value, by the parameter's name and, for ``pk``, the route's first
    segment (a subscription's, a person's, an audit event's)."""
    return {
        ("subscriptions", "pk"): world["subscription"].pk,
        ("hooks", "pk"): world["subscription"].pk,
        ("people", "pk"): world["person"].pk,
        ("audit", "pk"): world["audit_event"].pk,
        (None, "cert_pk"): world["certificate"].pk,
        (None, "test_pk"): world["connection_test"].pk,
        (None, "entry_id"): world["entry_id"],
        (None, "job_pk"): world["job"].pk,
        (None, "notice_pk"): world["notice"].pk,
        (None, "record_type"): world["record_type"],
        (None, "kind"): "auth_details",
        (None, "token_pk"): world["api_token"].pk,
        (None, "subscription_id"): world["subscription"].pk,
        (None, "deployment_id"): 1,
        (None, "test_id"): world["connection_test"].pk,
        (None, "job_id"): world["job"].pk,
        (None, "uidb64"): "MQ",
        (None, "token"): "set-password",
    }


def query_values(world: dict) -> dict[str, dict]:
    """Query parameters a page needs to be a page (a GET without them is a 400)."""
    return {
        "subscriptions:certificate_revoke_confirm": {
            "certificate_id": world["certificate"].certificate_id
        },
    }


def path_of(url: Url, world: dict) -> str:
    values = path_values(world)
    head = url.route.split("/", 1)[0]
    kwargs = {}
    for param in url.params:
        key = (head, param) if (head, param) in values else (None, param)
        if key not in values:
            raise LookupError(
                f"The URL {url.name} ({url.route}) has the path parameter {param!r}, which "
                f"tests/subscriptions/hardening.py cannot fill yet: add a value for "
                f"({head!r}, {param!r}) or (None, {param!r}) to path_values()."
            )
        kwargs[param] = values[key]
    query = query_values(world).get(url.name)
    return reverse(url.name, kwargs=kwargs) + (f"?{urlencode(query)}" if query else "")


def build_world(netsuite_sim, ec_pair, admin_user, subscription=None) -> dict:
    """A subscription registered in the simulator (``subscription``, or a new one) with
    everything a URL can point at: a staged certificate, a connection test, a queued job, an
    audit event, another person."""
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.models import AuditEvent, MonitoringNotice
    from subscriptions.services import certificates as certificate_service
    from subscriptions.services.api_tokens import api_token_create
    from subscriptions.services.connection import connection_test_start
    from subscriptions.services.initialization import DATA_TYPES, initialization_start
    from tests.factories import make_user

    subscription = subscription or netsuite_sim.subscription(pair=ec_pair)
    certificate = certificate_service.certificate_generate(
        subscription=subscription, actor=admin_user, key_type="ec-p256"
    )
    certificate = certificate_service.certificate_set_id(
        certificate=certificate,
        certificate_id=netsuite_sim.register(subscription.consumer_id, certificate.certificate_pem),
        actor=admin_user,
    )
    return {
        "subscription": subscription,
        "certificate": certificate,
        "connection_test": connection_test_start(subscription=subscription, actor=admin_user),
        "job": initialization_start(subscription=subscription, types=None, actor=COMMAND_LINE),
        "record_type": next(iter(DATA_TYPES)),
        "entry_id": 1,
        "person": make_user("pat-person", SUPPORT),
        "notice": MonitoringNotice.objects.create(
            subscription=subscription,
            kind=MonitoringNotice.Kind.CERTIFICATE_EXPIRY,
            condition="hardening",
            level=MonitoringNotice.Level.WARN,
            title="The certificate expires soon",
            message="Rotate it.",
        ),
        "api_token": api_token_create(
            user=admin_user, name="hardening", days=30, read_only=True, actor=admin_user
        )[0],
        "audit_event": AuditEvent.objects.order_by("-id").first(),
    }
