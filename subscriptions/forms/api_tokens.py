"""A new personal API token: its name, how long it lives, whether it may change anything."""

from django import forms

from ..models import API_TOKEN_DAYS_LIMITS

LOW, HIGH = API_TOKEN_DAYS_LIMITS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, so you recognise it later (e.g. “SIEM pull”, “nightly sync”).",
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=LOW,
        max_value=HIGH,
        initial=90,
        help_text=f"From {LOW} to {HIGH} days; make a new token before it ends.",
    )
    read_only = forms.BooleanField(
        label="Read-only",
        required=False,
        initial=True,
        help_text="It may read what your role may read and change nothing.",
    )
