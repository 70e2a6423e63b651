"""The models of the one app, one module per concept; importing from here finds them all."""

from .audit import AppendOnlyError, AuditEvent
from .certificates import (
    DEFAULT_KEY_TYPE,
    DEFAULT_VALIDITY_DAYS,
    EXPIRY_WARNING_DAYS,
    GENERATE_KEY_TYPES,
    Certificate,
)
from .connection_tests import ConnectionTest
from .events import InboundEvent
from .jobs import Job
from .records import Record
from .roles import Role
from .subscription import (
    ENVIRONMENT_CHOICES,
    NUMBER_LIMITS,
    PLAIN_FIELDS,
    SECRET_FIELDS,
    Subscription,
)
from .throttling import ThrottleLease, ThrottleWindow
from .webhooks import WebhookState

__all__ = [
    "DEFAULT_KEY_TYPE",
    "DEFAULT_VALIDITY_DAYS",
    "ENVIRONMENT_CHOICES",
    "EXPIRY_WARNING_DAYS",
    "GENERATE_KEY_TYPES",
    "NUMBER_LIMITS",
    "PLAIN_FIELDS",
    "SECRET_FIELDS",
    "AppendOnlyError",
    "AuditEvent",
    "Certificate",
    "ConnectionTest",
    "Job",
    "Record",
    "InboundEvent",
    "Role",
    "Subscription",
    "ThrottleLease",
    "ThrottleWindow",
    "WebhookState",
]
