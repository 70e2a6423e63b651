"""The People page's posts: a role, access on or off, and the reason that goes on record.

The reason used to be read straight from the post; a form gives it a length limit and the
NUL-byte check of Django's CharField (PostgreSQL refuses a NUL in text, which was a 500).
"""

from django import forms

from ..models import Role

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
