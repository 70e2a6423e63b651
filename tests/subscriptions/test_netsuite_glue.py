"""The Django-backed pieces handed to the netsuite client: token cache, cap, throttle, client."""

import os
import signal
import threading
import time

import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from netsuite.errors import ConcurrencyLimitError
from subscriptions.integration import account_scope, client_for
from subscriptions.models import ThrottleLease, ThrottleWindow
from subscriptions.problems import Problem
from subscriptions.throttling import (
    CacheStore,
    ConcurrencyLimiter,
    DatabaseStore,
    LocalWaitError,
    RateLimiter,
    RedisStore,
    store_for,
    store_name,
    wait_until_busy,
)
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


@pytest.fixture(params=["cache", "cache-redis", "database", "redis"])
def store(request, transactional_db):
    """Each store the limiters can count in: the cache framework (local memory, Redis), the
    database and Redis's leases. The database store's rows are written by the test's own
    threads, each on its own connection, so the test cannot sit inside one transaction."""
    if request.param == "database":
        return DatabaseStore()
    if request.param == "cache":
        return CacheStore("default")
    alias = request.getfixturevalue("alias_redis")
    return CacheStore(alias) if request.param == "cache-redis" else RedisStore(alias)


@pytest.fixture
def alias_redis(settings):
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


def test_the_concurrency_cap_holds_across_threads(store):
    limiter = ConcurrencyLimiter("t-slots", 2, hold_seconds=10, wait_seconds=5, store=store)
    inside = []
    peak = []
    lock = threading.Lock()

    def work():
        try:
            with limiter.slot():
                with lock:
                    inside.append(1)
                    peak.append(len(inside))
                time.sleep(0.02)
                with lock:
                    inside.pop()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(peak) == 8  # every caller got in, one after another
    assert max(peak) == 2
    assert limiter.in_flight() == 0  # every slot was given back


def test_a_busy_cap_gives_up_after_its_wait_with_a_message(store):
    limiter = ConcurrencyLimiter("t-busy", 1, hold_seconds=10, wait_seconds=0.05, store=store)
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
    assert limiter.in_flight() == 0


def test_a_slot_taken_over_after_expiry_is_not_released_by_its_old_owner(store):
    # The cache framework counts expiry in whole seconds; the lease stores in milliseconds.
    hold = 1 if store.name == "cache" else 0.2
    old, _ = store.take("t-own", 1, hold, "old-owner")
    assert old is not None
    assert store.take("t-own", 1, 10, "new-owner")[0] is None  # held: nobody else gets in
    time.sleep(hold + 0.1)
    new, _ = store.take("t-own", 1, 10, "new-owner")
    assert new is not None  # the lease ran out: the slot was free again
    assert store.release("t-own", old, "old-owner") is False
    assert store.held("t-own", 1) == 1  # the new owner's slot stayed taken
    assert store.release("t-own", new, "new-owner") is True
    assert store.held("t-own", 1) == 0


def test_a_lowered_limit_counts_the_slots_still_held_above_it(store):
    big = ConcurrencyLimiter("t-low", 3, hold_seconds=10, wait_seconds=0.05, store=store)
    small = ConcurrencyLimiter("t-low", 2, hold_seconds=10, wait_seconds=0.05, store=store)
    if store.name == "cache":
        pytest.skip("the cache store counts only the slot keys below its own limit")
    held = [big.take(f"owner-{i}") for i in range(3)]
    with pytest.raises(LocalWaitError):
        small.take("late")
    store.release("t-low", held[0], "owner-0")
    store.release("t-low", held[1], "owner-1")
    small.take("late")  # one held above the new limit plus this one: two
    assert small.in_flight() == 2


def test_the_cache_store_gives_a_slot_back_on_redis_in_one_step(store):
    if store.name != "cache":
        pytest.skip("the cache store's own release")
    # On Redis the compare-and-delete runs on the server (a Lua script).
    assert (store._redis is not None) == isinstance(store.cache, RedisCache)
    key, _ = store.take("t-rel", 1, 10, "owner-a")
    assert store.release("t-rel", key, "owner-b") is False  # not ours: left alone
    assert store.held("t-rel", 1) == 1
    assert store.release("t-rel", key, "owner-a") is True
    assert store.held("t-rel", 1) == 0


