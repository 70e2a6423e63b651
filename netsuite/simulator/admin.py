"""A client for the simulator's own admin API (``/_sim/...``) over HTTP.

In-process code calls :class:`~netsuite.simulator.Simulator`'s helper methods. A simulator in
another process (``python -m netsuite.simulator``, as ``make run`` starts it for the dashboard's
demo setup and its "register in simulator" action) can only be reached over HTTP, and each
caller used to spell those calls and their failures out by hand. :class:`SimulatorAdmin` does it
once, with two failures a caller can tell apart: :class:`SimulatorUnreachable` (nothing
answered: start the simulator) and :class:`SimulatorRefused` (it answered no, with its reason).

Like the NetSuite client it ignores proxy settings from the environment (the simulator listens
on loopback; a proxy would carry the calls elsewhere) and never follows a redirect (only the
simulator itself is meant to receive a certificate or an integration's details).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import requests

from ..accounts import normalize_base_url
from ..errors import UNREADABLE_JSON
from .shortcuts import SetupShortcuts

DEFAULT_TIMEOUT = (2.0, 10.0)


class SimulatorAdminError(Exception):
    """Base of the admin client's failures; ``str()`` is a sentence a person can act on."""


class SimulatorUnreachable(SimulatorAdminError):
    """Nothing answered: connection refused, unknown host, or no answer in time."""


