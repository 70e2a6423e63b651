"""A plain Python client for Oracle NetSuite, with a local simulator (``netsuite.simulator``).

Nothing in this package imports Django: the dashboard passes in what the client needs
(credentials, a token cache, a concurrency limiter, a rate limiter).
"""

from .accounts import (
    AccountUrls,
    InvalidAccountId,
    InvalidBaseUrl,
    api_url_for,
    host_label,
    normalize_account_id,
    normalize_base_url,
)
from .auth import AccessToken, Credentials, MemoryTokenCache, TokenCache, build_client_assertion
from .client import NetSuiteClient
from .errors import (
    AuthenticationError,
    BadRequestError,
    CertificateIdUnknownError,
    CertificatePermissionError,
    CertificateRejectedError,
    CertificateUploadRefusedError,
    ConcurrencyLimitError,
    ConfigurationError,
    NetSuiteError,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
    NotFoundError,
    RecordPermissionError,
    ScopeError,
    SuiteQLRecordNotFoundError,
    UnexpectedResponseError,
)
from .records import FieldPresence
from .restlet import MODULES, Deployment, WebhookManager
from .rotation import CertificateRotation, ClientCertificate
from .transport import (
    ConcurrencyLimiter,
    LocalConcurrencyLimiter,
    LocalRateLimiter,
    RateLimiter,
    RetryPolicy,
)

__all__ = [
    "MODULES",
    "AccessToken",
    "AccountUrls",
    "AuthenticationError",
    "BadRequestError",
    "CertificateIdUnknownError",
    "CertificatePermissionError",
    "CertificateRejectedError",
    "CertificateRotation",
    "CertificateUploadRefusedError",
    "ClientCertificate",
    "ConcurrencyLimitError",
    "ConcurrencyLimiter",
    "ConfigurationError",
    "Credentials",
    "Deployment",
    "FieldPresence",
    "InvalidAccountId",
    "InvalidBaseUrl",
    "LocalConcurrencyLimiter",
    "LocalRateLimiter",
    "MemoryTokenCache",
    "NetSuiteClient",
    "NetSuiteError",
    "NetSuiteTimeoutError",
    "NetSuiteUnavailableError",
    "NotFoundError",
    "RateLimiter",
    "RecordPermissionError",
    "RetryPolicy",
    "ScopeError",
    "SuiteQLRecordNotFoundError",
    "TokenCache",
    "UnexpectedResponseError",
    "WebhookManager",
    "api_url_for",
    "build_client_assertion",
    "host_label",
    "normalize_account_id",
    "normalize_base_url",
]