def test_the_throttle_allows_its_calls_per_window_then_refuses_with_a_message(store):
    limiter = RateLimiter("t-rate", 3, 86400, wait_seconds=0.05, store=store)
    for _ in range(3):
        limiter.wait()
    with pytest.raises(LocalWaitError) as caught:
        limiter.wait()
    assert caught.value.code == "LOCAL_API_THROTTLE"
    assert "3 calls per 86400 seconds" in caught.value.message
    # Without waiting, the refusal says how long until the window ends.
    pause = limiter.try_take()
    assert 0 < pause <= 86400
    # Another scope has its own window.
    assert RateLimiter("t-rate-2", 3, 86400, wait_seconds=0, store=store).try_take() is None


def test_units_are_taken_all_at_once_or_none_of_them(store):
    # The inbound throttle counts a body's notifications: a batch that does not fit is
    # refused whole and costs nothing, so a smaller one still fits.
    limiter = RateLimiter("t-units", 5, 86400, wait_seconds=0, store=store)
    assert limiter.try_take(3) is None
    assert 0 < limiter.try_take(3) <= 86400
    assert limiter.try_take(2) is None
    assert limiter.try_take(1) > 0
    fresh = RateLimiter("t-units-2", 5, 86400, wait_seconds=0, store=store)
    assert fresh.try_take(5) is None  # a new window started by a whole batch
    with pytest.raises(ValueError, match="never fit"):
        fresh.try_take(6)


def test_a_full_window_opens_again_when_it_ends(store):
    limiter = RateLimiter("t-next", 2, 1, wait_seconds=3, store=store)
    limiter.wait()
    limiter.wait()
    # The third waits for the next one-second window (it would raise if none opened) and
    # starts it: one more fits, then the new window is full too.
    limiter.wait()
    assert limiter.try_take() is None
    assert limiter.try_take() > 0


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


def test_the_store_follows_the_cache_unless_a_setting_names_one(settings):
    settings.NETSUITE_THROTTLE_STORE = "auto"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert store_name() == "database"  # make run: shared by its web process and worker
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    assert store_name() == "redis"
    settings.NETSUITE_THROTTLE_STORE = "cache"
    assert store_name() == "cache"
    assert isinstance(store_for(), CacheStore)
    settings.NETSUITE_THROTTLE_STORE = "memcached"
    with pytest.raises(ImproperlyConfigured, match="NETSUITE_THROTTLE_STORE"):
        store_name()


def test_redis_named_without_a_redis_cache_is_refused(settings):
    settings.NETSUITE_THROTTLE_STORE = "redis"
    with pytest.raises(ImproperlyConfigured, match="not Redis"):
        store_for()


def test_a_lease_taken_inside_a_transaction_is_reported(db, caplog):
    store = DatabaseStore()
    with transaction.atomic():
        token, _ = store.take("t-inside", 1, 10, "owner")
    assert token is not None
    assert "inside a database transaction" in caplog.text
    caplog.clear()
    assert store.release("t-inside", token, "owner") is True
    assert "inside a database transaction" not in caplog.text  # the test's own one is fine


def test_the_database_store_takes_releases_and_counts_in_one_statement_each(transactional_db):
    # Every NetSuite call takes a slot, gives it back and counts against the rate window: in
    # autocommit, with no transaction of their own around them, these are single round trips.
    store = DatabaseStore()
    slots = ConcurrencyLimiter("t-trips", 3, hold_seconds=60, wait_seconds=1, store=store)
    rate = RateLimiter("t-trips", 10, 3600, wait_seconds=1, store=store)
    connection = connections["default"]
    with CaptureQueriesContext(connection) as queries:
        with slots.slot():
            pass
        rate.wait()
        rate.wait()
    statements = [q["sql"].split()[0].upper() for q in queries]
    assert statements == ["SELECT", "INSERT", "DELETE", "INSERT", "INSERT"], statements
    assert connection.get_autocommit() and not connection.in_atomic_block
    assert slots.in_flight() == 0
    assert ThrottleWindow.objects.get(scope="t-trips").calls == 2


