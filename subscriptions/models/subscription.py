"""The subscription: the seed's fields, the throttling settings and the encrypted secrets."""

import hashlib

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Cast, Lower

from ..fields import EncryptedTextField

__all__ = [
    "ENVIRONMENT_CHOICES",
    "NUMBER_LIMITS",
    "PLAIN_FIELDS",
    "POLLING_MINUTES_LIMITS",
    "SECRET_FIELDS",
    "Subscription",
]

ENVIRONMENT_CHOICES = [("Production", "Production")]

# Allowed ranges of the numeric settings: one table for the forms and the services.
NUMBER_LIMITS = {
    "inventory_search_days": (0, 365),
    "api_throttle_limit": (1, 100_000),
    "api_throttle_seconds": (1, 86_400),
    "ipaas_throttle_limit": (1, 100_000),
    "ipaas_throttle_seconds": (1, 86_400),
    # NetSuite's largest accounts allow a few dozen; 100 leaves room without allowing typos.
    "concurrent_connections": (1, 100),
}

# Inventory polling interval, in minutes: more often than every 5 minutes would spend the
# account's concurrency on little; once a week is the longest that still reads as "polling".
POLLING_MINUTES_LIMITS = (5, 7 * 24 * 60)


# Fields compared and recorded in the audit trail, in form order.
PLAIN_FIELDS = [
    "name",
    "version",
    "inventory_search_days",
    "environment",
    "consumer_id",
    "account_id",
    "certificate_id",
    "api_url",
    "api_throttle_limit",
    "api_throttle_seconds",
    "ipaas_throttle_limit",
    "ipaas_throttle_seconds",
    "concurrent_connections",
]

# The encrypted columns: pages and most services load a subscription without them.
SECRET_FIELDS = ("private_key", "webhook_api_key")


class SubscriptionQuerySet(models.QuerySet):
    def without_secrets(self):
        """Rows with the encrypted columns left in the database: nothing decrypts a secret
        that it does not use, and a key that can no longer be decrypted breaks no page."""
        return self.defer(*SECRET_FIELDS)

    def with_credentials(self):
        """Rows without secrets that carry, from the same query, what
        ``integration.credentials_for`` would read with two more: the key as stored
        (``sealed_private_key``, decrypted only by whoever uses it, so an unreadable key fails
        that use and not the read) and the active certificate's PEM
        (``active_certificate_pem``, None unless it belongs to the key). A connection test at
        NetSuite's speed spent a sixth of its time on those two round trips."""
        from .certificates import Certificate

        active = Certificate.objects.filter(
            subscription=models.OuterRef("pk"),
            status=Certificate.Status.ACTIVE,
            public_key_fingerprint=models.OuterRef("private_key_fingerprint"),
        ).values("certificate_pem")[:1]
        return self.without_secrets().annotate(
            # A plain text column: the encrypted field's own conversion would decrypt it here.
            sealed_private_key=Cast("private_key", models.TextField()),
            active_certificate_pem=models.Subquery(active),
        )


class Subscription(models.Model):
    """One NetSuite subscription, with the seed's fields and the throttling settings."""

    name = models.CharField("Name", max_length=120)
    version = models.CharField("Versions", max_length=20)
    inventory_search_days = models.PositiveSmallIntegerField("Inventory Search Days", default=0)
    environment = models.CharField(
        "Environment", max_length=20, choices=ENVIRONMENT_CHOICES, default="Production"
    )
    consumer_id = models.CharField("Consumer ID", max_length=255)
    account_id = models.CharField("Account ID", max_length=40)
    private_key = EncryptedTextField("Certificate Private Key", blank=True, default="")
    # Non-secret facts about the key, kept beside it so pages never need to decrypt it.
    private_key_type = models.CharField(max_length=20, blank=True, default="")
    private_key_fingerprint = models.CharField(max_length=95, blank=True, default="")
    # Blank until NetSuite issues it (when the certificate is uploaded there): a subscription
    # is saved before its certificate exists, and is "not ready" until both are there.
    certificate_id = models.CharField("Certificate ID", max_length=255, blank=True, default="")
    api_url = models.URLField("API URL", max_length=255)

    api_throttle_limit = models.PositiveIntegerField("API Throttle Limit")
    api_throttle_seconds = models.PositiveIntegerField("API Throttle Seconds")
    ipaas_throttle_limit = models.PositiveIntegerField("API Throttle Limit (to iPaaS)")
    ipaas_throttle_seconds = models.PositiveIntegerField("API Throttle Seconds (to iPaaS)")
    concurrent_connections = models.PositiveSmallIntegerField("Concurrent Connections")

    webhook_api_key = EncryptedTextField("Webhook API Key", blank=True, default="")
    # Lets inbound webhooks be matched without decrypting every subscription's key.
    webhook_api_key_digest = models.CharField(max_length=64, blank=True, default="", db_index=True)
    webhook_api_key_set_at = models.DateTimeField(null=True, blank=True)

    # Inventory polling: its own small audited setting (services/polling.py), not part of the
    # revisioned form, so switching it never conflicts with someone editing the subscription.
    inventory_polling_enabled = models.BooleanField("Inventory polling", default=False)
    inventory_polling_minutes = models.PositiveIntegerField(
        "Polling interval (minutes)",
        default=60,
        validators=[
            MinValueValidator(POLLING_MINUTES_LIMITS[0]),
            MaxValueValidator(POLLING_MINUTES_LIMITS[1]),
        ],
    )
    # The end of the window of the last successful poll: the next poll with Inventory Search
    # Days 0 reads what changed since then.
    inventory_polled_until = models.DateTimeField(null=True, blank=True)

    # Optimistic locking: every save increments it; a form posted against an older
    # revision is refused instead of overwriting someone else's change.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="subscription_name_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(
                    inventory_polling_minutes__gte=POLLING_MINUTES_LIMITS[0],
                    inventory_polling_minutes__lte=POLLING_MINUTES_LIMITS[1],
                ),
                name="subscription_polling_minutes_range",
            ),
        ]
        permissions = [
            ("view_secrets_metadata", "See key type and fingerprint of secrets"),
            ("manage_certificates", "Generate, upload and rotate certificates"),
            ("toggle_webhooks", "Switch per-module webhooks on and off"),
            ("run_connection_test", "Run connection tests"),
            ("edit_auth_details", "Edit the iPaaS Auth Details record in NetSuite"),
            ("start_jobs", "Start initialization and inventory polling"),
            ("view_jobs", "View jobs"),
            ("view_inbound_events", "View inbound webhook events"),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def digest_webhook_key(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()
