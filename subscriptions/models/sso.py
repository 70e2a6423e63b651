"""Who a person is at the identity provider: the (issuer, subject) pair single sign-on matches.

A person signing in with single sign-on is found by this pair and never by email or username
alone: an address or a name can be given to someone else at the provider (or be typed into a
self-service profile), the subject never changes hands. One person may hold one identity per
issuer; deleting the person deletes their identities.
"""

from django.conf import settings
from django.db import models

__all__ = ["SsoIdentity"]


class SsoIdentity(models.Model):
    """One person's account at one OpenID Connect provider (``iss`` and ``sub`` of its ID
    tokens), created at their first sign-in there."""

    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="ssoidentity_one_per_subject"
            ),
            models.UniqueConstraint(
                fields=["issuer", "user"], name="ssoidentity_one_per_person_and_issuer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
