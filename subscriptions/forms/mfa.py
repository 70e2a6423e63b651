"""The second factor's one input: a code from the authenticator app or a recovery code.

Only its shape is checked here (what a person can type); whether it is right is the
service's question, which also counts the wrong ones.
"""

from django import forms

from .people import ReasonForm

__all__ = ["CodeForm", "ReasonForm"]


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
                   "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text
