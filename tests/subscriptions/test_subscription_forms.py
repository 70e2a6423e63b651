"""Every validation rule of the subscription form, through the real view and the database.

Each bad input must come back with its own message next to its field, and leave the database
and the audit trail exactly as they were. The keys come from tests/factories.py, made with
`cryptography` in every shape people paste (PKCS#1, PKCS#8, SEC1, encrypted, certificates,
public keys).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from subscriptions.models import AuditEvent, Subscription
from subscriptions.services import subscriptions as services
from subscriptions.services.errors import InvalidInput
from tests.factories import (
    API_URL_SB1,
    PKCS8,
    TRADITIONAL,
    certificate_pem,
    create_form_data,
    ec_key,
    edit_form_data,
    fingerprint,
    key_pem,
    make_subscription,
    pem_body_lines,
    public_pem,
    rsa_key,
    subscription_data,
    valid_key_pem,
)
from tests.html import parse


def stored_ciphertext() -> tuple:
    """The encrypted columns as the database holds them (the ORM would decrypt them)."""
    table = connection.ops.quote_name(Subscription._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT private_key, webhook_api_key FROM {table}")
        return tuple(cursor.fetchone())


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def assert_refused(response, field: str, message: str):
    """The message is next to the field, in the page, and the page says nothing was saved."""
    assert response.status_code == 200
    assert message in field_errors(response, field), field_errors(response, field)
    html = response.content.decode()
    assert escape(message) in html
    assert "Nothing was saved" in html


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def admin(admin_client_):
    return admin_client_


@pytest.fixture
def create(admin):
    """POST the create form; return the response after checking that a refusal changed nothing."""

    def post(expect_saved=False, files=None, **overrides):
        before = (Subscription.objects.count(), AuditEvent.objects.count())
        data = create_form_data(**overrides)
        if files:
            data.update(files)
        response = admin.post(reverse("subscriptions:create"), data)
        after = (Subscription.objects.count(), AuditEvent.objects.count())
        if expect_saved:
            assert after == (before[0] + 1, before[1] + 1)
        else:
            assert after == before, "a refused POST must change nothing and audit nothing"
        return response

    return post


# --- the happy path --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_form_creates_the_subscription_with_normalised_and_derived_values(create):
    response = create(expect_saved=True)
    sub = Subscription.objects.get()
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("subscriptions:detail", args=[sub.pk]),
    )
    assert sub.name == "Acme Production"
    assert sub.account_id == "1234567_SB1"
    assert sub.api_url == API_URL_SB1
    assert sub.inventory_search_days == 7
    assert sub.private_key_type == "RSA 3072"
    assert sub.private_key_fingerprint == fingerprint(rsa_key(3072))
    assert sub.revision == 1
    event = AuditEvent.objects.filter(action="subscription.created").get()
    assert event.changes["account_id"] == [None, "1234567_SB1"]


@pytest.mark.django_db
def test_the_create_page_has_the_seed_labels_help_texts_and_defaults(admin, settings):
    settings.SUBSCRIPTION_VERSIONS = ["v2.0", "v1.9"]
    settings.SUBSCRIPTION_DEFAULTS = {
        "api_throttle_limit": 11,
        "api_throttle_seconds": 12,
        "ipaas_throttle_limit": 13,
        "ipaas_throttle_seconds": 14,
        "concurrent_connections": 5,
    }
    response = admin.get(reverse("subscriptions:create"))
    form = response.context["form"]
    labels = {name: str(field.label) for name, field in form.fields.items()}
    assert labels == {
        "name": "Name",
        "version": "Versions",
        "inventory_search_days": "Inventory Search Days",
        "environment": "Environment",
        "consumer_id": "Consumer ID",
        "account_id": "Account ID",
        "private_key_pem": "Certificate Private Key",
        "private_key_file": "or upload a .pem file",
        "certificate_id": "Certificate ID",
        "api_url": "API URL",
        "api_throttle_limit": "API Throttle Limit",
        "api_throttle_seconds": "API Throttle Seconds",
        "ipaas_throttle_limit": "API Throttle Limit (to iPaaS)",
        "ipaas_throttle_seconds": "API Throttle Seconds (to iPaaS)",
        "concurrent_connections": "Concurrent Connections",
        "reason": "Reason for this change",
    }
    helps = {name: str(field.help_text) for name, field in form.fields.items()}
    assert helps["name"] == "Provide a unique name for the subscription."
    assert helps["version"] == "Select the latest version from the dropdown."
    assert helps["inventory_search_days"].startswith(
        "Defines the polling window for inventory updates in days."
    )
    assert "Enter 0 for standard inventory polling searches." in helps["inventory_search_days"]
    assert helps["environment"] == 'Current valid value is "Production".'
    # The seed's description first, then where NetSuite shows the value.
    assert helps["consumer_id"].startswith("Generated during Machine-to-Machine authentication.")
    assert "Setup > Integration > Manage Integrations" in helps["consumer_id"]
    assert helps["account_id"].startswith("Unique identifier for your NetSuite account")
    assert "1234567" in helps["account_id"] and "1234567_SB1" in helps["account_id"]
    assert helps["private_key_pem"].startswith("Key generated during OpenSSL Certificate setup.")
    # NetSuite issues it on upload (the seed's "generated during OpenSSL" was wrong).
    assert helps["certificate_id"].startswith(
        "NetSuite issues it when the certificate is uploaded there"
    )
    assert (
        "Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup" in helps["certificate_id"]
    )
    assert helps["api_url"].startswith("Base URL for NetSuite API access.")
    # Versions: latest first and chosen; throttling pre-filled from the settings.
    assert [value for value, _ in form.fields["version"].choices] == ["v2.0", "v1.9"]
    assert form["version"].value() == "v2.0"
    assert form["api_throttle_limit"].value() == 11
    assert form["ipaas_throttle_seconds"].value() == 14
    assert form["concurrent_connections"].value() == 5
    page = parse(response)
    assert page.find("label", for_="id_name").text == "Name"
    # Identifiers and keys are not for the browser to remember and offer elsewhere.
    for name in ("consumer_id", "account_id", "certificate_id", "private_key_pem", "api_url"):
        assert page.find(name=name).get("autocomplete") == "off", name


# --- one rule at a time ----------------------------------------------------------------------


DAYS = "Enter a whole number of days from 0 to 365."
CALLS = "Enter a whole number from 1 to 100000."
SECONDS = "Enter a whole number from 1 to 86400."
CONNECTIONS = "Enter a whole number from 1 to 100."
NOT_AN_ACCOUNT = (
    "That is not a NetSuite Account ID: it holds only letters, digits and one underscore, like "
    "1234567 or 1234567_SB1."
)
NO_SPACES = "The {} cannot contain spaces or line breaks; copy it again from NetSuite."
# field -> [(message, the values that get it)]
BAD_VALUES = {
    "name": [("Enter a name for the subscription.", ["", "   "])],
    "version": [("Choose one of the offered versions: v1.2, v1.1, v1.0.", ["v0.1"])],
    "inventory_search_days": [(DAYS, ["-1", "366", "1.5", "seven"])],
    "environment": [
        ('“Sandbox” is not a valid environment; the only valid value is "Production".',
         ["Sandbox"]),
        ('Choose the environment; the only valid value is "Production".', [""]),
    ],
    "consumer_id": [
        ("Enter the Consumer ID (the Client ID of the integration record).", [""]),
        (NO_SPACES.format("Consumer ID"), ["abc def"]),
    ],
    "certificate_id": [
        (NO_SPACES.format("Certificate ID"), ["cert\tid"]),
    ],
    "account_id": [
        ("Enter the Account ID, for example 1234567 or 1234567_SB1.", [""]),
        (NOT_AN_ACCOUNT, ["1234567.evil.com#", "12 34"]),
    ],
    "api_throttle_limit": [(CALLS, ["0", ""])],
    "api_throttle_seconds": [(SECONDS, ["-5"])],
    "ipaas_throttle_limit": [(CALLS, ["ten"])],
    "ipaas_throttle_seconds": [(SECONDS, ["86401"])],
    "concurrent_connections": [(CONNECTIONS, ["0", "101", "2.5"])],
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (field, value, message)
        for field, rules in BAD_VALUES.items()
        for message, values in rules
        for value in values
    ],
)
def test_each_bad_value_gets_its_message_and_nothing_is_saved(create, field, value, message):
    assert_refused(create(**{field: value}), field, message)


@pytest.mark.django_db
def test_the_name_is_unique_without_regard_to_case(create, admin_user):
    make_subscription(admin_user, name="Acme Production")
    response = create(name="ACME production")
    assert_refused(response, "name", "A subscription named “ACME production” already exists.")


@pytest.mark.django_db
def test_blank_inventory_search_days_means_zero(create):
    create(expect_saved=True, inventory_search_days="")
    assert Subscription.objects.get().inventory_search_days == 0


@pytest.mark.django_db
def test_a_sandbox_account_id_is_stored_normalised(create):
    create(expect_saved=True, account_id=" 7654321_sb2 ", api_url="")
    sub = Subscription.objects.get()
    assert sub.account_id == "7654321_SB2"
    assert sub.api_url == "https://7654321-sb2.suitetalk.api.netsuite.com/services/rest/record/v1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "api_url",
    [
        "https://evil.example.com/services/rest/record/v1",
        "https://1234567-sb1.suitetalk.api.netsuite.com.evil.example.com/services/rest/record/v1",
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1",
        "https://7654321.suitetalk.api.netsuite.com/services/rest/record/v1",
        "http://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1",
        "https://user@1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1",
    ],
)
def test_an_api_url_naming_another_host_or_path_is_refused(create, api_url):
    response = create(api_url=api_url)
    assert_refused(
        response,
        "api_url",
        f"The API URL for Account ID 1234567_SB1 must be {API_URL_SB1}; it cannot name another "
        "host or path. Leave it blank to have it filled in.",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("api_url", ["", API_URL_SB1, API_URL_SB1 + "/"])
def test_the_api_url_may_be_blank_or_the_derived_one(create, api_url):
    create(expect_saved=True, api_url=api_url)
    assert Subscription.objects.get().api_url == API_URL_SB1


@pytest.mark.django_db
def test_the_service_itself_refuses_an_api_url_of_another_host(admin_user):
    with pytest.raises(InvalidInput) as refused:
        services.subscription_create(
            data=subscription_data(api_url="https://evil.example.com/services/rest/record/v1"),
            actor=admin_user,
        )
    assert API_URL_SB1 in refused.value.errors["api_url"]
    subscription, _ = make_subscription(admin_user)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        services.subscription_update(
            subscription=subscription,
            data=subscription_data(account_id="7654321"),  # API URL still the SB1 one
            expected_revision=1,
            actor=admin_user,
        )
    subscription.refresh_from_db()
    assert subscription.account_id == "1234567_SB1"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_the_service_refuses_a_bad_account_id_and_a_bad_key(admin_user):
    with pytest.raises(InvalidInput) as refused:
        services.subscription_create(
            data=subscription_data(account_id="x.evil.com#"), actor=admin_user
        )
    assert "account_id" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        services.subscription_create(
            data=subscription_data(private_key=certificate_pem(rsa_key(3072))), actor=admin_user
        )
    assert "private_key" in refused.value.errors
    assert not Subscription.objects.exists()


# --- the private key -------------------------------------------------------------------------

CERTIFICATE_MESSAGE = (
    "This is a certificate (or a certificate request), not the private key. The certificate is "
    "what you upload to NetSuite; here paste the private key file (key.pem, starting with "
    "-----BEGIN PRIVATE KEY-----)."
)
PUBLIC_KEY_MESSAGE = (
    "This is a public key, not the private key. Paste the private key file (key.pem, starting "
    "with -----BEGIN PRIVATE KEY-----); the public key is inside the certificate you upload to "
    "NetSuite."
)
PASSPHRASE_MESSAGE = (
    "This private key is protected by a passphrase, which NetSuite's machine-to-machine flow "
    "cannot use. Remove the passphrase with openssl pkey -in key.pem -out key-plain.pem and "
    "paste key-plain.pem."
)
RSA_2048_MESSAGE = (
    "This RSA key is shorter than 3072 bits (typically RSA 2048). NetSuite refuses 2048-bit "
    "keys: use an RSA 3072 or 4096-bit key, or an EC key (P-256, P-384 or P-521)."
)
NOT_PEM_MESSAGE = (
    "This is not a PEM private key. Paste the whole key file, from -----BEGIN PRIVATE KEY----- "
    "to -----END PRIVATE KEY-----, or upload the .pem file."
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_pem", "message"),
    [
        (lambda: certificate_pem(rsa_key(3072)), CERTIFICATE_MESSAGE),
        (lambda: public_pem(rsa_key(3072)), PUBLIC_KEY_MESSAGE),
        (lambda: public_pem(ec_key("P-256")), PUBLIC_KEY_MESSAGE),
        (lambda: key_pem(rsa_key(3072), PKCS8, b"s3cret-pass"), PASSPHRASE_MESSAGE),
        (lambda: key_pem(rsa_key(3072), TRADITIONAL, b"s3cret-pass"), PASSPHRASE_MESSAGE),
        (lambda: key_pem(rsa_key(2048)), RSA_2048_MESSAGE),
        (lambda: key_pem(rsa_key(2048), TRADITIONAL), RSA_2048_MESSAGE),
        (lambda: "hello, this is my key", NOT_PEM_MESSAGE),
        (
            lambda: "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
            NOT_PEM_MESSAGE,
        ),
    ],
    ids=[
        "certificate",
        "rsa-public-key",
        "ec-public-key",
        "encrypted-pkcs8",
        "encrypted-traditional",
        "rsa-2048-pkcs8",
        "rsa-2048-pkcs1",
        "garbage",
        "damaged-pem",
    ],
)
def test_each_private_key_mistake_has_its_own_message(create, make_pem, message):
    pem = make_pem()
    response = create(private_key_pem=pem)
    assert len(field_errors(response, "private_key_pem")) == 1
    assert_refused(response, "private_key_pem", message)
    # The key as pasted is never put back into the page.
    html = response.content.decode()
    for line in pem_body_lines(pem):
        assert line not in html


@pytest.mark.django_db
def test_a_new_subscription_may_wait_for_its_key_and_certificate_id(create):
    """Issue 16: saved from Name, Account ID and Consumer ID; the key is made in the dashboard
    afterwards, and NetSuite issues the Certificate ID on upload."""
    response = create(expect_saved=True, private_key_pem="", certificate_id="")
    assert response.status_code == 302
    saved = Subscription.objects.get()
    assert (saved.private_key_fingerprint, saved.certificate_id) == ("", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_key", "fmt", "label"),
    [
        (lambda: rsa_key(3072), PKCS8, "RSA 3072"),
        (lambda: rsa_key(3072), TRADITIONAL, "RSA 3072"),  # PKCS#1
        (lambda: rsa_key(4096), PKCS8, "RSA 4096"),
        (lambda: ec_key("P-256"), PKCS8, "EC P-256"),
        (lambda: ec_key("P-256"), TRADITIONAL, "EC P-256"),  # SEC1
        (lambda: ec_key("P-384"), TRADITIONAL, "EC P-384"),
        (lambda: ec_key("P-521"), PKCS8, "EC P-521"),
    ],
    ids=["rsa3072-pkcs8", "rsa3072-pkcs1", "rsa4096", "p256-pkcs8", "p256-sec1", "p384", "p521"],
)
def test_accepted_key_types_and_encodings(create, make_key, fmt, label):
    key = make_key()
    create(expect_saved=True, private_key_pem=key_pem(key, fmt))
    sub = Subscription.objects.get()
    assert sub.private_key_type == label
    assert sub.private_key_fingerprint == fingerprint(key)


@pytest.mark.django_db
def test_a_key_pasted_with_windows_line_endings_is_accepted(create):
    create(expect_saved=True, private_key_pem=valid_key_pem().replace("\n", "\r\n"))
    assert Subscription.objects.get().private_key_type == "RSA 3072"


@pytest.mark.django_db
def test_a_pem_file_can_be_uploaded_instead_of_pasted(create):
    key = ec_key("P-384")
    upload = SimpleUploadedFile("key.pem", key_pem(key).encode(), "application/x-pem-file")
    create(expect_saved=True, private_key_pem="", files={"private_key_file": upload})
    sub = Subscription.objects.get()
    assert sub.private_key_type == "EC P-384"
    assert sub.private_key_fingerprint == fingerprint(key)


@pytest.mark.django_db
def test_an_uploaded_certificate_gets_the_certificate_message(create):
    upload = SimpleUploadedFile("cert.pem", certificate_pem(rsa_key(3072)).encode())
    response = create(private_key_pem="", files={"private_key_file": upload})
    assert_refused(response, "private_key_pem", CERTIFICATE_MESSAGE)


@pytest.mark.django_db
def test_a_binary_upload_is_not_pem(create):
    upload = SimpleUploadedFile("key.der", bytes(range(256)))
    response = create(private_key_pem="", files={"private_key_file": upload})
    assert_refused(response, "private_key_pem", NOT_PEM_MESSAGE)


@pytest.mark.django_db
def test_an_upload_larger_than_64_kib_is_refused(create):
    upload = SimpleUploadedFile("key.pem", valid_key_pem().encode() + b"#" * 70_000)
    response = create(private_key_pem="", files={"private_key_file": upload})
    assert_refused(
        response,
        "private_key_file",
        "This file is larger than 64 KiB; a private key file is a few kilobytes. Check that "
        "you chose the key file (key.pem).",
    )


@pytest.mark.django_db
def test_pasting_and_uploading_at_once_is_refused(create):
    upload = SimpleUploadedFile("key.pem", valid_key_pem().encode())
    response = create(files={"private_key_file": upload})
    assert_refused(
        response, "private_key_pem", "Paste the private key or upload its file, not both."
    )


@pytest.mark.django_db
def test_the_key_textarea_never_renders_a_value(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    response = admin.get(reverse("subscriptions:edit", args=[subscription.pk]))
    assert response.status_code == 200
    textarea = parse(response).find("textarea", name="private_key_pem")
    assert textarea is not None
    assert textarea.text == "", "the textarea must be empty"
    assert textarea.get("autocomplete") == "off"


# --- edit ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_editing_with_a_blank_key_keeps_the_current_key(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    stored = stored_ciphertext()
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]),
        edit_form_data(subscription, consumer_id="consumer-new"),
    )
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert sub.consumer_id == "consumer-new"
    assert sub.private_key == valid_key_pem()
    assert sub.private_key_fingerprint == fingerprint(rsa_key(3072))
    # Not even re-encrypted: the secret columns are left out of the UPDATE.
    assert stored_ciphertext() == stored
    event = AuditEvent.objects.filter(action="subscription.updated").get()
    assert event.changes == {"consumer_id": ["consumer-abc123", "consumer-new"]}


@pytest.mark.django_db
def test_editing_with_a_new_key_replaces_it_and_audits_only_its_fingerprint(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    new_key = ec_key("P-256")
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]),
        edit_form_data(subscription, private_key_pem=key_pem(new_key), reason="rotation"),
    )
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert sub.private_key_type == "EC P-256"
    assert sub.private_key_fingerprint == fingerprint(new_key)
    assert sub.revision == 2
    event = AuditEvent.objects.filter(action="subscription.updated").get()
    assert event.reason == "rotation"
    assert event.changes == {
        "private_key": ["(set)", f"***CHANGED*** (public key SHA-256 {fingerprint(new_key)})"]
    }


@pytest.mark.django_db
def test_changing_the_account_id_follows_with_the_derived_api_url(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]),
        edit_form_data(subscription, account_id="7654321"),  # API URL field still the old one
    )
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert sub.account_id == "7654321"
    assert sub.api_url == "https://7654321.suitetalk.api.netsuite.com/services/rest/record/v1"


@pytest.mark.django_db
def test_a_failed_edit_changes_nothing(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    before = list(Subscription.objects.values())
    events = AuditEvent.objects.count()
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]),
        edit_form_data(
            subscription,
            name="Renamed",
            concurrent_connections="500",
            private_key_pem=key_pem(ec_key("P-256")),
        ),
    )
    assert_refused(response, "concurrent_connections", "Enter a whole number from 1 to 100.")
    assert list(Subscription.objects.values()) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_edit_form_without_its_hidden_fields_is_refused(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    data = edit_form_data(subscription, name="Renamed")
    del data["opened"]
    response = admin.post(reverse("subscriptions:edit", args=[subscription.pk]), data)
    assert response.status_code == 200
    assert "Reload the page and enter your changes again." in response.content.decode()
    assert Subscription.objects.get().name == "Acme Production"


@pytest.mark.django_db
def test_an_unchanged_form_saves_nothing(admin, admin_user):
    subscription, _ = make_subscription(admin_user)
    events = AuditEvent.objects.count()
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]), edit_form_data(subscription)
    )
    assert response.status_code == 302
    assert Subscription.objects.get().revision == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_obsolete_version_can_be_kept_while_editing_other_fields(admin, admin_user, settings):
    subscription, _ = make_subscription(admin_user, version="v0.9")
    response = admin.post(
        reverse("subscriptions:edit", args=[subscription.pk]),
        edit_form_data(subscription, certificate_id="cert-id-43"),
    )
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert (sub.version, sub.certificate_id) == ("v0.9", "cert-id-43")


# --- the API URL preview ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_url_preview_derives_the_url_or_explains_the_problem(admin):
    url = reverse("subscriptions:api_url_preview")
    good = admin.get(url, {"account_id": "1234567_sb1"}, headers={"HX-Request": "true"})
    assert good.status_code == 200
    assert API_URL_SB1 in good.content.decode()
    assert "<html" not in good.content.decode()
    bad = admin.get(url, {"account_id": "evil.com/"}).content.decode()
    assert "That is not a NetSuite Account ID" in bad
    assert "suitetalk" not in bad


@pytest.mark.parametrize(
    "field,value",
    [
        ("inventory_search_days", 30000),
        ("inventory_search_days", -1),
        ("api_throttle_limit", 0),
        ("api_throttle_seconds", 86_401),
        ("concurrent_connections", 101),
        ("concurrent_connections", "5"),
    ],
)
def test_the_service_refuses_out_of_range_numbers_whatever_the_caller(
    admin_user, field, value
):
    subscription, _ = make_subscription(admin_user)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        services.subscription_update(
            subscription=subscription,
            data={field: value},
            expected_revision=subscription.revision,
            actor=admin_user,
        )
    assert "Enter a whole number from" in str(caught.value.errors[field])
    subscription.refresh_from_db()
    assert getattr(subscription, field) == subscription_data()[field]
    assert AuditEvent.objects.count() == events
