"""The subscription form: the seed's fields, throttling, and write-only secrets.

The private key is deliberately not a model field of the ModelForm: a model field would put
the instance's decrypted value into the page. It is a plain field whose widget never renders
a value, so a blank field means "keep the current key" and a failed POST does not echo a
pasted key back into the HTML.
"""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core import signing
from django.urls import reverse

from netsuite.accounts import InvalidAccountId, api_url_for, normalize_account_id
from netsuite.certificates import (
    CertificateError,
    CertificateInsteadOfKeyError,
    EncryptedKeyError,
    NotPemError,
    PublicKeyInsteadOfPrivateKeyError,
    WeakKeyError,
    describe_key,
    load_private_key,
)

from ..models import ENVIRONMENT_CHOICES, NUMBER_LIMITS, PLAIN_FIELDS, Subscription
from ..selectors.subscriptions import subscription_snapshot

MAX_KEY_FILE_BYTES = 64 * 1024
OPENED_SALT = "subscriptions.edit.opened"

KEY_ERROR_MESSAGES = {
    CertificateInsteadOfKeyError: (
        "This is a certificate (or a certificate request), not the private key. The "
        "certificate is what you upload to NetSuite; here paste the private key file "
        "(key.pem, starting with -----BEGIN PRIVATE KEY-----)."
    ),
    PublicKeyInsteadOfPrivateKeyError: (
        "This is a public key, not the private key. Paste the private key file (key.pem, "
        "starting with -----BEGIN PRIVATE KEY-----); the public key is inside the certificate "
        "you upload to NetSuite."
    ),
    EncryptedKeyError: (
        "This private key is protected by a passphrase, which NetSuite's machine-to-machine "
        "flow cannot use. Remove the passphrase with openssl pkey -in key.pem -out "
        "key-plain.pem and paste key-plain.pem."
    ),
    WeakKeyError: (
        "This RSA key is shorter than 3072 bits (typically RSA 2048). NetSuite refuses "
        "2048-bit keys: use an RSA 3072 or 4096-bit key, or an EC key (P-256, P-384 or "
        "P-521)."
    ),
    NotPemError: (
        "This is not a PEM private key. Paste the whole key file, from -----BEGIN PRIVATE "
        "KEY----- to -----END PRIVATE KEY-----, or upload the .pem file."
    ),
}


def key_error_message(exc: CertificateError) -> str:
    for cls in type(exc).__mro__:
        if cls in KEY_ERROR_MESSAGES:
            return KEY_ERROR_MESSAGES[cls]
    # The remaining classes (e.g. an unsupported curve or an OpenSSH key) carry a message
    # specific to the key, better than anything generic here.
    return exc.message


