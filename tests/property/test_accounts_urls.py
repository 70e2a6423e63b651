"""Account IDs and the URLs built from them, for any input whatsoever.

Whatever is typed as an Account ID (or record type, record ID, script, Consumer ID, base URL),
the code either refuses it with its own validation error or builds URLs whose host is the
account's own NetSuite host (or the operator's base URL), read back by two parsers: the
standard library's and urllib3's, the one requests connects with.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from netsuite.accounts import (
    AccountUrls,
    InvalidAccountId,
    InvalidBaseUrl,
    api_url_for,
    normalize_account_id,
    normalize_base_url,
    token_audience,
)
from netsuite.errors import ConfigurationError

from .strategies import account_input, any_text, nasty, plausible_account, rolled_back

ACCOUNT_ID = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)?")
# What may appear in a URL this code builds: printable ASCII without spaces.
URL_CHARS = re.compile(r"[!-~]+")


def host_of(account_id: str) -> str:
    """The account's SuiteTalk host, spelled out here rather than asked of the code."""
    return account_id.lower().replace("_", "-") + ".suitetalk.api.netsuite.com"


def hosts_for(urls: AccountUrls) -> tuple[str, str]:
    """The account's SuiteTalk and RESTlet hosts."""
    suitetalk = host_of(urls.account_id)
    return suitetalk, suitetalk.replace(".suitetalk.", ".restlets.")


def hosts_of(url: str) -> tuple[str, str]:
    """``(host:port)`` of ``url`` as urllib and as urllib3 read it."""
    parts = urlsplit(url)
    other = parse_url(url)
    theirs = (other.host or "") + (f":{other.port}" if other.port is not None else "")
    return parts.netloc, theirs


def assert_goes_to(url: str, netloc: str) -> None:
    assert URL_CHARS.fullmatch(url), f"unexpected characters in {url!r}"
    ours, theirs = hosts_of(url)
    assert ours == netloc, url
    assert theirs == netloc, url
    assert urlsplit(url).username is None


@settings(max_examples=200)
@given(account_input)
def test_an_account_id_is_normalised_or_refused_with_its_own_error(value):
    try:
        account = normalize_account_id(value)
    except InvalidAccountId as exc:
        assert exc.message and exc.hint
        return
    assert ACCOUNT_ID.fullmatch(account) and len(account) <= 40
    assert normalize_account_id(account) == account


@settings(max_examples=200)
@given(account_input)
def test_every_url_of_an_account_goes_to_its_own_hosts(value):
    try:
        urls = AccountUrls(value)
    except InvalidAccountId:
        return
    suitetalk, restlets = hosts_for(urls)
    for url in (
        urls.api_url,
        urls.audience,
        urls.token_url,
        urls.record_base,
        urls.suiteql_url,
        urls.governance_url,
        urls.record_url("customer", "107"),
        urls.metadata_url("customer"),
        api_url_for(value),
        token_audience(value),
    ):
        assert_goes_to(url, suitetalk)
        assert urlsplit(url).scheme == "https"
    for url in (
        urls.restlet_url("customscript_x", "1"),
        urls.certificates_url("consumer-1", "cert-1"),
    ):
        assert_goes_to(url, restlets)
    assert urls.owns(urls.token_url) and urls.owns(urls.restlet_url("1", "1"))


# Parts of a URL path that people or NetSuite's answers supply.
path_part = st.one_of(
    any_text,
    st.builds(
        lambda a, s, b: a + s + b,
        st.from_regex(r"\A[A-Za-z0-9_]{1,10}\Z"),
        nasty,
        st.text(max_size=8),
    ),
    st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,10}\Z"),
)


@settings(max_examples=200)
@given(plausible_account, path_part, path_part, path_part)
def test_record_script_and_client_ids_never_leave_the_path(account, part, other, third):
    urls = AccountUrls(account)
    suitetalk, restlets = hosts_for(urls)
    built = []
    for build, host, path in (
        (lambda: urls.record_url(part), suitetalk, f"/services/rest/record/v1/{part}"),
        (
            lambda: urls.record_url("customer", other),
            suitetalk,
            f"/services/rest/record/v1/customer/{other}",
        ),
        (
            lambda: urls.metadata_url(part),
            suitetalk,
            f"/services/rest/record/v1/metadata-catalog/{part}",
        ),
        (
            lambda: urls.certificates_url(part, other),
            restlets,
            f"/services/rest/auth/oauth2/v1/clients/{part}/certificates/{other}/revoke",
        ),
        (lambda: urls.restlet_url(part, third), restlets, "/app/site/hosting/restlet.nl"),
    ):
        try:
            url = build()
        except ConfigurationError:
            continue
        assert_goes_to(url, host)
        assert urlsplit(url).path == path
        built.append(url)
    assume(built)


hosts = st.one_of(
    st.sampled_from(["127.0.0.1", "localhost", "[::1]", "sim.example", "a-b.example"]),
    st.builds(
        lambda a, s, b: a + s + b,
        st.sampled_from(["127.0.0.1", "sim.example"]),
        nasty,
        st.sampled_from(["", "evil.example", "8765", "x"]),
    ),
    any_text,
)
base_urls = st.one_of(
    st.builds(
        lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
        hosts,
        st.sampled_from(["", ":8765", ":0", ":99999", ":-1", ": 80", ":8o"]),
        st.one_of(st.sampled_from(["", "/", "/x", "?q", "#f", "/#", " "]), nasty),
    ),
    any_text,
)


