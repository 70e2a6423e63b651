"""Settings, all read from the environment (or a .env file beside manage.py).

With nothing else set the dashboard runs for development on SQLite in the project folder,
but never on secrets written in this file: outside the test run it refuses to start without
its own (`make run` writes them into .env). DJANGO_ENV=production also needs the hosts.
"""

import ipaddress
import os
import sys
import tempfile
import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Decided before the file is read: the test run never reads the development .env (its
# simulator address, secrets and flags belong to `make run`, not to the tests).
TESTING = env.bool("DJANGO_TESTING", default="pytest" in sys.modules)
# An explicit variable always wins over the file; the file is for `make run` and the manage.py
# commands beside it (DJANGO_DOT_ENV names another file).
if not TESTING and env.bool("DJANGO_READ_DOT_ENV", default=True):
    environ.Env.read_env(env.str("DJANGO_DOT_ENV", default=str(BASE_DIR / ".env")), overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development").strip()
# Exactly one of two names, lower-case: "Production", "prod" or "staging" used to run as
# development (console mail printing set-password links, cookies without Secure).
if DJANGO_ENV not in ("production", "development"):
    raise ImproperlyConfigured(
        f"DJANGO_ENV={DJANGO_ENV!r} is not a known environment: set it to 'production' or "
        "'development' (lower-case), or leave it unset for development. A staging server "
        "is 'production' with its own hosts and keys."
    )
PRODUCTION = DJANGO_ENV == "production"

# Secrets the source must never supply: a default here would be public, and a staging server
# that forgot DJANGO_ENV would sign sessions and encrypt keys with it.
SECRETS = ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_CHAIN_KEYS")


def _unset(names) -> list[str]:
    return [name for name in names if not env.str(name, default="").strip()]


if PRODUCTION:
    missing = _unset((*SECRETS, "DJANGO_ALLOWED_HOSTS"))
    if missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: "
            + ", ".join(missing)
            + ". See README.md, 'Deploying for real'."
        )
elif not TESTING and (missing := _unset(SECRETS)):
    raise ImproperlyConfigured(
        "These environment variables are not set: "
        + ", ".join(missing)
        + ". For development run `make run` once: it writes a .env beside manage.py with fresh "
        "random values, which manage.py reads too. Otherwise set them yourself "
        "(README.md, 'Deploying for real')."
    )

# Test-run values only (settings.TESTING); every other run was refused above without its own.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-insecure-" + "x" * 40)
# Off unless asked for: Django's debug page shows request data, and a staging server that
# forgot DJANGO_ENV must not show it.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must name the dashboard's hosts in production, not '*'."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The address NetSuite uses to reach this dashboard (inbound webhooks), e.g.
# https://admin.example.com. When unset it is taken from the request, whose Host header
# Django has already checked against ALLOWED_HOSTS.
DASHBOARD_PUBLIC_URL = env.str("DASHBOARD_PUBLIC_URL", default="").rstrip("/") or None

# Newest first. The default is for the test run only (checked above).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE="],
)
# The audit hash chain's HMAC keys, newest first: new events use the first, verification
# needs every key that ever signed an event. Never stored in the database, so a database
# writer cannot recompute a hash after rewriting an event. The default is for the test run.
AUDIT_CHAIN_KEYS = env.list("AUDIT_CHAIN_KEYS", default=["test-only-audit-chain-" + "k" * 32])


def _weak(key: str, length: int) -> bool:
    """Shorter than ``length`` or a few characters repeated ("aaaa...", "abcabc..."): not the
    output of a random generator, so guessable whatever its length."""
    return len(key) < length or len(set(key)) < 8


