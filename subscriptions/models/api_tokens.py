"""Personal API tokens: how automation calls ``/api/v1/`` as a person, with that person's role.

Only the token's SHA-256 is kept: the token itself is shown once, when it is made, and a
stolen database gives nobody a working token. The first characters (``prefix``) are kept in
clear so a person can recognise a token in their list and in the audit trail ("via api token
abcd1234"); they are too few to guess the rest from.

A token never outlives its expiry (1 to 365 days, chosen when it is made) and acts with the
permissions its person holds at each request, so deactivating a person or changing their
role changes what their tokens may do at once.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["API_TOKEN_DAYS_LIMITS", "API_TOKEN_PREFIX_LENGTH", "ApiToken"]

API_TOKEN_DAYS_LIMITS = (1, 365)
API_TOKEN_PREFIX_LENGTH = 8


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        """Tokens not revoked and not expired (their person's state is checked apart)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=API_TOKEN_PREFIX_LENGTH)
    # SHA-256 of the whole token, hex: how a request's token is found; never the token.
    token_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Written at most once a minute per token (services.api_tokens.api_token_mark_used).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def via(self) -> str:
        """How the audit trail names a change made with this token."""
        return f"api token {self.prefix}"