@dataclass(frozen=True)
class KeptKey:
    """A private key received with a refused submit of this form, kept (encrypted, in the
    session) for its next submit. The page shows only its type and public fingerprint."""

    pem: str
    label: str
    fingerprint: str

    @property
    def notice(self) -> str:
        return (
            f"The key you pasted ({self.label}, SHA-256 {self.fingerprint[:5]}…) is kept; "
            "paste another to replace it."
        )


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value, bound or initial."""

    def format_value(self, value):
        return None


def whole_number(label: str, low: int, high: int, help_text: str) -> forms.IntegerField:
    message = f"Enter a whole number from {low} to {high}."
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        error_messages={
            "required": message,
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"min": low, "max": high, "step": 1}),
    )


def no_whitespace(value: str, label: str) -> str:
    if any(ch.isspace() for ch in value):
        raise forms.ValidationError(
            f"The {label} cannot contain spaces or line breaks; copy it again from NetSuite."
        )
    return value


THROTTLE_FIELDS = [
    "api_throttle_limit",
    "api_throttle_seconds",
    "ipaas_throttle_limit",
    "ipaas_throttle_seconds",
    "concurrent_connections",
]
# The seed's fields in the seed's order: the stored ones, with the key's two inputs (paste or
# upload) where the seed puts the Certificate Private Key.
_SEED_STORED = [f for f in PLAIN_FIELDS if f not in THROTTLE_FIELDS]
_KEY_AT = _SEED_STORED.index("certificate_id")
SEED_FIELDS = [
    *_SEED_STORED[:_KEY_AT],
    "private_key_pem",
    "private_key_file",
    *_SEED_STORED[_KEY_AT:],
]


class SubscriptionForm(forms.ModelForm):
    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="Provide a unique name for the subscription.",
        error_messages={"required": "Enter a name for the subscription."},
    )
    version = forms.ChoiceField(
        label="Versions",
        help_text="Select the latest version from the dropdown.",
    )
    inventory_search_days = forms.IntegerField(
        label="Inventory Search Days",
        required=False,
        min_value=NUMBER_LIMITS["inventory_search_days"][0],
        max_value=NUMBER_LIMITS["inventory_search_days"][1],
        help_text=(
            "Defines the polling window for inventory updates in days. "
            "Enter 0 for standard inventory polling searches."
        ),
        error_messages={
            key: "Enter a whole number of days from 0 to 365."
            for key in ("invalid", "min_value", "max_value")
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 365, "step": 1}),
    )
    environment = forms.ChoiceField(
        label="Environment",
        choices=ENVIRONMENT_CHOICES,
        initial="Production",
        help_text='Current valid value is "Production".',
        error_messages={
            "required": 'Choose the environment; the only valid value is "Production".',
            "invalid_choice": (
                '“%(value)s” is not a valid environment; the only valid value is "Production".'
            ),
        },
    )
    consumer_id = forms.CharField(
        label="Consumer ID",
        max_length=255,
        help_text=(
            "Generated during Machine-to-Machine authentication. NetSuite shows it once, when "
            "the integration record is saved (Setup > Integration > Manage Integrations > New, "
            "as Client ID / Consumer Key); if it was lost, reset the credentials there."
        ),
        error_messages={
            "required": "Enter the Consumer ID (the Client ID of the integration record)."
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    account_id = forms.CharField(
        label="Account ID",
        max_length=40,
        help_text=(
            "Unique identifier for your NetSuite account, "
            "for example 1234567 or 1234567_SB1 for a sandbox. It is the first part of your "
            "NetSuite address (1234567.app.netsuite.com), and under Setup > Company > Company "
            "Information."
        ),
        error_messages={"required": "Enter the Account ID, for example 1234567 or 1234567_SB1."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    private_key_pem = forms.CharField(
        label="Certificate Private Key",
        required=False,
        strip=False,
        help_text=(
            "Key generated during OpenSSL Certificate setup. Optional here: leave it blank and "
            "generate the key and certificate in the dashboard once the subscription is saved "
            "(its set-up checklist leads there). If you made your own, this is the key file "
            "(key.pem), not the certificate: NetSuite never sees the key, it gets only the "
            "certificate."
        ),
        widget=WriteOnlyTextarea(
            attrs={"autocomplete": "off", "spellcheck": "false", "rows": 6, "cols": 64}
        ),
    )
    private_key_file = forms.FileField(
        label="or upload a .pem file",
        required=False,
        help_text="The key file itself (key.pem), at most 64 KiB.",
        widget=forms.FileInput(attrs={"accept": ".pem,.key,.txt"}),
    )
    certificate_id = forms.CharField(
        label="Certificate ID",
        required=False,
        max_length=255,
        help_text=(
            "NetSuite issues it when the certificate is uploaded there (Setup > Integration > "
            "OAuth 2.0 Client Credentials (M2M) Setup, in the Certificate ID column). Leave it "
            "blank until then: the set-up checklist asks for it after the upload."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    api_url = forms.CharField(
        label="API URL",
        required=False,
        max_length=255,
        help_text=(
            "Base URL for NetSuite API access. Filled in from the Account ID; "
            "leave it blank to have it derived."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    api_throttle_limit = whole_number(
        "API Throttle Limit",
        *NUMBER_LIMITS["api_throttle_limit"],
        "Requests to NetSuite allowed per throttle window.",
    )
    api_throttle_seconds = whole_number(
        "API Throttle Seconds",
        *NUMBER_LIMITS["api_throttle_seconds"],
        "Length of the NetSuite throttle window in seconds.",
    )
    ipaas_throttle_limit = whole_number(
        "API Throttle Limit (to iPaaS)",
        *NUMBER_LIMITS["ipaas_throttle_limit"],
        "Requests to the iPaaS allowed per throttle window.",
    )
    ipaas_throttle_seconds = whole_number(
        "API Throttle Seconds (to iPaaS)",
        *NUMBER_LIMITS["ipaas_throttle_seconds"],
        "Length of the iPaaS throttle window in seconds.",
    )
    concurrent_connections = whole_number(
        "Concurrent Connections",
        *NUMBER_LIMITS["concurrent_connections"],
        "How many requests to NetSuite may run at the same time.",
    )
    reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        help_text="Optional; recorded in the audit trail with this change.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    opened = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Subscription
        fields = PLAIN_FIELDS

    def __init__(self, *args, kept_key: KeptKey | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.creating = self.instance.pk is None
        # A key kept from this form's refused submit: used when the key fields come blank.
        self.kept_key = kept_key
        versions = list(settings.SUBSCRIPTION_VERSIONS)
        choices = [(v, v) for v in versions]
        current_version = self.instance.version
        if current_version and current_version not in versions:
            # Editing an older subscription must not force a version change on its own.
            choices.append((current_version, f"{current_version} (no longer offered)"))
        self.fields["version"].choices = choices
        self.fields["version"].error_messages["invalid_choice"] = (
            "Choose one of the offered versions: " + ", ".join(versions) + "."
        )
        if self.creating:
            del self.fields["revision"]
            del self.fields["opened"]
            self.fields[
                "private_key_pem"
            ].help_text += " Paste the whole file, including the BEGIN and END lines."
            for name, value in settings.SUBSCRIPTION_DEFAULTS.items():
                self.initial.setdefault(name, value)
            if versions:
                self.initial.setdefault("version", versions[0])
            self.initial.setdefault("inventory_search_days", 0)
        else:
            self.fields["private_key_pem"].help_text += " Leave blank to keep the current key."
            self.initial.setdefault("revision", self.instance.revision)
            self.initial.setdefault(
                "opened",
                signing.dumps(
                    subscription_snapshot(self.instance), salt=OPENED_SALT, compress=True
                ),
            )
        # Beside the API URL, the URL the typed Account ID leads to (works without app.js too).
        self.fields["account_id"].widget.attrs.update(
            {
                "hx-get": reverse("subscriptions:api_url_preview"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#api-url-preview",
                "hx-swap": "innerHTML",
            }
        )
        account = self.initial.get("account_id")
        if account and self.initial.get("api_url") == _derived(account):
            # Lets app.js keep following the Account ID on an edit page too.
            self.fields["api_url"].widget.attrs["data-derived"] = self.initial["api_url"]

    # --- one field at a time -------------------------------------------------------------

    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = Subscription.objects.filter(name__iexact=name)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A subscription named “{name}” already exists.")
        return name

    def clean_inventory_search_days(self):
        days = self.cleaned_data["inventory_search_days"]
        return 0 if days is None else days

    def clean_consumer_id(self):
        return no_whitespace(self.cleaned_data["consumer_id"], "Consumer ID")

    def clean_certificate_id(self):
        return no_whitespace(self.cleaned_data["certificate_id"], "Certificate ID")

    def clean_account_id(self):
        try:
            return normalize_account_id(self.cleaned_data["account_id"])
        except InvalidAccountId as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_private_key_file(self):
        upload = self.cleaned_data.get("private_key_file")
        if upload and upload.size > MAX_KEY_FILE_BYTES:
            raise forms.ValidationError(
                "This file is larger than 64 KiB; a private key file is a few kilobytes. "
                "Check that you chose the key file (key.pem)."
            )
        return upload

    # --- across fields -------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        self._clean_private_key(cleaned)
        self._clean_api_url(cleaned)
        if not self.creating:
            self._clean_opened(cleaned)
        return cleaned

    def _clean_private_key(self, cleaned):
        text = (cleaned.get("private_key_pem") or "").replace("\r\n", "\n").strip()
        upload = cleaned.get("private_key_file")
        cleaned["private_key"] = ""
        cleaned["private_key_info"] = None
        if "private_key_file" in self.errors:
            return
        if text and upload:
            self.add_error(
                "private_key_pem",
                "Paste the private key or upload its file, not both.",
            )
            return
        if upload:
            raw = upload.read(MAX_KEY_FILE_BYTES + 1)
            try:
                text = raw.decode("ascii").replace("\r\n", "\n").strip()
            except UnicodeDecodeError:
                self.add_error("private_key_pem", KEY_ERROR_MESSAGES[NotPemError])
                return
        if not text and self.kept_key is not None:
            text = self.kept_key.pem
        if not text:
            # No key yet is allowed: the subscription is saved "not ready" and its checklist
            # leads to generating one in the dashboard.
            return
        try:
            key = load_private_key(text)
        except CertificateError as exc:
            self.add_error("private_key_pem", key_error_message(exc))
            return
        cleaned["private_key"] = text
        cleaned["private_key_info"] = describe_key(key)

    def _clean_api_url(self, cleaned):
        account = cleaned.get("account_id")
        url = (cleaned.get("api_url") or "").strip()
        if not account:
            return  # the Account ID has its own message; no URL can be checked without it
        expected = api_url_for(account)
        old_account = None if self.creating else self.instance_account
        if (
            not url
            or url.rstrip("/") == expected
            or (old_account and account != old_account and url == _derived(old_account))
        ):
            # Blank, the right one, or the one derived from the Account ID being replaced.
            cleaned["api_url"] = expected
            return
        self.add_error(
            "api_url",
            f"The API URL for Account ID {account} must be {expected}; it cannot name another "
            "host or path. Leave it blank to have it filled in.",
        )

    def _clean_opened(self, cleaned):
        try:
            opened = signing.loads(cleaned.get("opened") or "", salt=OPENED_SALT)
        except signing.BadSignature:
            opened = None
        if (
            not isinstance(opened, dict)
            or opened.get("id") != self.instance.pk
            or cleaned.get("revision") is None
        ):
            self.add_error(
                None,
                "This form is incomplete or out of date. Reload the page and enter your "
                "changes again.",
            )
            return
        cleaned["opened_snapshot"] = opened

    @property
    def instance_account(self):
        # From the initial data, not the instance: ModelForm copies the submitted values onto
        # the instance while validating.
        return self.initial.get("account_id", "")

    # --- what the template and the view need ---------------------------------------------

    def received_key(self) -> KeptKey | None:
        """The readable key this submit carried (pasted, uploaded or kept), to keep when the
        form is refused for another reason; None if there was none or it was refused."""
        info = (getattr(self, "cleaned_data", None) or {}).get("private_key_info")
        if info is None or "private_key_pem" in self.errors:
            return None
        return KeptKey(
            pem=self.cleaned_data["private_key"], label=info.label, fingerprint=info.fingerprint
        )

    def note_kept(self, key: KeptKey | None) -> None:
        """Say next to the key field that ``key`` is kept for the next submit."""
        self.kept_key = key
        if key is not None:
            self.fields["private_key_pem"].help_text = key.notice
            # The bound field copied the help text when validation first built it.
            self["private_key_pem"].help_text = key.notice

    def service_data(self) -> dict:
        data = {field: self.cleaned_data[field] for field in PLAIN_FIELDS}
        data["private_key"] = self.cleaned_data.get("private_key", "")
        return data

    def add_service_errors(self, exc) -> None:
        """Put a service's refusal (a ``ServiceError``) next to the field it concerns."""
        if not exc.errors:
            self.add_error(None, exc.message)
            return
        for field, errors in exc.errors.items():
            target = "private_key_pem" if field == "private_key" else field
            self.add_error(target if target in self.fields else None, errors)

    def bound(self, names):
        return [self[name] for name in names if name in self.fields]

    @property
    def seed_fields(self):
        return self.bound(SEED_FIELDS)

    @property
    def throttle_fields(self):
        return self.bound(THROTTLE_FIELDS)

    def save(self, commit=True):
        raise NotImplementedError("Subscriptions are saved by services.subscriptions.")


def _derived(account: str) -> str | None:
    try:
        return api_url_for(account)
    except InvalidAccountId:
        return None


class ReasonForm(forms.Form):
    """The optional reason on confirmation pages (delete, regenerate)."""

    reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        help_text="Optional; recorded in the audit trail.",
    )
