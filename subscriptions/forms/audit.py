"""The audit trail's filters: subscription, person, action and a date range."""

from django import forms

from .. import audit
from ..selectors.audit import AuditFilters, action_label
from .dates import DateRangeForm


class AuditFilterForm(DateRangeForm):
    subscription = forms.TypedChoiceField(
        label="Subscription", required=False, coerce=int, empty_value=None
    )
    person = forms.CharField(
        label="Person",
        required=False,
        max_length=150,
        help_text="Any part of the name, in any case, e.g. “ali” for alice or “system”.",
    )
    action = forms.ChoiceField(label="Action", required=False)

    def __init__(self, *args, subscriptions, actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = [("", "All subscriptions")] + [
            (str(pk), name) for pk, name in subscriptions
        ]
        self.fields["action"].choices = [("", "All actions")] + [
            (a, action_label(a)) for a in actions
        ]

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            subscription_id=data.get("subscription"),
            actor=(data.get("person") or "").strip(),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class ChainAnchorForm(forms.Form):
    """Verify's optional anchor: the ``ID:HASH`` the page showed (and copied) on an earlier
    check, kept outside the dashboard."""

    anchor = forms.CharField(
        label="Anchor (optional)",
        required=False,
        max_length=100,
        help_text="ID:HASH from an earlier check: the chain up to that event must still end "
        "in that hash.",
    )

    def clean_anchor(self) -> tuple[int, str] | None:
        text = self.cleaned_data["anchor"].strip()
        if not text:
            return None
        try:
            return audit.parse_anchor(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
