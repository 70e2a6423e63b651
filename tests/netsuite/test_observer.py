"""The transport's observer: one report per logical call, over real HTTP to the simulator,
with the kind read from the path, the retries and the answers refused for concurrency, and
nothing of the URL, headers or body."""

from __future__ import annotations

import pytest

from netsuite.errors import NetSuiteUnavailableError
from netsuite.transport import REQUEST_KINDS, CallReport, Transport, request_kind

from .helpers import FAST_RETRY


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://1234567.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token", "token"),
        ("http://sim:1/services/rest/record/v1/customer/7", "record"),
        ("http://sim:1/services/rest/record/v1/metadata-catalog/customer", "metadata"),
        ("http://sim:1/services/rest/query/v1/suiteql?limit=1000", "suiteql"),
        ("http://sim:1/services/rest/system/v1/governanceLimits", "governance"),
        ("http://sim:1/app/site/hosting/restlet.nl?script=1&deploy=1", "restlet"),
        ("http://sim:1/services/rest/auth/oauth2/v1/clients/abc/certificates", "certificates"),
        ("http://sim:1/services/rest/record/v1x", "other"),
        ("http://sim:1/elsewhere", "other"),
    ],
)
def test_the_kind_comes_from_the_path_alone(url, kind):
    assert request_kind(url) == kind
    assert kind in REQUEST_KINDS


def test_each_call_is_reported_once_with_its_kind_status_and_retries(sim, make_client, creds):
    seen: list[CallReport] = []
    client = make_client(creds, observer=seen.append)
    sim.add_fault(kind="record", method="GET", status=429, count=2)
    list(client.records.list_ids("location"))
    kinds = [report.kind for report in seen]
    assert kinds[0] == "token" and seen[0].status == 200 and seen[0].retries == 0
    assert "record" in kinds
    record = next(report for report in seen if report.kind == "record")
    assert (record.method, record.status, record.error) == ("GET", 200, "")
    assert record.retries == 2 and record.throttled == 2
    assert record.seconds > 0
    # Nothing but these fields: no URL, header or body can reach an observer.
    assert set(vars(record)) == {
        "kind", "method", "status", "error", "seconds", "retries", "throttled"
    }


def test_a_call_that_raises_is_reported_with_the_errors_class_name(closed_port):
    seen: list[CallReport] = []
    transport = Transport(retry=FAST_RETRY, observer=seen.append)
    with pytest.raises(NetSuiteUnavailableError):
        transport.send("GET", f"http://127.0.0.1:{closed_port}/services/rest/record/v1/x")
    (report,) = seen
    assert (report.kind, report.status, report.error) == (
        "record", None, "NetSuiteUnavailableError"
    )
    assert report.retries == FAST_RETRY.max_attempts - 1


def test_an_observer_that_fails_never_fails_the_call(sim, make_client, creds):
    def broken(report):
        raise RuntimeError("the metrics are broken")

    client = make_client(creds, observer=broken)
    assert client.fetch_token(force=True).value
