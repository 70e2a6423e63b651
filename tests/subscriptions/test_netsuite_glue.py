"""The Django-backed pieces handed to the netsuite client: token cache, cap, throttle, client."""

import os
import threading
import time

import pytest
import redis
from django.core.cache import cache, caches

from netsuite.errors import ConcurrencyLimitError
from subscriptions.integration import DjangoTokenCache, account_scope, client_for
from subscriptions.problems import Problem
from subscriptions.throttling import CacheConcurrencyLimiter, CacheRateLimiter, LocalWaitError
from tests.factories import unsaved_subscription

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["default", "redis"])
def alias(request, settings):
    """The limiters on the local-memory cache and on Redis, as a deployment shares them."""
    if request.param == "default":
        yield "default"
        return
    if not _redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI needs it for this test.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (start redis-server to run this)")
    settings.CACHES = {
        **settings.CACHES,
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{os.getpid()}",
        },
    }
    caches["redis"].clear()
    yield "redis"
    caches["redis"].clear()


def test_the_token_cache_keeps_tokens_encrypted_and_forgets_expired_ones():
    tokens = DjangoTokenCache()
    tokens.set("netsuite-token:abc", "bearer-token-value-123456", time.time() + 600)
    value, expires_at = tokens.get("netsuite-token:abc")
    assert value == "bearer-token-value-123456"
    assert expires_at > time.time()
    # What the cache backend holds is ciphertext: a shared cache is not a secret store.
    raw = cache.get("netsuite-token:abc")
    assert "bearer-token-value-123456" not in repr(raw)
    tokens.set("netsuite-token:old", "stale-token-value-123456", time.time() - 1)
    assert tokens.get("netsuite-token:old") is None
    tokens.delete("netsuite-token:abc")
    assert tokens.get("netsuite-token:abc") is None


def test_the_token_cache_ignores_what_it_cannot_read():
    cache.set("netsuite-token:junk", ("enc:fernet:deadbeef:not-a-token", time.time() + 60))
    assert DjangoTokenCache().get("netsuite-token:junk") is None
    cache.set("netsuite-token:odd", "not a tuple")
    assert DjangoTokenCache().get("netsuite-token:odd") is None


def test_the_concurrency_cap_holds_across_threads(alias):
    limiter = CacheConcurrencyLimiter("t-slots", 2, hold_seconds=10, wait_seconds=5, alias=alias)
    inside = []
    peak = []
    lock = threading.Lock()

    def work():
        with limiter.slot():
            with lock:
                inside.append(1)
                peak.append(len(inside))
            time.sleep(0.02)
            with lock:
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(peak) == 2
    assert limiter.in_flight() == 0  # every slot was given back


def test_a_busy_cap_gives_up_after_its_wait_with_a_message(alias):
    limiter = CacheConcurrencyLimiter(
        "t-busy", 1, hold_seconds=10, wait_seconds=0.05, alias=alias
    )
    with limiter.slot():
        with pytest.raises(LocalWaitError) as caught:
            with limiter.slot():
                pass
    assert isinstance(caught.value, ConcurrencyLimitError)
    assert caught.value.code == "LOCAL_CONCURRENCY_WAIT"
    assert "Concurrent Connections" in caught.value.hint
    # Released after the failure: the slot can be taken again.
    with limiter.slot():
        assert limiter.in_flight() == 1


def test_a_slot_taken_over_after_expiry_is_not_released_by_its_old_owner(alias):
    limiter = CacheConcurrencyLimiter("t-own", 1, hold_seconds=10, wait_seconds=0.05, alias=alias)
    with limiter.slot():
        # Someone else holds the key now (ours expired meanwhile).
        caches[alias].set("t-own:0", 4242, 10)
    assert caches[alias].get("t-own:0") == 4242
    assert limiter.in_flight() == 1


def test_a_slot_is_released_by_its_owner_in_one_step(alias):
    limiter = CacheConcurrencyLimiter("t-rel", 1, hold_seconds=10, wait_seconds=0.05, alias=alias)
    # On Redis the compare-and-delete runs on the server (a Lua script).
    assert (limiter._redis is not None) == (alias == "redis")
    caches[alias].set("t-rel:0", 77, 10)
    assert limiter._release("t-rel:0", 78) is False  # not ours: left alone
    assert caches[alias].get("t-rel:0") == 77
    assert limiter._release("t-rel:0", 77) is True
    assert caches[alias].get("t-rel:0") is None


def test_the_throttle_allows_its_calls_per_window_then_refuses_with_a_message(alias):
    limiter = CacheRateLimiter("t-rate", 3, 3600, wait_seconds=0.05, alias=alias)
    for _ in range(3):
        limiter.wait()
    with pytest.raises(LocalWaitError) as caught:
        limiter.wait()
    assert caught.value.code == "LOCAL_API_THROTTLE"
    assert "3 calls per 3600 seconds" in caught.value.message


def test_accounts_share_one_pool_whatever_the_spelling():
    assert account_scope("1234567_sb1", None) == account_scope("1234567_SB1", None)
    assert account_scope("1234567", None) != account_scope("1234567", "http://127.0.0.1:1")


def test_client_for_goes_to_the_configured_base_url_only(netsuite_sim, ec_pair):
    subscription = netsuite_sim.subscription(pair=ec_pair)
    with client_for(subscription) as client:
        assert client.urls.base_url == netsuite_sim.base_url
        assert client.urls.token_url.startswith(netsuite_sim.base_url)
        assert client.transport.limiter.max_in_flight == subscription.concurrent_connections
        assert client.transport.rate_limiter.calls == subscription.api_throttle_limit


def test_without_a_base_url_the_client_targets_the_accounts_own_hosts(settings, ec_pair, db):
    settings.NETSUITE_BASE_URL = None
    subscription = unsaved_subscription(
        1,
        pk=1,
        account_id="1234567_SB1",
        private_key=ec_pair[0],
        concurrent_connections=2,
        api_throttle_limit=10,
        api_throttle_seconds=1,
    )
    with client_for(subscription) as client:
        assert client.urls.token_url == (
            "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
        )
        assert client.webhooks.url.startswith("https://1234567-sb1.restlets.api.netsuite.com/")


def test_error_text_carries_code_detail_and_hint():
    text = Problem.of(ConcurrencyLimitError(code="X1", detail="too many", status=429)).text()
    assert "[HTTP 429, X1]" in text and "NetSuite said: too many" in text
    assert "What to do:" in text
