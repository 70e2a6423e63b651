"""Forms of the certificate steps. A private key is write-only: never rendered back."""

from django import forms

from netsuite.certificates import MAX_VALIDITY_DAYS

from ..models import DEFAULT_KEY_TYPE, DEFAULT_VALIDITY_DAYS, GENERATE_KEY_TYPES

MAX_PEM_BYTES = 64 * 1024


class GenerateCertificateForm(forms.Form):
    key_type = forms.ChoiceField(
        label="Key type",
        choices=list(GENERATE_KEY_TYPES.items()),
        initial=DEFAULT_KEY_TYPE,
        help_text="RSA 3072 works everywhere; EC P-256 is smaller and faster.",
    )
    days = forms.IntegerField(
        label="Validity (days)",
        min_value=1,
        max_value=MAX_VALIDITY_DAYS,
        initial=DEFAULT_VALIDITY_DAYS,
        help_text=f"At most {MAX_VALIDITY_DAYS} days: NetSuite cuts certificates to two years.",
    )


def _read_pem(upload, what: str) -> str:
    if upload is None:
        raise forms.ValidationError(f"Choose the {what} file (.pem).")
    if upload.size > MAX_PEM_BYTES:
        raise forms.ValidationError(f"That file is too large to be a {what} (.pem).")
    try:
        return upload.read().decode("ascii")
    except UnicodeDecodeError:
        raise forms.ValidationError(
            f"That file is not a PEM {what}: PEM files are plain text starting with -----BEGIN."
        ) from None


class UploadCertificateForm(forms.Form):
    private_key_file = forms.FileField(
        label="Private key (.pem)",
        help_text="Without a passphrase (BEGIN PRIVATE KEY). It is stored encrypted and never "
        "shown again.",
    )
    certificate_file = forms.FileField(
        label="Certificate (.pem)",
        help_text="The certificate that belongs to this key (BEGIN CERTIFICATE).",
    )

    def clean_private_key_file(self):
        return _read_pem(self.cleaned_data.get("private_key_file"), "private key")

    def clean_certificate_file(self):
        return _read_pem(self.cleaned_data.get("certificate_file"), "certificate")


class CertificateIdForm(forms.Form):
    certificate_id = forms.CharField(
        label="Certificate ID from NetSuite",
        max_length=255,
        help_text="Shown beside the certificate after the upload in NetSuite.",
    )
