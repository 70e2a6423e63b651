"""The create/update/delete flags the dashboard last set on each Webhook Manager deployment.

NetSuite's GET does not report them, so this is the only record of them.
"""

from django.db import models

from .subscription import Subscription

__all__ = ["AUTH_DETAILS_TOKEN_MAX_LENGTH", "WebhookState"]

# The iPaaS Auth Details access token: the bearer token NetSuite sends with every webhook.
# The dashboard's own keys are 43 characters and common bearer tokens (JWTs included) stay
# well under 1000; a longer value is a paste mistake, and each webhook header carries it, so
# the form and the service both refuse it before anything reaches NetSuite.
AUTH_DETAILS_TOKEN_MAX_LENGTH = 1000


class WebhookState(models.Model):
    """The flags last confirmed by NetSuite for one deployment (written only after its OK)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="webhook_states"
    )
    scriptdeploymentid = models.PositiveBigIntegerField()
    scriptid = models.CharField(max_length=255)
    module = models.CharField(max_length=40, blank=True, default="")
    # Not "delete": that name belongs to Model.delete().
    create_enabled = models.BooleanField(default=False)
    update_enabled = models.BooleanField(default=False)
    delete_enabled = models.BooleanField(default=False)
    set_by = models.CharField(max_length=150)
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["subscription", "module", "scriptdeploymentid"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "scriptdeploymentid"],
                name="webhookstate_one_per_deployment",
            ),
        ]

    def __str__(self):
        return f"{self.scriptid} ({self.scriptdeploymentid})"

    @property
    def flags(self) -> dict[str, bool]:
        return {
            "create": self.create_enabled,
            "update": self.update_enabled,
            "delete": self.delete_enabled,
        }
