"""The form of one iPaaS Auth Details entry. The access token is write-only."""

from django import forms

from ..models.webhooks import AUTH_DETAILS_TOKEN_MAX_LENGTH


class AuthDetailsForm(forms.Form):
    webhook_url = forms.CharField(label="Webhook URL", max_length=1000)
    tracking_guid = forms.CharField(label="Tracking GUID", max_length=64, required=False)
    access_token = forms.CharField(
        label="Access token",
        required=False,
        strip=True,
        max_length=AUTH_DETAILS_TOKEN_MAX_LENGTH,
        # Never rendered back: a blank field keeps what NetSuite has.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave blank to keep the current token.",
    )
