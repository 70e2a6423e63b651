"""Shared test helpers for the netsuite package (no Django)."""

from __future__ import annotations

from netsuite.auth import Credentials
from netsuite.simulator import Simulator
from netsuite.transport import RetryPolicy

ACCOUNT = "1234567_SB1"
FAST_RETRY = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, max_total=5.0)


def provision(
    simulator: Simulator,
    pair: tuple[str, str],
    account_id: str = ACCOUNT,
    *,
    scopes: tuple[str, ...] = ("restlets", "rest_webservices"),
    with_certificate: bool = False,
) -> Credentials:
    """An integration and a registered certificate in the simulator, as credentials."""
    key_pem, cert_pem = pair
    consumer_id = simulator.create_integration(account_id)
    certificate_id = simulator.register_certificate(account_id, consumer_id, cert_pem)
    return Credentials(
        account_id=account_id,
        consumer_id=consumer_id,
        certificate_id=certificate_id,
        private_key_pem=key_pem,
        scopes=scopes,
        certificate_pem=cert_pem if with_certificate else None,
    )
