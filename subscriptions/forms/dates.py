"""The date range every filter form shares: From and To as ISO dates, To not before From.

The date inputs always speak ISO (YYYY-MM-DD): that is what <input type="date"> takes and
sends, whatever the language of the browser.
"""

from django import forms

ISO_DATE = "%Y-%m-%d"


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

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” must be the same day as “From” or later.")
        return data
