"""Shortcuts over ``configure_setup`` for leaving one piece of the bundle out.

Shared by :class:`~netsuite.simulator.Simulator` (in process) and
:class:`~netsuite.simulator.admin.SimulatorAdmin` (over HTTP), which both offer
``configure_setup(account_id, **changes)``: a test reads the same either way.
"""

from __future__ import annotations


class SetupShortcuts:
    def configure_setup(self, account_id: str, **changes) -> dict:  # pragma: no cover
        raise NotImplementedError

    def set_deployment(self, account_id: str, scriptid: str, state: str) -> dict:
        """One user-event deployment: "deployed", "not_deployed" (isdeployed "F") or
        "missing" (not listed by the Webhook Manager)."""
        return self.configure_setup(account_id, deployments={scriptid: state})

    def set_restlet_deployed(self, account_id: str, deployed: bool) -> dict:
        """Without the Webhook Manager every call to it answers 400 SSS_INVALID_SCRIPTLET_ID."""
        return self.configure_setup(account_id, restlet_deployed=deployed)

    def set_record_type_present(self, account_id: str, record_type: str, present: bool) -> dict:
        """A missing type answers 404 INVALID_RECORD_TYPE on the record API and the catalog."""
        return self.configure_setup(account_id, record_types={record_type: present})

    def set_field_present(
        self,
        account_id: str,
        record_type: str,
        field: str,
        present: bool,
        *,
        sublist: str | None = None,
    ) -> dict:
        """Hide a body field (from record answers, writes and metadata) or, with ``sublist``,
        a line field (from the metadata's sublist)."""
        return self.configure_setup(account_id, fields=[
            {"record_type": record_type, "field": field, "sublist": sublist, "present": present}
        ])

    def set_metadata_shape(self, account_id: str, shape: str) -> dict:
        """How the metadata catalog answers a sublist: "referenced" (a ``$ref`` to
        ``salesOrder-itemCollection``, whose items refer to ``salesOrder-itemElement``, as
        NetSuite does) or "inline" (nested in the record's own schema)."""
        return self.configure_setup(account_id, metadata_shape=shape)