@settings(max_examples=250)
@given(plausible_account, base_urls)
def test_a_base_url_is_an_origin_every_parser_reads_alike_or_it_is_refused(account, base):
    try:
        origin = normalize_base_url(base)
    except InvalidBaseUrl as exc:
        assert exc.message
        return
    netloc = urlsplit(origin).netloc
    assert origin == f"{urlsplit(origin).scheme}://{netloc}"
    assert normalize_base_url(origin) == origin
    try:
        urls = AccountUrls(account, base_url=base)
    except InvalidAccountId:
        return
    for url in (
        urls.token_url,
        urls.suiteql_url,
        urls.record_url("customer"),
        urls.restlet_url("1", "1"),
        urls.certificates_url("c", "d"),
    ):
        assert_goes_to(url, netloc)
    # The assertion's audience never follows the base URL.
    assert_goes_to(urls.audience, host_of(urls.account_id))


# --- the subscription form, the service and the preview, on the Django side ----------------

API_URL_TRICKS = [
    "https://{host}/services/rest/record/v1",
    "https://{host}/services/rest/record/v1/",
    "HTTPS://{host}/services/rest/record/v1",
    "https://{host}.evil.example/services/rest/record/v1",
    "https://evil.example/{host}/services/rest/record/v1",
    "https://{host}@evil.example/services/rest/record/v1",
    "https://evil.example#@{host}/services/rest/record/v1",
    "https://{host}:444/services/rest/record/v1",
    "http://{host}/services/rest/record/v1",
    "https://{host}/services/rest/record/v1/../../../x",
    " https://{host}/services/rest/record/v1 ",
    "https://{host}\\@evil.example/services/rest/record/v1",
    "https://{account}.suitetalk.api.netsuite.com/services/rest/record/v1",
]


@st.composite
def account_and_api_url(draw, accounts=account_input):
    """An Account ID as typed, and an API URL: blank, anything, or one aimed at that
    account's host (right, or with another host smuggled in)."""
    account = draw(accounts)
    text = account if isinstance(account, str) else str(account)
    trick = st.sampled_from(API_URL_TRICKS).map(
        lambda t: t.format(host=host_of(normalize_or(text)), account=text)
    )
    exact = API_URL_TRICKS[0].format(host=host_of(normalize_or(text)), account=text)
    return account, draw(st.one_of(st.just(""), st.just(exact), any_text, trick, trick))


def normalize_or(account: str) -> str:
    try:
        return normalize_account_id(account)
    except InvalidAccountId:
        return account


@pytest.fixture
def ec_key_pem():
    from tests.factories import ec_key, key_pem

    return key_pem(ec_key())


@pytest.mark.django_db
@settings(max_examples=100)
@given(account_and_api_url())
def test_the_form_refuses_or_derives_an_api_url_on_the_accounts_own_host(ec_key_pem, typed):
    account, api_url = typed
    from subscriptions.forms.subscription import SubscriptionForm
    from tests.factories import create_form_data

    data = create_form_data(account_id=account, api_url=api_url, private_key_pem=ec_key_pem)
    form = SubscriptionForm(data=data)
    valid = form.is_valid()
    if "account_id" in form.errors:
        assert not valid
        return
    cleaned = form.cleaned_data
    assert ACCOUNT_ID.fullmatch(cleaned["account_id"])
    if "api_url" in form.errors:
        assert not valid
        return
    event("API URL accepted")
    assert_goes_to(cleaned["api_url"], host_of(cleaned["account_id"]))
    assert cleaned["api_url"] == (
        f"https://{host_of(cleaned['account_id'])}/services/rest/record/v1"
    )


# Mostly plausible IDs: the service stores only an exact API URL, which random text never is.
ids_or_not = st.integers(0, 3).flatmap(
    lambda n: plausible_account if n else st.one_of(account_input, st.none(), st.integers())
)


@pytest.mark.django_db
@settings(max_examples=60)
@given(account_and_api_url(ids_or_not))
def test_the_service_stores_only_an_api_url_on_the_accounts_own_host(ec_key_pem, typed):
    account, api_url = typed
    from subscriptions.actors import COMMAND_LINE
    from subscriptions.services.errors import ServiceError
    from subscriptions.services.subscriptions import subscription_create
    from tests.factories import subscription_data

    data = subscription_data(account_id=account, api_url=api_url, private_key=ec_key_pem)
    with rolled_back():
        try:
            subscription, _key = subscription_create(data=data, actor=COMMAND_LINE)
        except ServiceError as exc:
            assert exc.errors.keys() <= {"account_id", "api_url"}, exc.errors
            event(f"refused: {sorted(exc.errors)}")
            return
        event("stored")
        subscription.refresh_from_db()
        assert_goes_to(subscription.api_url, host_of(subscription.account_id))


@pytest.mark.django_db
@settings(max_examples=100)
@given(account=st.text(max_size=60))
def test_the_api_url_preview_answers_any_account_id(admin_client_, account):
    from django.urls import reverse

    response = admin_client_.get(reverse("subscriptions:api_url_preview"), {"account_id": account})
    assert response.status_code == 200
    try:
        expected = api_url_for(account)
    except InvalidAccountId:
        return
    assert expected in response.content.decode()
