"""What NetSuite's API modules need from a client, so they never import the client.

:mod:`netsuite.records`, :mod:`netsuite.restlet` and :mod:`netsuite.rotation` each describe one
NetSuite API (the REST record API and SuiteQL, the Webhook Manager RESTlet, the certificate
rotation endpoint). :class:`~netsuite.client.NetSuiteClient` builds them and hands itself over;
they see it only through :class:`NetSuiteAPI`, so the imports point one way (client -> API
modules -> this protocol) and no module of the package imports back into the client, not even
for a type annotation (``lint-imports`` checks it). A test or another client can hand them
anything with the same shape.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

from .accounts import AccountUrls
from .auth import AccessToken, Credentials


class NetSuiteAPI(Protocol):
    """The authenticated calls and the account's addresses an API module works with."""

    urls: AccountUrls
    credentials: Credentials

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
        renew_on_401: bool = True,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """One authenticated call; a typed :class:`~netsuite.errors.NetSuiteError` for any
        answer that is not a 2xx. ``idempotent`` says whether repeating it after an uncertain
        failure is harmless (default: every method but POST)."""
        ...

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, answering the decoded JSON body (``None`` for an empty one)."""
        ...

    def fetch_token(self, force: bool = False) -> AccessToken:
        """A valid access token (cached unless close to expiry or ``force``)."""
        ...
