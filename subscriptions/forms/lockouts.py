"""Lifting a login lockout: which address (and person), whether it was confirmed, and why.

The address is checked as an IP address here and again by the service (``lockout_lift``),
so a hand-made post with anything else lifts nothing and says what to send.
"""

from django import forms

from .people import REASON_MAX_LENGTH


class LockoutLiftForm(forms.Form):
    address = forms.GenericIPAddressField(
        label="Address", error_messages={
            "required": "Say which address: the lockout list shows it.",
            "invalid": "Enter the address as the lockout list shows it, like 192.0.2.10.",
        },
    )
    username = forms.CharField(label="Username", required=False, max_length=150)
    confirmed = forms.BooleanField(required=False)
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX_LENGTH)

    def first_error(self) -> str:
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            return f"{label}: {errors[0]}" if label else errors[0]
        return ""