# Malformed or weak keys are refused at start, by position (a key itself is never printed):
# a Fernet key that is not one fails only when the first secret is encrypted, and a short
# secret key or audit key can be guessed offline from one signed cookie or one event.
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: key {_position} is not a Fernet key (44 characters of "
            "url-safe base64 encoding 32 random bytes); generate one with python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None
if _weak(SECRET_KEY, 50) or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be at least 50 random characters (not Django's "
        "'django-insecure-' sample); generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
for _position, _key in enumerate(AUDIT_CHAIN_KEYS, start=1):
    if _weak(_key.strip(), 32):
        raise ImproperlyConfigured(
            f"AUDIT_CHAIN_KEYS: each key needs at least 32 characters, random ones (key "
            f"{_position} is not); generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    # The second factor (subscriptions/second_factor.py): authenticator apps and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Before django_tasks_db: its db_worker command is extended here (stale jobs recovered).
    "subscriptions",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: every answer is counted and timed, a redirect or refusal by the others too
    # (subscriptions/metrics.py, served at /metrics).
    "subscriptions.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "subscriptions.middleware.RequestIdMiddleware",
    "subscriptions.middleware.Utf8FormMiddleware",
    # The viewer's time zone (the browser's, from the "tz" cookie; UTC without one) for
    # every page and partial (subscriptions/viewer_zone.py).
    "subscriptions.viewer_zone.ViewerTimeZoneMiddleware",
    # Vary: HX-Request (and the other headers deciding a partial) on every answer, the login
    # check's included (subscriptions/views/htmx.py).
    "subscriptions.views.htmx.VaryOnHtmxMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Django's, answering an HTMX request without a session with HX-Redirect to the login page.
    "subscriptions.login_required.LoginRequiredMiddleware",
    # After the login check: a person who owes a second factor sees only its pages.
    "subscriptions.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ipaas_admin.urls"
WSGI_APPLICATION = "ipaas_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "subscriptions.context_processors.dashboard",
            ],
            # {{ value|when }}: the one way a page shows a moment (viewer's zone, UTC on hover).
            "builtins": ["subscriptions.templatetags.dates"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers of the audit hash chain
    # cannot both read the same previous hash.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    # The test database is a file, not Django's in-memory default: an in-memory database is
    # one connection shared by the live server's threads, and two requests at once (a table
    # refresh beside a toggle) then misuse it. A file gives each thread its own connection,
    # as in a real deployment; the name is per process so parallel runs don't meet.
    DATABASES["default"].setdefault(
        "TEST", {"NAME": str(Path(tempfile.gettempdir()) / f"ipaas-test-{os.getpid()}.sqlite3")}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Persistent connections: opening one per request (connect, authenticate, SET TIME ZONE)
    # was almost half of an inbound webhook's time (benchmarks/bench_inbound.py). Each
    # process thread keeps its own for this many seconds (one that broke is dropped after
    # its error, as Django does); 0 closes it after every request, as the test run does.
    DATABASES["default"].setdefault(
        "CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0 if TESTING else 60)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on: keeps an SSO session's person; the sign-in itself is views/sso.py.
    "subscriptions.sso.SsoBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Each role lands on its daily page (views/landing.py); an explicit, safe ?next= wins.
LOGIN_REDIRECT_URL = "subscriptions:landing"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with OpenID Connect (subscriptions/sso.py, views/sso.py; README, "Single
# sign-on"). On when OIDC_ISSUER is set: its endpoints and keys come from the issuer's
# discovery document, so only the issuer, this client's credentials and the group -> role
# table are configured here.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").strip().rstrip("/")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="").strip()
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="").strip()
# RS256 or ES256 only, checked against the issuer's JWKS: never the client secret (HS256),
# never an unsigned token.
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256").strip()
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile").strip()
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="").strip() or "single sign-on"
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups").strip()
# "administrator=ipaas-admins,support=ipaas-support,auditor=ipaas-auditors": role=group
# pairs (a role may be named more than once); read into group -> role.
OIDC_ROLE_GROUPS: dict[str, str] = {}
for _pair in env.list("OIDC_ROLE_GROUPS", default=[]):
    _role, _sep, _group = (part.strip() for part in _pair.partition("="))
    if not _sep or _role.lower() not in ("administrator", "support", "auditor") or not _group:
        raise ImproperlyConfigured(
            f"OIDC_ROLE_GROUPS: {_pair!r} is not role=group with a role of administrator, "
            "support or auditor, e.g. "
            "administrator=ipaas-admins,support=ipaas-support,auditor=ipaas-auditors"
        )
    OIDC_ROLE_GROUPS[_group] = _role.lower()
# The longest an SSO session lasts, however active: a person removed from the provider's
# groups loses access at the next sign-in, and this long after the last one at most.
OIDC_SESSION_SECONDS = env.int("OIDC_SESSION_SECONDS", default=8 * 3600)
# mozilla-django-oidc: the code flow with PKCE and a nonce; calls to the provider time out.
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
if OIDC_ISSUER:
    _sso_missing = _unset(("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ROLE_GROUPS"))
    if _sso_missing:
        raise ImproperlyConfigured(
            "OIDC_ISSUER is set, so single sign-on also needs: " + ", ".join(_sso_missing)
            + ". See README.md, 'Single sign-on'."
        )
    if OIDC_RP_SIGN_ALGO not in ("RS256", "ES256"):
        raise ImproperlyConfigured(
            f"OIDC_SIGN_ALGO={OIDC_RP_SIGN_ALGO!r}: use RS256 or ES256 (what the identity "
            "provider signs its ID tokens with)."
        )
    if PRODUCTION and not OIDC_ISSUER.lower().startswith("https://"):
        raise ImproperlyConfigured(
            "OIDC_ISSUER must be an https:// address in production: the client secret and "
            "the tokens travel to it."
        )
# LOCAL_PASSWORDS=off: only the break-glass users (usernames, comma-separated) log in with a
# password or get a password link; everyone else signs in with single sign-on.
LOCAL_PASSWORDS = env.str("LOCAL_PASSWORDS", default="on").strip().lower()
if LOCAL_PASSWORDS not in ("on", "off"):
    raise ImproperlyConfigured(f"LOCAL_PASSWORDS={LOCAL_PASSWORDS!r}: use on or off.")
if LOCAL_PASSWORDS == "off" and not OIDC_ISSUER:
    raise ImproperlyConfigured(
        "LOCAL_PASSWORDS=off needs single sign-on (OIDC_ISSUER and the rest, README.md, "
        "'Single sign-on'): without it only the break-glass users could log in."
    )
BREAK_GLASS_USERS = [name.strip() for name in env.list("BREAK_GLASS_USERS", default=[])]
# Invitations and password links (services/users.py). Development prints them on the console;
# production never does (a set-password link in a log is a way in), so it sends through
# EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587, or a local relay by default.
# The tests use Django's locmem mailbox whatever this says.
_email = env.email_url(
    "EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://"
)
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated), from django-environ's parse.
MAILERS = {
    "default": {
        # Django's console and SMTP backends, sending bodies with whole lines (a link is
        # never cut by quoted-printable soft breaks): subscriptions/mail.py.
        "BACKEND": {
            "django.core.mail.backends.console.EmailBackend": "subscriptions.mail.ConsoleBackend",
            "django.core.mail.backends.smtp.EmailBackend": "subscriptions.mail.SmtpBackend",
        }.get(_email["EMAIL_BACKEND"], _email["EMAIL_BACKEND"]),
        "OPTIONS": {
            option: _email[name]
            for option, name in (
                ("host", "EMAIL_HOST"),
                ("port", "EMAIL_PORT"),
                ("username", "EMAIL_HOST_USER"),
                ("password", "EMAIL_HOST_PASSWORD"),
                ("use_tls", "EMAIL_USE_TLS"),
                ("use_ssl", "EMAIL_USE_SSL"),
            )
            if _email.get(name) not in (None, "")
        }
        if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ipaas-admin@localhost")
# How long an invitation or a password link stays usable (Django's token checks it).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_LINK_SECONDS", default=3 * 24 * 3600)

# Lock an account+address pair after 5 failures, and an address after 20 failures whatever
# the usernames (password spraying), for 15 minutes. Axes has one limit for every parameter
# set, so the callable below gives the address alone its higher one.
AXES_FAILURE_LIMIT = "subscriptions.lockout.failure_limit"
LOGIN_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("AXES_FAILURE_LIMIT_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client address, for axes and for the audit trail alike (subscriptions.middleware reads
# it through axes). Behind the TLS proxy every connection comes from the proxy, so the address
# is the one the proxy appended to X-Forwarded-For, counted from the right: whatever a client
# puts in the header itself lies to the left of it. AXES_PROXY_COUNT is the number of further
# proxies in front of that one which append too (a CDN or a load balancer).
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
AXES_IPWARE_PROXY_ORDER = "left-most"
# Failed logins go on the audit trail once per this many seconds per (username, address);
# the rest are counted (subscriptions/signals.py).
AUDIT_LOGIN_FAILURE_WINDOW = env.int("AUDIT_LOGIN_FAILURE_WINDOW", default=60)
# Not strict: a chain a client made longer still yields the address our proxy appended,
# rather than the proxy's own address shared by everyone who tried that.
IPWARE_STRICT = False

# The second factor (subscriptions/second_factor.py): the roles that must pass one after the
# password, comma-separated role names (administrator, support, auditor). Production asks it
# of administrators unless told otherwise; development and the tests of nobody unless set.
# Whoever has enrolled passes it at every login, whatever their role.
REQUIRE_MFA_FOR = [
    role.strip().lower()
    for role in env.list(
        "REQUIRE_MFA_FOR", default=["administrator"] if PRODUCTION else []
    )
    if role.strip()
]
_MFA_ROLES = ("administrator", "support", "auditor")
if unknown_roles := [role for role in REQUIRE_MFA_FOR if role not in _MFA_ROLES]:
    raise ImproperlyConfigured(
        f"REQUIRE_MFA_FOR names unknown roles: {', '.join(unknown_roles)}. Use a "
        f"comma-separated list of {', '.join(_MFA_ROLES)}, or leave it empty."
    )
# An SSO login counts as the second factor only when the operator asserts the identity
# provider enforces one (true/false).
OIDC_IDP_ENFORCES_MFA = env.bool("OIDC_IDP_ENFORCES_MFA", default=False)
# The name authenticator apps show beside the person's username.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="iPaaS admin")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development and tests serve static files straight from the finders; production serves the
# collected, hashed files (collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
if not PRODUCTION:
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://ipaas-admin"),
}
# Deployments (and test runs) sharing one Redis keep their keys apart by this prefix; a
# CACHE_URL cannot carry it for Django's Redis backend (django-environ lower-cases it there).
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="")

TASKS = {
    "default": {
        # Jobs outlive requests and restarts: a row per task, run by `manage.py db_worker`.
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# A running job beats at least this often; one silent for JOB_STALE_SECONDS lost its worker
# and is resumed from its checkpoint by another (at most JOB_MAX_ATTEMPTS starts in all).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=5.0)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=60.0)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=5)
# How long a job keeps trying one NetSuite read through busy slots, timeouts and outages.
JOB_PAGE_RETRY_SECONDS = env.float("JOB_PAGE_RETRY_SECONDS", default=120.0)

# Health (subscriptions/views/health.py; README, "Health checks and logs"). /readyz counts a
# job worker or the scheduler as there when its heartbeat is this recent; each beats every
# WORKER_HEARTBEAT_SECONDS (the scheduler after every tick: keep its --interval below the
# limit). Production needs both for ready; development does not (make run is ready at once).
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=15.0)
READY_WORKER_SECONDS = env.float("READY_WORKER_SECONDS", default=120.0)
READY_SCHEDULER_SECONDS = env.float("READY_SCHEDULER_SECONDS", default=120.0)
READY_REQUIRE_WORKER = env.bool("READY_REQUIRE_WORKER", default=PRODUCTION)
READY_REQUIRE_SCHEDULER = env.bool("READY_REQUIRE_SCHEDULER", default=PRODUCTION)
if not 0 < WORKER_HEARTBEAT_SECONDS < READY_WORKER_SECONDS:
    raise ImproperlyConfigured(
        "WORKER_HEARTBEAT_SECONDS must be above 0 and below READY_WORKER_SECONDS, or every "
        "live worker would look stopped to /readyz."
    )

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A load balancer's probe speaks plain HTTP to the process: answered, not redirected.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    # Prometheus scrapes each machine's processes directly (docs/metrics.md).
    SECURE_REDIRECT_EXEMPT.append(r"^metrics$")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Outbound NetSuite calls: when set, every call goes to this scheme+host instead of the
# account's own NetSuite hosts (the simulator or a forwarding proxy); the UI shows a banner.
# The signed assertion's audience stays the account's real token URL either way.
NETSUITE_BASE_URL = env.str("NETSUITE_BASE_URL", default="") or None
# Simulator mode (make run, the tests): NETSUITE_BASE_URL is the built-in NetSuite simulator,
# so the dashboard may use what only the simulator offers (registering a certificate from the
# page, demo_setup) and may give NetSuite a plain-http inbound address. Never in production.
NETSUITE_SIMULATOR = env.bool("NETSUITE_SIMULATOR", default=False)
if NETSUITE_SIMULATOR and not NETSUITE_BASE_URL:
    raise ImproperlyConfigured(
        "NETSUITE_SIMULATOR is set but NETSUITE_BASE_URL is not: set it to the simulator's "
        "address, e.g. http://127.0.0.1:8765 (make run does both)."
    )
if PRODUCTION and NETSUITE_SIMULATOR:
    raise ImproperlyConfigured(
        "NETSUITE_SIMULATOR must be off when DJANGO_ENV=production: production talks to NetSuite."
    )
if PRODUCTION and NETSUITE_BASE_URL and not NETSUITE_BASE_URL.lower().startswith("https://"):
    raise ImproperlyConfigured(
        "NETSUITE_BASE_URL must be an https:// address in production: bearer tokens and signed "
        "assertions travel to it."
    )
NETSUITE_TIMEOUT_CONNECT = env.float("NETSUITE_TIMEOUT_CONNECT", default=5.0)
# How long the webhook table reuses NetSuite's deployment list (per subscription, in the
# cache; 0 turns it off). Every write drops it; the table offers a refresh.
WEBHOOK_LIST_CACHE_SECONDS = env.int("WEBHOOK_LIST_CACHE_SECONDS", default=60)
# Read-only viewers (auditors; support where they cannot change a section) see NetSuite's
# last answer (models/snapshots.py); their "Refresh from NetSuite" asks again at most once
# per this many seconds per subscription and read, for all of them together.
NETSUITE_REFRESH_SECONDS = env.int("NETSUITE_REFRESH_SECONDS", default=60)
# A connection test whose last step is older than this can no longer finish (the page that
# drove it was left): it is shown as interrupted and never continued.
CONNECTION_TEST_STALE_SECONDS = env.int("CONNECTION_TEST_STALE_SECONDS", default=120)
# Monitoring (services/monitoring.py, run by the scheduler): administrators are emailed once
# a subscription's connection tests failed this many times in a row.
MONITORING_FAILURES_BEFORE_NOTICE = env.int("MONITORING_FAILURES_BEFORE_NOTICE", default=3)
# The scheduled tests due in one tick run this many at a time (PostgreSQL; SQLite, with its
# one writer, runs them one after another): each waits on NetSuite most of its second, and ten
# thousand subscriptions tested hourly make about 170 due every minute. Each account's
# Concurrent Connections still caps its own calls, whatever runs.
MONITORING_TEST_THREADS = env.int("MONITORING_TEST_THREADS", default=8)
# Retention (services/retention.py, pruned by every scheduler tick; README, "Retention"):
# days each kind is kept; 0 keeps it forever. The audit trail is never pruned.
RETAIN_INBOUND_DAYS = env.int("RETAIN_INBOUND_DAYS", default=30)
RETAIN_JOBS_DAYS = env.int("RETAIN_JOBS_DAYS", default=90)
RETAIN_CONNECTION_TESTS_DAYS = env.int("RETAIN_CONNECTION_TESTS_DAYS", default=90)
for _name in ("RETAIN_INBOUND_DAYS", "RETAIN_JOBS_DAYS", "RETAIN_CONNECTION_TESTS_DAYS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must be 0 (keep forever) or a number of days.")
# The dashboard's address in the links of monitoring emails: DASHBOARD_PUBLIC_URL when set
# (a scheduler has no request to take it from), else this.
DASHBOARD_URL = (
    DASHBOARD_PUBLIC_URL or env.str("DASHBOARD_URL", default="http://127.0.0.1:8000").rstrip("/")
)
NETSUITE_TIMEOUT_READ = env.float("NETSUITE_TIMEOUT_READ", default=30.0)

# Defaults pre-filled in every new subscription's throttling fields.
SUBSCRIPTION_DEFAULTS = {
    "api_throttle_limit": env.int("DEFAULT_API_THROTTLE_LIMIT", default=100),
    "api_throttle_seconds": env.int("DEFAULT_API_THROTTLE_SECONDS", default=60),
    "ipaas_throttle_limit": env.int("DEFAULT_IPAAS_THROTTLE_LIMIT", default=100),
    "ipaas_throttle_seconds": env.int("DEFAULT_IPAAS_THROTTLE_SECONDS", default=60),
    "concurrent_connections": env.int("DEFAULT_CONCURRENT_CONNECTIONS", default=5),
}
SUBSCRIPTION_VERSIONS = env.list("SUBSCRIPTION_VERSIONS", default=["v1.2", "v1.1", "v1.0"])

# text (the default, for people and `make run`) or json: one JSON object per line, for a
# log collector (subscriptions/logs.py; gunicorn's own lines too with its --logger-class).
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "subscriptions.logs.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "subscriptions.middleware.RequestIdLogFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (under DEBUG) is dropped: its lines reach the root's
        # handler anyway, and would come twice, the second time not in LOG_FORMAT.
        "django": {"handlers": [], "level": env.str("LOG_LEVEL", default="INFO")},
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}
if LOG_FORMAT == "json":
    # runserver's request lines, which Django writes through a handler of their own.
    LOGGING["loggers"]["django.server"] = {"handlers": ["console"], "propagate": False}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Retries of NetSuite calls (429, SSS_REQUEST_LIMIT_EXCEEDED, 5xx, connection errors): bounded
# in attempts and in total seconds so a page never waits longer than a person would.
NETSUITE_RETRY_MAX_ATTEMPTS = env.int("NETSUITE_RETRY_MAX_ATTEMPTS", default=4)
NETSUITE_RETRY_BASE_DELAY = env.float("NETSUITE_RETRY_BASE_DELAY", default=0.25)
NETSUITE_RETRY_MAX_TOTAL = env.float("NETSUITE_RETRY_MAX_TOTAL", default=15.0)
# How long a call may wait for one of the account's concurrency slots, or for the
# subscription's API throttle window, before it gives up with a message.
NETSUITE_SLOT_WAIT = env.float("NETSUITE_SLOT_WAIT", default=20.0)
NETSUITE_THROTTLE_WAIT = env.float("NETSUITE_THROTTLE_WAIT", default=20.0)
# Where every process counts those caps (subscriptions/throttling.py): auto = Redis when
# CACHE_URL is Redis, else the database (shared by make run's web process and worker);
# or redis, database, cache (Django's cache, shared only as far as its backend is).
NETSUITE_THROTTLE_STORE = env.str("NETSUITE_THROTTLE_STORE", default="auto")
# The automation API (/api/v1/): requests per seconds per personal token, counted in the same
# store; more answers 429 with Retry-After (services/api_tokens.py).
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="120/60")

# /metrics (subscriptions/views/metrics.py, docs/metrics.md): served to a request carrying
# "Authorization: Bearer <METRICS_TOKEN>" or coming from one of the networks listed (CIDRs,
# the client address as axes derives it); with neither set, the URL does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN is shorter than 32 characters; make one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
try:
    METRICS_ALLOWED_ADDRESSES = [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in env.list("METRICS_ALLOWED_ADDRESSES", default=[])
        if item.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(
        f"METRICS_ALLOWED_ADDRESSES: {exc} (use CIDRs, comma-separated)"
    ) from None
