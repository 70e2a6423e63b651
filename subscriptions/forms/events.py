"""The events page's filters (module, event, a date range) and the Manual sync form."""

import datetime as dt

from django import forms
from django.utils import timezone

from netsuite.bundle import MODULES
from netsuite.inbound import EVENTS

from .dates import DateRangeForm


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())


class EventFilterForm(DateRangeForm):
    module = forms.ChoiceField(label="Module", required=False,
                               choices=[("", "All modules"), *MODULES])
    event = forms.ChoiceField(label="Event", required=False,
                              choices=[("", "All events"), *((e, e.capitalize()) for e in EVENTS)])
    def filters(self) -> dict:
        """Keyword arguments for ``selectors.events.event_list`` (whole days, local time)."""
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return {
            "module": data.get("module") or "",
            "event": data.get("event") or "",
            "since": _start_of_day(start) if start else None,
            "until": _start_of_day(end + dt.timedelta(days=1)) if end else None,
        }


class ManualSyncForm(forms.Form):
    module = forms.ChoiceField(label="Module", choices=MODULES)
    internal_id = forms.RegexField(
        label="NetSuite internal ID",
        regex=r"^\s*[0-9]{1,18}\s*$",
        max_length=40,
        error_messages={"invalid": "A NetSuite internal ID is a number, such as 107."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        # The events filter on the same page has a Module field too: with the same id, its
        # label would name this form's control and the filter's select would have none.
        kwargs.setdefault("auto_id", "id_sync_%s")
        super().__init__(*args, **kwargs)

    def clean_internal_id(self):
        return self.cleaned_data["internal_id"].strip()
