"""The three roles people hold on the dashboard (Django groups of the same names)."""

from django.db import models

__all__ = ["Role"]


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    SUPPORT = "support", "Support"
    AUDITOR = "auditor", "Auditor"
