"""Applying the Concurrent Connections detected from NetSuite's governance limits."""

from django import forms

from ..models import NUMBER_LIMITS


class GovernanceApplyForm(forms.Form):
    concurrent_connections = forms.IntegerField(
        label="Concurrent Connections",
        min_value=NUMBER_LIMITS["concurrent_connections"][0],
        max_value=NUMBER_LIMITS["concurrent_connections"][1],
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)
