"""Reads of personal API tokens: a person's own list, and the token a request presents.

A presented token is found by its SHA-256 (a unique index): the token is 256 random bits,
so the lookup by its digest tells a guesser nothing a constant-time comparison would hide.
"""

from __future__ import annotations

import hashlib

from ..models import ApiToken


def api_token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_by_secret(raw: str) -> ApiToken | None:
    """The token whose digest ``raw`` has, with its person (one query), or ``None``."""
    return (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_digest(raw))
        .first()
    )


def api_tokens_of(user) -> list[ApiToken]:
    """A person's tokens, newest first: usable ones, then revoked and expired ones."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def api_token_of(user, pk: int) -> ApiToken | None:
    return ApiToken.objects.filter(user=user, pk=pk).first()
