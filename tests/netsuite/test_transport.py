"""Retries, timeouts, the concurrency cap and the rate limit, against the simulator."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from netsuite.auth import Credentials
from netsuite.client import NetSuiteClient
from netsuite.errors import (
    ConcurrencyLimitError,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
)
from netsuite.transport import (
    ConcurrencyLimiter,
    LocalConcurrencyLimiter,
    LocalRateLimiter,
    RateLimiter,
    RetryPolicy,
)

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"


def test_retry_policy_has_full_jitter_and_a_ceiling():
    policy = RetryPolicy(base_delay=0.2, max_delay=5.0)
    rng = random.Random(7)
    for retry in range(1, 12):
        ceiling = min(5.0, 0.2 * 2 ** (retry - 1))
        samples = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # spread over the whole range, not a fixed step
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_retries_absorb_server_errors(sim, client):
    client.fetch_token()
    sim.add_fault(kind="record", status=503, count=2)
    assert client.records.get(AUTH_DETAILS, 1)["name"] == "Production"
    assert client.stats.retries == 2
    assert sim.stats()["faults_served"] == 2


def test_dropped_connections_are_retried(sim, client):
    client.fetch_token()
    sim.add_fault(kind="record", action="disconnect", count=2)
    assert client.records.get(AUTH_DETAILS, 2)["name"] == "Sandbox"
    assert client.stats.connection_errors == 2


@pytest.mark.parametrize(
    ("status", "error_class", "hint_words"),
    [(502, NetSuiteUnavailableError, "status.netsuite.com"),
     (429, ConcurrencyLimitError, "Concurrent Connections")],
)
def test_retries_stop_after_max_attempts(sim, make_client, creds, status, error_class, hint_words):
    client = make_client(creds, retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    client.fetch_token()
    sim.add_fault(kind="record", status=status, count=100)
    with pytest.raises(error_class) as info:
        client.records.get(AUTH_DETAILS, 1)
    assert info.value.status == status
    assert hint_words in info.value.hint
    assert sim.stats()["faults_served"] == 3


def test_retries_stop_within_the_total_time(sim, make_client, creds):
    policy = RetryPolicy(max_attempts=1000, base_delay=0.05, max_delay=0.1, max_total=0.5)
    client = make_client(creds, retry=policy)
    client.fetch_token()
    sim.add_fault(kind="record", status=503, count=10_000)
    started = time.monotonic()
    with pytest.raises(NetSuiteUnavailableError):
        client.records.get(AUTH_DETAILS, 1)
    assert time.monotonic() - started < 1.5


def test_client_errors_are_not_retried(sim, client):
    from netsuite.errors import NotFoundError

    with pytest.raises(NotFoundError):
        client.records.get(AUTH_DETAILS, 99)
    assert client.stats.retries == 0


def test_read_timeout_is_a_timeout_error_and_not_retried(sim, make_client, creds):
    client = make_client(creds, timeout=(1.0, 0.3))
    client.fetch_token()
    sim.add_fault(kind="record", delay=1.0, count=1)
    started = time.monotonic()
    with pytest.raises(NetSuiteTimeoutError) as info:
        client.records.get(AUTH_DETAILS, 1)
    assert time.monotonic() - started < 0.9
    assert "0.3 seconds" in info.value.message
    assert sim.stats()["calls"]["record"] == 1


def test_connection_refused_is_unavailable(closed_port, creds):
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    client = NetSuiteClient(creds, base_url=f"http://127.0.0.1:{closed_port}", retry=policy)
    with pytest.raises(NetSuiteUnavailableError) as info:
        client.fetch_token()
    assert "could not be reached" in info.value.message
    assert client.stats.connection_errors == 3
    client.close()


def run_parallel(client: NetSuiteClient, callers: int, calls_each: int) -> list[str]:
    def work(_):
        return [client.records.get(AUTH_DETAILS, 3)["name"] for _ in range(calls_each)]

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return [name for names in pool.map(work, range(callers)) for name in names]


def test_cap_equal_to_the_limit_never_draws_a_429(sim, make_client, creds):
    sim.configure(latency=0.02)
    sim.set_governance(creds.account_id, account_limit=2)
    client = make_client(creds, limiter=LocalConcurrencyLimiter(2))
    client.fetch_token()
    names = run_parallel(client, callers=20, calls_each=3)
    assert names == ["Beta"] * 60
    stats = sim.stats()
    assert stats["rejected_429"] == 0
    assert stats["max_in_flight"] == 2
    assert client.stats.retries == 0


def test_cap_above_the_limit_succeeds_through_retries(sim, make_client, creds):
    sim.configure(latency=0.02)
    sim.set_governance(creds.account_id, account_limit=2)
    generous = RetryPolicy(max_attempts=40, base_delay=0.02, max_delay=0.2, max_total=30)
    client = make_client(creds, limiter=LocalConcurrencyLimiter(10), retry=generous)
    client.fetch_token()
    names = run_parallel(client, callers=20, calls_each=3)
    assert names == ["Beta"] * 60
    stats = sim.stats()
    assert stats["rejected_429"] > 0
    assert stats["max_in_flight"] == 2
    assert client.stats.retries == stats["rejected_429"]


def test_restlet_limit_errors_are_retried(sim, make_client, creds):
    sim.configure(latency=0.02)
    sim.set_governance(creds.account_id, account_limit=1)
    generous = RetryPolicy(max_attempts=40, base_delay=0.02, max_delay=0.2, max_total=30)
    client = make_client(creds, retry=generous)
    client.fetch_token()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: len(client.webhooks.list_deployments()), range(12)))
    assert results == [8] * 12
    assert sim.stats()["restlet_limit_errors"] > 0


def test_restlet_limit_outlasting_the_retries_is_a_concurrency_error(sim, make_client, creds):
    client = make_client(creds, retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    client.fetch_token()
    sim.add_fault(
        kind="restlet", status=400, count=5,
        body={"error": {"code": "SSS_REQUEST_LIMIT_EXCEEDED", "message": "limit"}},
    )
    with pytest.raises(ConcurrencyLimitError) as info:
        client.webhooks.list_deployments()
    assert info.value.code == "SSS_REQUEST_LIMIT_EXCEEDED"
    assert sim.stats()["faults_served"] == 2


def test_integration_specific_limit_is_enforced(sim, make_client, creds):
    sim.configure(latency=0.02)
    sim.set_governance(creds.account_id, integration_limits={creds.consumer_id: 1})
    client = make_client(creds, limiter=LocalConcurrencyLimiter(1))
    client.fetch_token()
    assert run_parallel(client, callers=5, calls_each=2) == ["Beta"] * 10
    assert sim.stats()["max_in_flight"] == 1
    assert client.records.governance_limits()["integrationLimitType"] == "integrationSpecific"


def test_local_concurrency_limiter_caps_in_flight():
    limiter = LocalConcurrencyLimiter(3)
    assert isinstance(limiter, ConcurrencyLimiter)
    lock = threading.Lock()
    current = peak = 0

    def work(_):
        nonlocal current, peak
        with limiter.slot():
            with lock:
                current += 1
                peak = max(peak, current)
            time.sleep(0.01)
            with lock:
                current -= 1

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(work, range(30)))
    assert peak == 3
    with pytest.raises(ValueError):
        LocalConcurrencyLimiter(0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_local_rate_limiter_allows_n_calls_per_window():
    clock = FakeClock()
    limiter = LocalRateLimiter(3, 10.0, clock=clock.time, sleep=clock.sleep)
    assert isinstance(limiter, RateLimiter)
    starts = []
    for _ in range(7):
        limiter.wait()
        starts.append(clock.now)
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert starts[3:6] == [10.0, 10.0, 10.0]
    assert starts[6] == 20.0
    for i in range(len(starts)):
        window = [s for s in starts if starts[i] <= s < starts[i] + 10.0]
        assert len(window) <= 3


def test_rate_limiter_paces_real_calls(sim, make_client, creds):
    client = make_client(creds, rate_limiter=LocalRateLimiter(5, 0.5))
    client.fetch_token()
    started = time.monotonic()
    for _ in range(11):
        client.records.get(AUTH_DETAILS, 1)
    # 11 calls at 5 per half second need at least two full windows.
    assert time.monotonic() - started >= 0.95


def test_only_the_accounts_own_hosts_get_credentials(sim, client):
    from netsuite.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="not this account's"):
        client.request("GET", "http://127.0.0.2:1/services/rest/record/v1/location")
    assert sim.stats()["requests"] == 0


def test_hostile_account_ids_are_refused_before_any_request(sim, ec_pair):
    from netsuite.accounts import InvalidAccountId

    for hostile in ("x.evil.com#", "1234/../", "a@b"):
        creds = Credentials(hostile, "consumer", "kid", ec_pair[0])
        with pytest.raises(InvalidAccountId):
            NetSuiteClient(creds, base_url=sim.base_url)
        with pytest.raises(InvalidAccountId):
            NetSuiteClient(creds)
    assert sim.stats()["requests"] == 0
    assert sim.stats()["token_requests"] == 0


def test_sandbox_ids_produce_sandbox_hosts(ec_pair):
    creds = Credentials("1234567_sb1", "consumer", "kid", ec_pair[0])
    client = NetSuiteClient(creds)
    assert client.urls.token_url.startswith("https://1234567-sb1.suitetalk.api.netsuite.com/")
    assert client.webhooks.url.startswith(
        "https://1234567-sb1.restlets.api.netsuite.com/app/site/hosting/restlet.nl?"
    )
    client.close()


@pytest.mark.parametrize(("calls", "per_seconds"), [(0, 1.0), (1, 0)])
def test_rate_limiter_arguments(calls, per_seconds):
    with pytest.raises(ValueError):
        LocalRateLimiter(calls, per_seconds)
