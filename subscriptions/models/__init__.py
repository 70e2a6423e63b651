"""The models of the one app, one module per concept; importing from here finds them all."""

from .api_tokens import API_TOKEN_DAYS_LIMITS, API_TOKEN_PREFIX_LENGTH, ApiToken
from .audit import AppendOnlyError, AuditEvent, AuditKeying
from .certificates import (
    DEFAULT_KEY_TYPE,
    DEFAULT_VALIDITY_DAYS,
    EXPIRY_WARNING_DAYS,
    GENERATE_KEY_TYPES,
    Certificate,
)
from .connection_tests import ConnectionTest
from .events import InboundEvent
from .heartbeats import WorkerHeartbeat
from .inventory import QUANTITY_FIELDS, InventoryLevel
from .jobs import Job
from .monitoring import (
    EXPIRY_NOTICE_DAYS,
    MONITORING_MINUTES_LIMITS,
    MonitoringNotice,
    MonitoringSettings,
)
from .records import Record
from .roles import Role
from .snapshots import NetSuiteSnapshot
from .sso import SsoIdentity
from .subscription import (
    ENVIRONMENT_CHOICES,
    NUMBER_LIMITS,
    PLAIN_FIELDS,
    POLLING_MINUTES_LIMITS,
    SECRET_FIELDS,
    Subscription,
)
from .throttling import ThrottleLease, ThrottleWindow
from .webhooks import WebhookState

__all__ = [
    "API_TOKEN_DAYS_LIMITS",
    "API_TOKEN_PREFIX_LENGTH",
    "ApiToken",
    "DEFAULT_KEY_TYPE",
    "DEFAULT_VALIDITY_DAYS",
    "ENVIRONMENT_CHOICES",
    "EXPIRY_NOTICE_DAYS",
    "EXPIRY_WARNING_DAYS",
    "GENERATE_KEY_TYPES",
    "MONITORING_MINUTES_LIMITS",
    "NUMBER_LIMITS",
    "PLAIN_FIELDS",
    "POLLING_MINUTES_LIMITS",
    "SECRET_FIELDS",
    "AppendOnlyError",
    "QUANTITY_FIELDS",
    "AuditEvent",
    "AuditKeying",
    "Certificate",
    "ConnectionTest",
    "InventoryLevel",
    "Job",
    "MonitoringNotice",
    "MonitoringSettings",
    "NetSuiteSnapshot",
    "Record",
    "InboundEvent",
    "Role",
    "SsoIdentity",
    "Subscription",
    "ThrottleLease",
    "ThrottleWindow",
    "WebhookState",
    "WorkerHeartbeat",
]
