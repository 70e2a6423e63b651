"""A metadata catalog's ``$ref``, whatever NetSuite's answer (or whoever answers) puts there.

The client follows a reference with the bearer token, so for any reference text it either
refuses with :class:`~netsuite.errors.MetadataReferenceRefusedError` or reads an entry of the
account's own catalog: its SuiteTalk host (or the operator's base URL), the catalog's path and
one plain entry name, read back by urllib and by urllib3 (the parser requests connects with).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import urlsplit

from hypothesis import event, given, settings
from hypothesis import strategies as st

from netsuite.accounts import METADATA_PATH, AccountUrls
from netsuite.errors import MetadataReferenceRefusedError
from netsuite.records import metadata_reference_url

from .strategies import any_text, nasty, plausible_account
from .test_accounts_urls import assert_goes_to, host_of

ENTRY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
SIMULATOR = "http://127.0.0.1:8765"

origins = st.sampled_from([
    "", "https://{host}", "http://{host}", "https://{host}:443", "//{host}", "https://{host}.",
    "https://user@{host}", "https://evil.example.com", "https://{host}.evil.example.com",
    "https://evil.example.com#{host}", SIMULATOR, "http://127.0.0.1:8766", "http://[::1",
    "file://", "javascript:",
])
paths = st.sampled_from(["", METADATA_PATH + "/", METADATA_PATH, "/services/rest/record/v1/",
                         "/services/rest/auth/oauth2/v1/token", "../", "./"])
references = st.one_of(
    any_text,
    st.builds(lambda o, p, s, t: o + p + s + t, origins, paths, nasty, any_text),
    st.builds(lambda o, p, t: o + p + t, origins, paths,
              st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,30}\Z")),
)


@settings(max_examples=400)
@given(plausible_account, st.booleans(), references)
def test_a_reference_is_refused_or_stays_in_the_accounts_catalog(account, simulated, ref):
    try:
        urls = AccountUrls(account, SIMULATOR if simulated else None)
    except ValueError:
        return
    client = SimpleNamespace(urls=urls)
    ref = ref.replace("{host}", host_of(urls.account_id))
    base = urls.metadata_url("salesOrder")
    try:
        url = metadata_reference_url(client, ref, base)
    except MetadataReferenceRefusedError as exc:
        event("refused")
        assert exc.message and exc.hint
        return
    event("followed")
    assert_goes_to(url, urlsplit(urls.suitetalk_origin).netloc)
    parts = urlsplit(url)
    assert parts.path.startswith(METADATA_PATH + "/")
    assert ENTRY.fullmatch(parts.path.removeprefix(METADATA_PATH + "/"))
    assert not parts.query and not parts.fragment
