"""The date range every filter form shares: From and To as ISO dates, To not before From.

The date inputs always speak ISO (YYYY-MM-DD): that is what <input type="date"> takes and
sends, whatever the language of the browser.
"""

import datetime as dt

from django import forms

ISO_DATE = "%Y-%m-%d"
# A day is read as a span from its start to the next day's start in TIME_ZONE: at the ends
# of what Python's dates hold that next day (or the zone's offset) overflows, which was a
# 500. No event is that old or that new, so a day outside is refused with the range to use.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(9998, 12, 31)
OUT_OF_RANGE = f"Enter a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label="From",
        required=False,
        input_formats=[ISO_DATE],
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        input_formats=[ISO_DATE],
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
    )

    def _in_range(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(OUT_OF_RANGE)
        return day

    def clean_date_from(self) -> dt.date | None:
        return self._in_range("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._in_range("date_to")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” must be the same day as “From” or later.")
        return data
