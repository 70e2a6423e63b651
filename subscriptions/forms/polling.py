"""The inventory polling settings of a subscription: on or off, and how often."""

from django import forms

from ..models import POLLING_MINUTES_LIMITS, Subscription


class PollingSettingsForm(forms.Form):
    inventory_polling_enabled = forms.BooleanField(
        label="Poll inventory on a schedule",
        required=False,
        help_text="The scheduler (manage.py run_scheduler) queues each poll when it is due.",
    )
    inventory_polling_minutes = forms.IntegerField(
        label="Every (minutes)",
        min_value=POLLING_MINUTES_LIMITS[0],
        max_value=POLLING_MINUTES_LIMITS[1],
        help_text=f"From {POLLING_MINUTES_LIMITS[0]} minutes to a week "
        f"({POLLING_MINUTES_LIMITS[1]} minutes).",
    )

    @classmethod
    def of(cls, subscription: Subscription) -> "PollingSettingsForm":
        return cls(
            initial={
                "inventory_polling_enabled": subscription.inventory_polling_enabled,
                "inventory_polling_minutes": subscription.inventory_polling_minutes,
            }
        )
