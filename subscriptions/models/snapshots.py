"""What NetSuite answered last, per subscription and read: the Auth Details entries, the
certificates NetSuite holds, the webhook deployments.

Read-only viewers (auditors; support where they cannot change the section) are shown this
instead of a NetSuite call per page view: 20 page views by an auditor used to cost 50
NetSuite requests. Written by the services that read NetSuite, after each successful read;
never holds a secret (the Auth Details access token is reduced to "set" before it is stored).
``refreshed_at`` is the last "Refresh from NetSuite" a read-only viewer asked for, which
limits them all together to one per ``NETSUITE_REFRESH_SECONDS``.
"""

from django.db import models

from .subscription import Subscription

__all__ = ["NetSuiteSnapshot"]


class NetSuiteSnapshot(models.Model):
    class Kind(models.TextChoices):
        AUTH_DETAILS = "auth_details", "iPaaS Auth Details"
        NETSUITE_CERTIFICATES = "netsuite_certificates", "Certificates in NetSuite"
        WEBHOOK_TABLE = "webhook_table", "Webhook deployments"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="netsuite_snapshots"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # None until a read succeeded (a refresh that failed leaves only refreshed_at).
    data = models.JSONField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    # The frozen name of who (or what) made the read, like the audit trail's actor_name.
    fetched_by = models.CharField(max_length=150, blank=True, default="")
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind"], name="netsuitesnapshot_one_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of subscription {self.subscription_id}"
