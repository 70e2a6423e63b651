"""Fixtures for the NetSuite actions: an in-process simulator the dashboard talks to over HTTP.

``netsuite_sim`` starts a fresh simulator on a free loopback port for each test, points
``NETSUITE_BASE_URL`` at it in simulator mode (``NETSUITE_SIMULATOR``) with short timeouts and
few, quick retries (so fault tests stay fast), and clears the cache that holds tokens, slots
and throttle counters. Its ``subscription``
helper creates a subscription whose integration and certificate are registered there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from netsuite import certificates as nscert
from netsuite.simulator import Simulator
from subscriptions.actors import SYSTEM
from tests import factories

ACCOUNT = "1234567"


@pytest.fixture(scope="session")
def ec_pair():
    """One EC P-256 pair for the session: RSA 3072 generation is slow, EC is instant."""
    return nscert.generate_key_and_certificate("ec-p256", days=365)


@dataclass
class SimHelper:
    sim: Simulator

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    def stats(self) -> dict:
        return self.sim.stats()

    def flags(self, account: str = ACCOUNT) -> dict:
        return self.sim.webhook_flags(account)

    def record(self, record_type: str, record_id: str, account: str = ACCOUNT) -> dict:
        with self.sim.state.lock:
            return dict(self.sim.state.accounts[account].records[record_type][record_id])

    def register(self, consumer_id: str, certificate_pem: str, account: str = ACCOUNT) -> str:
        return self.sim.register_certificate(account, consumer_id, certificate_pem)

    def subscription(
        self,
        name: str = "Acme",
        *,
        pair: tuple[str, str] | None = None,
        register: bool = True,
        certificate_row: bool = True,
        account: str = ACCOUNT,
        **fields,
    ):
        """A subscription whose key is registered in the simulator (unless ``register=False``).

        ``certificate_row`` adds the active Certificate row a certificate uploaded here has;
        without it the key looks typed into the form ("certificate not uploaded here").
        """
        key_pem, cert_pem = pair or nscert.generate_key_and_certificate("ec-p256")
        consumer_id = self.sim.create_integration(account)
        certificate_id = (
            self.register(consumer_id, cert_pem, account) if register else "not-registered-anywhere"
        )
        subscription, _key = factories.make_subscription(
            SYSTEM,
            **{
                "name": name,
                "inventory_search_days": 0,
                "consumer_id": consumer_id,
                "account_id": account,
                "certificate_id": certificate_id,
                "api_url": factories.api_url(account),
                # Well above what one test calls, so the local throttle stays out of tests that
                # are not about it.
                "api_throttle_limit": 1000,
                "concurrent_connections": 3,
                "private_key": key_pem,
                **fields,
            },
        )
        if certificate_row:
            factories.active_certificate(subscription, cert_pem, certificate_id)
        subscription.refresh_from_db()
        subscription.test_key_pem = key_pem
        subscription.test_certificate_pem = cert_pem
        return subscription


@pytest.fixture
def netsuite_sim(settings, db):
    simulator = Simulator(port=0).start()
    factories.point_at_simulator(
        settings,
        simulator,
        NETSUITE_TIMEOUT_CONNECT=1.0,
        NETSUITE_TIMEOUT_READ=1.0,
        NETSUITE_RETRY_MAX_TOTAL=0.5,
        NETSUITE_SLOT_WAIT=2.0,
        NETSUITE_THROTTLE_WAIT=0.5,
        # The caps on the cache: the test's wrapping transaction holds the database's locks
        # (SQLite's write lock, PostgreSQL's row locks on leases it took), which the database
        # store's statements from a service's worker threads would wait on for ever. The
        # shared stores are tested across real processes in test_throttling*.py.
        NETSUITE_THROTTLE_STORE="cache",
    )
    cache.clear()
    try:
        yield SimHelper(simulator)
    finally:
        simulator.stop()
        cache.clear()


@pytest.fixture
def htmx_headers():
    return {"HTTP_HX_REQUEST": "true"}