def test_a_window_is_moved_on_once_and_one_from_a_clock_ahead_is_left_alone(transactional_db):
    store, per = DatabaseStore(), 3600
    now = int(time.time() // per)
    # A window left from an hour ago is restarted by the first count of this one.
    ThrottleWindow.objects.create(scope="t-old", window_index=now - 1, calls=10)
    assert store.count("t-old", 10, per, units=4) is None
    assert ThrottleWindow.objects.values_list("window_index", "calls").get(scope="t-old") == (
        now,
        4,
    )
    # A machine whose clock runs ahead started the next window: this one waits for its own
    # window to end and counts nothing.
    ThrottleWindow.objects.create(scope="t-ahead", window_index=now + 1, calls=1)
    assert 0 < store.count("t-ahead", 10, per) <= per
    assert ThrottleWindow.objects.values_list("window_index", "calls").get(scope="t-ahead") == (
        now + 1,
        1,
    )


def test_the_throttle_tables_need_no_disk_on_postgresql(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("UNLOGGED tables are PostgreSQL's (DATABASE_URL=postgres://...)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpersistence FROM pg_class WHERE relname = ANY(%s)",
            [[ThrottleLease._meta.db_table, ThrottleWindow._meta.db_table]],
        )
        assert dict(cursor.fetchall()) == {
            ThrottleLease._meta.db_table: "u",
            ThrottleWindow._meta.db_table: "u",
        }


def test_the_redis_store_loads_its_scripts_again_and_outlives_a_dropped_connection(alias_redis):
    store = RedisStore(alias_redis)
    limiter = RateLimiter("t-noscript", 5, 3600, wait_seconds=0, store=store)
    assert limiter.try_take() is None
    server = redis.Redis.from_url(REDIS_URL)
    # A restarted (or another) server knows no scripts: NOSCRIPT, loaded again, counted once.
    server.script_flush()
    assert limiter.try_take() is None
    # The server drops every connection but this test's own (the store's among them): the
    # next call reconnects.
    assert server.client_kill_filter(_type="normal", skipme=True) >= 1
    assert limiter.try_take() is None
    token, _ = store.take("t-noscript", 1, 10, "owner")
    assert token is not None and store.release("t-noscript", token, "owner") is True
    # Three counted, each once: two more fit the window of five, a sixth does not.
    assert limiter.try_take(2) is None
    assert limiter.try_take() > 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_makes_its_own_redis_connections(alias_redis):
    # The store keeps its connections itself (not through the pool, which checks the
    # process id): a child must not talk on its parent's socket, where the two would read
    # each other's answers.
    store = RedisStore(alias_redis)
    assert store.count("t-fork", 100, 3600) is None
    # Held here, so the child cannot free them and hand a new connection the same address.
    parents = list(store._connections._idle)
    assert parents
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and leave without running any cleanup of the parent's
        try:
            connection = store._connections.get()
            ok = all(connection is not c for c in parents)
            ok = ok and store.count("t-fork", 100, 3600) is None
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    # Bounded: a child forked from a process with threads could hang on a lock one of them
    # held; that fails the test instead of stopping the run.
    deadline = time.monotonic() + 30
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked process did not finish")
        time.sleep(0.01)
    assert os.read(read, 1) == b"1"
    assert list(store._connections._idle) == parents
    # Both counted once each, on the same window.
    assert store.count("t-fork", 3, 3600) is None
    assert store.count("t-fork", 3, 3600) > 0


def test_waiting_until_busy_ends_once_this_process_holds_every_slot_asked_for():
    # What initialization's storing thread waits on at a real page time: every slot calling
    # again. A slot given back counts down, and the wait is bounded.
    limiter = ConcurrencyLimiter("t-busy", 2, hold_seconds=10, wait_seconds=1, store=CacheStore())
    assert wait_until_busy("t-busy", 1, timeout=0.01) is False
    first = limiter.slot()
    first.__enter__()
    assert wait_until_busy("t-busy", 1, timeout=0.01) is True
    ended = []
    waiter = threading.Thread(target=lambda: ended.append(wait_until_busy("t-busy", 2, timeout=60)))
    waiter.start()
    with limiter.slot():
        waiter.join(60)
    assert ended == [True]
    first.__exit__(None, None, None)
    assert wait_until_busy("t-busy", 1, timeout=0.01) is False
