"""The People page's posts: an invitation, a role, access on or off, a password link, and the
reason that goes on record.

The reason used to be read straight from the post; a form gives it a length limit and the
NUL-byte check of Django's CharField (PostgreSQL refuses a NUL in text, which was a 500).
"""

import unicodedata

from django import forms
from django.contrib.auth import get_user_model

from ..models import Role
from ..permissions import least_privileged_role
from ..selectors.usernames import lookalike_message, username_lookalike

# What the audit trail keeps of a reason (audit.record cuts there too).
REASON_MAX_LENGTH = 2000


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX_LENGTH)

    def first_error(self) -> str:
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            return f"{label}: {errors[0]}" if label else errors[0]
        return ""


class RoleForm(ReasonForm):
    role = forms.ChoiceField(label="Role", choices=Role.choices)

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class ActiveForm(ReasonForm):
    active = forms.TypedChoiceField(
        label="Access",
        choices=[("true", "Activate"), ("false", "Deactivate")],
        coerce=lambda value: value == "true",
    )


class InviteForm(ReasonForm):
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What they type to log in: letters, digits and @ . + - _ only.",
        validators=[get_user_model().username_validator],
    )
    # 254: the longest address SMTP carries (RFC 5321) and the User model's column.
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The invitation goes here, with a one-time link to set a password.",
    )
    # Offered first: the least privileged role, so an invitation sent in a hurry gives no
    # more than reading.
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=least_privileged_role)

    field_order = ["username", "email", "role", "reason"]

    def clean_username(self) -> str:
        # NFKC, as Django stores it: the full-width ａｄｍｉｎ is saved as admin.
        typed = self.cleaned_data["username"].strip()
        username = unicodedata.normalize("NFKC", typed)
        existing = username_lookalike(username)
        if existing is not None:
            raise forms.ValidationError(lookalike_message(typed, existing))
        return username