class SimulatorRefused(SimulatorAdminError):
    """The simulator answered, but not with what was asked for.

    ``status`` is the HTTP status (``None`` when the answer could not even be read) and
    ``error`` the simulator's own ``"error"`` text, ``None`` when its answer carried none (not
    JSON, or a success without the expected content).
    """

    def __init__(self, message: str, *, status: int | None, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Accept"] = "application/json"
    return session


class SimulatorAdmin(SetupShortcuts):
    """The ``/_sim/`` endpoints of one running simulator, as methods.

    ``base_url`` is the simulator's bare origin (``http://127.0.0.1:8765``), ``timeout`` is
    passed to ``requests`` as is, and ``session`` replaces the client's own session (it is then
    used as given, and :meth:`close` leaves it open).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self._own_session = session is None
        self.session = session if session is not None else _new_session()

    def __repr__(self) -> str:
        return f"SimulatorAdmin({self.base_url!r})"

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> SimulatorAdmin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- any endpoint ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        payload: dict | None = None,
        *,
        expect: str | None = None,
        shape: type = dict,
    ) -> Any:
        """``method`` ``/_sim/<path>`` with ``payload`` as JSON; returns the decoded answer.

        The answer must be a 2xx whose JSON is a ``shape`` holding the key ``expect`` (when
        given); anything else raises :class:`SimulatorRefused`, and no answer at all
        :class:`SimulatorUnreachable`.
        """
        where = f"{method} /_sim/{path}"
        try:
            response = self.session.request(
                method,
                f"{self.base_url}/_sim/{path}",
                json=payload,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            port = urlsplit(self.base_url).port or 8765
            raise SimulatorUnreachable(
                f"The NetSuite simulator at {self.base_url} does not answer "
                f"({type(exc).__name__}); start it with "
                f"python -m netsuite.simulator --port {port}."
            ) from None
        except requests.RequestException as exc:
            raise SimulatorRefused(
                f"The NetSuite simulator at {self.base_url} sent an unreadable answer to "
                f"{where} ({type(exc).__name__}).",
                status=None,
            ) from None
        status = response.status_code
        try:
            data = response.json()
        except UNREADABLE_JSON:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        error = str(error) if error is not None else None
        if not 200 <= status < 300:
            raise SimulatorRefused(
                f"The NetSuite simulator at {self.base_url} refused {where} (HTTP {status}): "
                f"{error or 'no reason given'}",
                status=status,
                error=error,
            )
        if not isinstance(data, shape) or (expect is not None and expect not in data):
            wanted = f"a JSON {shape.__name__}" + (f" with {expect!r}" if expect else "")
            raise SimulatorRefused(
                f"The NetSuite simulator at {self.base_url} answered {where} without {wanted}; "
                "is that address really the simulator?",
                status=status,
            )
        return data

    # -- the simulator itself --------------------------------------------------------------

    def health(self) -> dict:
        """``{"ok": true}`` when the simulator runs; the cheapest "is it there?" call."""
        return self.request("GET", "health", expect="ok")

    def stats(self) -> dict:
        """The counters (token requests, calls per kind, most in flight, 429s, faults...)."""
        return self.request("GET", "stats", expect="calls")

    def reset_stats(self) -> None:
        self.request("POST", "reset-stats", expect="ok")

    def config(self) -> dict:
        """The run-time settings: latency, token_ttl, expires_in_format, concurrency_limit."""
        return self.request("GET", "config", expect="latency")

    def configure(self, **changes: Any) -> dict:
        """Change run-time settings; returns all of them as they now are."""
        return self.request("PATCH", "config", changes, expect="latency")

    def login_audit(self) -> list[dict]:
        """The Login Audit Trail: each token request's result and its real reason."""
        return self.request("GET", "login-audit", shape=list)

    # -- what an administrator does in NetSuite --------------------------------------------

    def create_integration(
        self,
        account_id: str,
        *,
        name: str | None = None,
        consumer_id: str | None = None,
        scopes: list[str] | None = None,
        concurrency_limit: int | None = None,
        administrator: bool | None = None,
    ) -> dict:
        """Create an integration record (and the account on first use).

        Returns ``{"consumer_id", "account_id", "name", "scopes", "administrator",
        "concurrency_limit", "slots_in_use"}``. A ``consumer_id`` already in use is refused
        (``SimulatorRefused`` whose ``error`` says "already used").
        """
        payload: dict[str, Any] = {"account_id": account_id, "name": name}
        optional = {
            "consumer_id": consumer_id, "scopes": scopes, "concurrency_limit": concurrency_limit,
            "administrator": administrator,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        return self.request("POST", "integrations", payload, expect="consumer_id")

    def update_integration(self, consumer_id: str, **changes: Any) -> dict:
        """Change an integration: ``administrator`` (is its role an administrator, who alone
        may read governanceLimits), ``concurrency_limit`` (its own limit; ``None`` returns it
        to the unallocated pool), ``slots_in_use`` (requests it holds from elsewhere, to model
        other integrations using the account's pool), ``role``/``entity`` (the IDs of its M2M
        mapping), ``can_manage_certificates`` (the role's "Manage own OAuth 2.0 Client
        Credentials certificates" permission), ``denied_records`` (record types the role may not
        read) and ``metadata_catalog_denied``. Returns the integration as it now is."""
        return self.request(
            "PATCH", f"integrations/{quote(consumer_id, safe='')}", changes, expect="consumer_id"
        )

    def upload_certificate(
        self,
        account_id: str,
        consumer_id: str,
        certificate_pem: str,
        *,
        role: int | None = None,
        entity: int | None = None,
    ) -> dict:
        """Upload a certificate for an integration, as on NetSuite's M2M setup page.

        Returns ``{"certificate_id", "account_id", "consumer_id", "not_after", "validity_cut",
        "fingerprint"}``; the same certificate uploaded again answers its existing ID.
        """
        payload = {
            "account_id": account_id,
            "consumer_id": consumer_id,
            "certificate_pem": certificate_pem,
            "role": role,
            "entity": entity,
        }
        return self.request("POST", "certificates", payload, expect="certificate_id")

    def register_certificate(self, account_id: str, consumer_id: str, certificate_pem: str) -> str:
        """:meth:`upload_certificate`, returning only the Certificate ID (the JWT ``kid``)."""
        return str(
            self.upload_certificate(account_id, consumer_id, certificate_pem)["certificate_id"]
        )

    def revoke_certificate(self, certificate_id: str) -> None:
        self.request("DELETE", f"certificates/{quote(certificate_id, safe='')}", expect="revoked")

    def revoke_tokens(self, account_id: str | None = None) -> int:
        """Forget the issued tokens (of one account, or all); returns how many."""
        answer = self.request("POST", "revoke-tokens", {"account_id": account_id}, expect="revoked")
        return answer["revoked"]

    def governance(self, account_id: str) -> dict:
        """The account's concurrency limits, in NetSuite's governanceLimits shape."""
        return self.request("GET", self._account_path(account_id, "governance"),
                            expect="accountConcurrencyLimit")

    def set_governance(self, account_id: str, **limits: Any) -> dict:
        """Set ``account_limit`` (an int) and/or ``integration_limits`` (``{consumer_id: int or
        None}``); returns :meth:`governance` as it now is."""
        return self.request("PATCH", self._account_path(account_id, "governance"), limits,
                            expect="accountConcurrencyLimit")

    def webhook_flags(self, account_id: str) -> dict[int, dict[str, bool]]:
        """``{scriptdeploymentid: {"create", "update", "delete"}}``, the flags the RESTlet's GET
        does not show; the same shape as :meth:`Simulator.webhook_flags`."""
        answer = self.request("GET", self._account_path(account_id, "webhooks"),
                              expect="deployments")
        deployments = answer["deployments"]
        if not isinstance(deployments, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("scriptdeploymentid"), int)
            for entry in deployments
        ):
            raise SimulatorRefused(
                f"The NetSuite simulator at {self.base_url} listed webhook deployments without "
                "a numeric scriptdeploymentid.",
                status=200,
            )
        flags = {}
        for entry in deployments:
            values = dict(entry)
            flags[values.pop("scriptdeploymentid")] = values
        return flags

    def change_record(
        self,
        account_id: str,
        record_type: str,
        event: str,
        *,
        record_id: str | int | None = None,
        fields: dict | None = None,
    ) -> dict:
        """Create, update or delete a record and play the user-event script: when that
        module's flag for the event is on, the simulator posts the webhook to every iPaaS Auth
        Details entry with an access token. Returns ``{"record_id", "module", "scope",
        "enabled", "deliveries": [{"entry", "url", "status", "error"}]}``."""
        payload: dict[str, Any] = {"record_type": record_type, "event": event}
        if record_id is not None:
            payload["record_id"] = record_id
        if fields is not None:
            payload["fields"] = fields
        return self.request("POST", self._account_path(account_id, "record-changes"), payload,
                            expect="deliveries")

    def move_stock(
        self, account_id: str, *, item: str | int, location: str | int, kind: str,
        quantity: str | int,
    ) -> dict:
        """A ``kind`` of transaction ("fulfillment", "receipt" or "adjustment", which may be
        negative) moving ``quantity`` units of ``item`` at ``location``: the level and its
        ``lastquantityavailablechange`` move, the item's ``lastmodifieddate`` does not.
        Returns the level as SuiteQL answers it."""
        payload = {"item": str(item), "location": str(location), "kind": kind,
                   "quantity": str(quantity)}
        return self.request("POST", self._account_path(account_id, "inventory-moves"), payload,
                            expect="item")

    # -- setup-check knobs -----------------------------------------------------------------

    def setup_state(self, account_id: str) -> dict:
        """``{"restlet_deployed", "deployments": {scriptid: state}, "hidden_record_types",
        "hidden_fields"}``."""
        return self.request("GET", self._account_path(account_id, "setup"),
                            expect="restlet_deployed")

    def configure_setup(self, account_id: str, **changes: Any) -> dict:
        """See :meth:`Simulator.configure_setup`; returns :meth:`setup_state`."""
        return self.request("PATCH", self._account_path(account_id, "setup"), changes,
                            expect="restlet_deployed")


    # -- faults ----------------------------------------------------------------------------

    def add_fault(self, **spec: Any) -> int:
        """Inject failures (see :meth:`Simulator.add_fault` for ``spec``); returns the fault's
        ID. ``kind``/``path_prefix``/``method`` select calls; ``status``, ``count``, ``body``,
        ``delay`` and ``action="disconnect"`` say what they get, ``after_store`` whether the
        call first does its work."""
        return self.request("POST", "faults", spec, expect="fault_id")["fault_id"]

    def clear_faults(self) -> None:
        self.request("DELETE", "faults", expect="ok")

    @staticmethod
    def _account_path(account_id: str, what: str) -> str:
        return f"accounts/{quote(str(account_id), safe='')}/{what}"
