import pytest

from netsuite.accounts import (
    AccountUrls,
    InvalidAccountId,
    InvalidBaseUrl,
    api_url_for,
    host_label,
    normalize_account_id,
    normalize_base_url,
)
from netsuite.errors import ConfigurationError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567", "1234567"),
        ("1234567_sb1", "1234567_SB1"),
        ("  1234567_SB2\n", "1234567_SB2"),
        ("1234567_rp", "1234567_RP"),
        ("td2819981", "TD2819981"),
        ("1234567-sb1", "1234567_SB1"),
    ],
)
def test_normalize_account_id(raw, expected):
    assert normalize_account_id(raw) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "x.evil.com#",
        "1234/../",
        "a@b",
        "",
        "   ",
        "1234567_SB1_X",
        "1234567_",
        "_SB1",
        "1234567 SB1",
        "1234567.suitetalk.api.netsuite.com",
        "evil.com/1234567",
        "1234567?x=1",
        "1234567:443",
        "1" * 41,
        "１２３４",  # full-width digits
    ],
)
def test_refuses_what_is_not_an_account_id(hostile):
    with pytest.raises(InvalidAccountId) as info:
        normalize_account_id(hostile)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ConfigurationError)
    assert "1234567" in str(info.value)


def test_refuses_non_text():
    with pytest.raises(InvalidAccountId):
        normalize_account_id(1234567)  # type: ignore[arg-type]


def test_host_label_and_api_url():
    assert host_label("1234567_sb1") == "1234567-sb1"
    assert host_label("1234567") == "1234567"
    assert api_url_for("1234567_SB1") == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1"
    )


def test_urls_of_a_sandbox():
    urls = AccountUrls("1234567_sb1")
    assert urls.account_id == "1234567_SB1"
    assert urls.token_url == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
    )
    assert urls.record_base == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1"
    )
    assert urls.suiteql_url == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"
    )
    assert urls.governance_url == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/system/v1/governanceLimits"
    )
    assert urls.restlet_url("customscript_x", "customdeploy_x") == (
        "https://1234567-sb1.restlets.api.netsuite.com/app/site/hosting/restlet.nl"
        "?script=customscript_x&deploy=customdeploy_x"
    )
    assert urls.record_url("customerCategory", 12) == urls.record_base + "/customerCategory/12"


def test_base_url_replaces_scheme_and_host_of_every_call():
    urls = AccountUrls("1234567_SB1", "http://127.0.0.1:8765/")
    assert urls.base_url == "http://127.0.0.1:8765"
    assert urls.token_url == "http://127.0.0.1:8765/services/rest/auth/oauth2/v1/token"
    assert urls.record_base == "http://127.0.0.1:8765/services/rest/record/v1"
    assert urls.suiteql_url == "http://127.0.0.1:8765/services/rest/query/v1/suiteql"
    assert urls.governance_url == (
        "http://127.0.0.1:8765/services/rest/system/v1/governanceLimits"
    )
    assert urls.restlet_url("customscript_a", "customdeploy_a").startswith(
        "http://127.0.0.1:8765/app/site/hosting/restlet.nl?script="
    )
    # The subscription's API URL is the real one, whatever the operator's override.
    assert urls.api_url == api_url_for("1234567_SB1")


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://127.0.0.1",
        "127.0.0.1:8765",
        "http://",
        "http://user:pw@127.0.0.1:8765",
        "http://user@127.0.0.1",
        "http://127.0.0.1:8765/prefix",
        "http://127.0.0.1:8765?x=1",
        "http://127.0.0.1:8765#frag",
        "http://127.0.0.1:99999",
        "",
        "javascript:alert(1)",
    ],
)
def test_refuses_base_urls_that_are_more_than_an_origin(bad):
    with pytest.raises(InvalidBaseUrl):
        normalize_base_url(bad)


def test_base_url_forms_accepted():
    assert normalize_base_url("HTTPS://Proxy.Example.com") == "https://proxy.example.com"
    assert normalize_base_url("http://[::1]:8765") == "http://[::1]:8765"


@pytest.mark.parametrize(
    ("script", "deploy"),
    [("customscript_x&deploy=evil", "d"), ("s", "../x"), ("s", "a b"), ("", "d")],
)
def test_restlet_ids_are_validated(script, deploy):
    with pytest.raises(ConfigurationError):
        AccountUrls("1234567").restlet_url(script, deploy)


@pytest.mark.parametrize(("record_type", "record_id"), [("a/b", 1), ("x", "../1"), ("x", "1?a")])
def test_record_paths_are_validated(record_type, record_id):
    with pytest.raises(ConfigurationError):
        AccountUrls("1234567").record_url(record_type, record_id)


def test_owns_only_its_own_origins():
    urls = AccountUrls("1234567_SB1")
    assert urls.owns(urls.token_url)
    assert urls.owns(urls.restlet_url("customscript_a", "customdeploy_a"))
    assert not urls.owns("https://7654321.suitetalk.api.netsuite.com/services/rest/record/v1")
    assert not urls.owns("https://evil.example/services/rest/record/v1")
    assert not urls.owns("https://x@1234567-sb1.suitetalk.api.netsuite.com/")
    overridden = AccountUrls("1234567_SB1", "http://127.0.0.1:8765")
    assert overridden.owns("http://127.0.0.1:8765/services/rest/record/v1/location")
    assert not overridden.owns(urls.record_base)
