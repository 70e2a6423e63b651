"""Fixtures for the netsuite package: nothing here needs Django.

Keys are generated once per session (RSA 3072 takes a moment); each test gets its own simulator
on a free loopback port, so counters and state never leak between tests.
"""

from __future__ import annotations

import contextlib
import socket

import pytest

from netsuite.auth import Credentials
from netsuite.certificates import generate_key_and_certificate
from netsuite.client import NetSuiteClient
from netsuite.simulator import Simulator, SimulatorAdmin

from .helpers import ACCOUNT, FAST_RETRY


@pytest.fixture(scope="session")
def ec_pair() -> tuple[str, str]:
    return generate_key_and_certificate("ec-p256")


@pytest.fixture(scope="session")
def ec384_pair() -> tuple[str, str]:
    return generate_key_and_certificate("ec-p384")


@pytest.fixture(scope="session")
def rsa_pair() -> tuple[str, str]:
    return generate_key_and_certificate("rsa3072")


@pytest.fixture
def sim():
    with Simulator() as simulator:
        yield simulator


@pytest.fixture
def admin(sim):
    """The running simulator's admin API over HTTP, as another process would drive it."""
    with SimulatorAdmin(sim.base_url) as client:
        yield client


@pytest.fixture
def creds(sim, ec_pair) -> Credentials:
    return sim.provision(ACCOUNT, key_pair=ec_pair)


@pytest.fixture
def make_client(sim):
    clients: list[NetSuiteClient] = []

    def factory(credentials: Credentials, **kwargs) -> NetSuiteClient:
        kwargs.setdefault("base_url", sim.base_url)
        kwargs.setdefault("retry", FAST_RETRY)
        client = NetSuiteClient(credentials, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client, creds) -> NetSuiteClient:
    return make_client(creds)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
