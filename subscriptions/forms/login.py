"""The password login form, which refuses everyone but break-glass users when local passwords
are switched off (``LOCAL_PASSWORDS=off``).

The refusal comes before the password is checked: it says nothing about the password, counts
no failed login towards a lockout, and names where to sign in instead.
"""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from ..sso import local_password_allowed, local_passwords_off_message

LOCAL_PASSWORDS_OFF = "local_passwords_off"


class PasswordLoginForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        if username is not None and not local_password_allowed(username):
            raise ValidationError(local_passwords_off_message(), code=LOCAL_PASSWORDS_OFF)
        return super().clean()

    @property
    def local_passwords_refused(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, LOCAL_PASSWORDS_OFF)
