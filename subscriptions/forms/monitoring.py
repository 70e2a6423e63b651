"""The scheduled connection test of a subscription: how often, in minutes (0 is off)."""

from django import forms

from ..models import MONITORING_MINUTES_LIMITS

LOW, HIGH = MONITORING_MINUTES_LIMITS


class MonitoringSettingsForm(forms.Form):
    monitoring_minutes = forms.IntegerField(
        label="Test the connection every (minutes)",
        min_value=0,
        max_value=HIGH,
        help_text=(
            f"0 switches scheduled tests off; otherwise {LOW} to {HIGH} minutes (a week). "
            "Administrators are emailed when the tests keep failing. Certificate-expiry "
            "warnings are sent either way."
        ),
        error_messages={
            "max_value": f"At most {HIGH} minutes (a week); enter 0 to switch tests off.",
            "min_value": "Enter 0 to switch scheduled tests off, or a number of minutes.",
        },
    )

    def clean_monitoring_minutes(self):
        minutes = self.cleaned_data["monitoring_minutes"]
        if 0 < minutes < LOW:
            raise forms.ValidationError(
                f"At least {LOW} minutes: each test takes a fresh token and several calls "
                "from the account's allowance. Enter 0 to switch tests off."
            )
        return minutes

    @classmethod
    def for_settings(cls, settings_row):
        """The form showing the current interval."""
        return cls(initial={"monitoring_minutes": settings_row.monitoring_minutes})
