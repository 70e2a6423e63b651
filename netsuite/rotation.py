"""NetSuite's "OAuth 2.0 Client Credentials Certificate Rotation Endpoint".

``GET``/``POST https://<account>.restlets.api.netsuite.com/services/rest/auth/oauth2/v1/clients/
<ClientID>/certificates`` lists and uploads (``{"fileContent": PEM, "role": id, "entity": id}``)
the certificates of an integration record; ``POST .../certificates/<CertificateID>/revoke``
revokes one. The token must carry the ``rest_webservices`` scope and the role the permission
"Manage own OAuth 2.0 Client Credentials certificates"; without it the dashboard falls back to
the manual steps (:class:`~netsuite.errors.CertificatePermissionError` says so).

Oracle's pages show the requests but not the answers. Public clients of the endpoint read a
list item as ``{"certificate_id", "algorithm", "valid_from", "valid_until", "created",
"revoked", "application": {...}, "entity": {"id", "name"}, "role": {"id", "name"}}`` and the
revoke answer as the text "Successfully revoked"; whether the upload answers the new entry is
not documented. So :meth:`CertificateRotation.upload` lists before and after when the answer
carries no ``certificate_id``, and picks the new entry whose dates, role and entity match the
uploaded certificate (the list carries no fingerprint). Dates are read in any of the forms seen
(ISO date-time, ISO date, ``M/D/YYYY``, epoch milliseconds).

The endpoint documents no idempotency key, so an upload is never sent twice: the transport
does not repeat it after a 5xx or a connection that broke after sending, and :meth:`upload`
then lists the certificates and looks for its own the same way. Found, it carries on as if
NetSuite had answered; not found, :class:`~netsuite.errors.UploadNotDoneError` says the upload
did not happen and can be tried again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import certificates
from .api import NetSuiteAPI
from .errors import (
    UNREADABLE_JSON,
    BadRequestError,
    CertificateIdUnknownError,
    CertificatePermissionError,
    CertificateUploadRefusedError,
    NetSuiteError,
    NetSuiteTimeoutError,
    NetSuiteUnavailableError,
    NotFoundError,
    OutcomeUnknownError,
    ScopeError,
    UnexpectedResponseError,
    UploadNotDoneError,
)

REQUIRED_SCOPE = "rest_webservices"
MAX_ACTIVE_CERTIFICATES = 5
PERMISSION = "Manage own OAuth 2.0 Client Credentials certificates"


def parse_time(value: Any) -> dt.datetime | None:
    """A UTC datetime from the forms NetSuite may use; ``None`` for absent or unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Epoch milliseconds (NetSuite's usual number form) or seconds.
        seconds = value / 1000 if value > 10**11 else value
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = dt.datetime.strptime(text, "%m/%d/%Y")
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _ref(value: Any) -> tuple[str | None, str | None]:
    """``(id, name)`` of a reference given as an object or as a bare ID."""
    if isinstance(value, dict):
        ref_id = value.get("id")
        name = value.get("name") or value.get("refName")
        return (str(ref_id) if ref_id is not None else None, str(name) if name else None)
    if value is None or value == "":
        return None, None
    return str(value), None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in ("T", "TRUE", "Y", "YES", "1")


@dataclass(frozen=True)
class ClientCertificate:
    """One entry of the rotation endpoint's list (and of the OAuth 2.0 Client Credentials
    Setup page): ``valid_until`` is NetSuite's end, already cut to two years."""

    certificate_id: str
    algorithm: str | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    created: dt.datetime | None
    revoked: bool
    role_id: str | None
    role_name: str | None
    entity_id: str | None
    entity_name: str | None
    application_name: str | None
    client_id: str | None
    raw: dict = field(repr=False, compare=False)

    def is_active(self, now: dt.datetime | None = None) -> bool:
        """Not revoked and within its dates (an unknown date does not count against it)."""
        now = now or dt.datetime.now(dt.UTC)
        if self.revoked:
            return False
        if self.valid_until is not None and now >= self.valid_until:
            return False
        return not (self.valid_from is not None and now < self.valid_from)

    def days_left(self, now: dt.datetime | None = None) -> int | None:
        if self.valid_until is None:
            return None
        return (self.valid_until - (now or dt.datetime.now(dt.UTC))).days

    @classmethod
    def from_raw(cls, raw: Any) -> ClientCertificate:
        if not isinstance(raw, dict):
            raise UnexpectedResponseError("NetSuite listed a certificate that is not an object.")
        certificate_id = raw.get("certificate_id", raw.get("certificateId", raw.get("id")))
        if not isinstance(certificate_id, str | int) or isinstance(certificate_id, bool) or (
            str(certificate_id) == ""
        ):
            raise UnexpectedResponseError("NetSuite listed a certificate without a certificate_id.")
        role_id, role_name = _ref(raw.get("role"))
        entity_id, entity_name = _ref(raw.get("entity"))
        application = raw.get("application")
        application = application if isinstance(application, dict) else {}
        revoked = raw.get("revoked", raw.get("invalidated", False))

        def pick(*names: str) -> Any:
            return next((raw[n] for n in names if raw.get(n) not in (None, "")), None)

        return cls(
            certificate_id=str(certificate_id),
            algorithm=str(raw["algorithm"]) if raw.get("algorithm") else None,
            valid_from=parse_time(pick("valid_from", "validFrom")),
            valid_until=parse_time(pick("valid_until", "validUntil")),
            created=parse_time(pick("created", "dateCreated")),
            revoked=_truthy(revoked),
            role_id=role_id,
            role_name=role_name,
            entity_id=entity_id,
            entity_name=entity_name,
            application_name=str(application["name"]) if application.get("name") else None,
            client_id=str(application["application_id"])
            if application.get("application_id") else None,
            raw=dict(raw),
        )


def _same_moment(listed: dt.datetime | None, expected: dt.datetime) -> bool:
    """Equal to the second, or to the day when NetSuite gives only a date."""
    if listed is None:
        return True
    if listed.time() == dt.time(0) and listed.tzinfo is not None:
        if listed.date() == expected.date():
            return True
    return abs((listed - expected).total_seconds()) < 1.0


def _maybe_done(failure: NetSuiteError) -> bool:
    """Whether NetSuite may have acted on a request that failed this way: it answered with a
    server error, or the answer did not come; not when the connection was never made."""
    if isinstance(failure, OutcomeUnknownError | NetSuiteTimeoutError):
        return True
    return failure.status is not None and failure.status >= 500


def _id_value(value: int | str, name: str) -> int | str:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a NetSuite internal ID.")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a NetSuite internal ID, not {value!r}.") from None


class CertificateRotation:
    """``client.certificates``: list, upload and revoke the integration's certificates."""

    def __init__(self, client: NetSuiteAPI) -> None:
        self.client = client

    @property
    def client_id(self) -> str:
        """The Consumer ID of the client's own integration record (the path's ClientID)."""
        return self.client.credentials.consumer_id

    def _check_scope(self) -> None:
        if REQUIRED_SCOPE not in self.client.credentials.scopes:
            raise ScopeError(
                "The certificate rotation endpoint needs a token of the REST web services "
                "scope.",
                hint="Add rest_webservices to this subscription's scopes (and tick 'REST Web "
                "Services' on the integration record); nothing was sent to NetSuite.",
            )

    def _send(self, method: str, url: str, *, json: Any = None):
        self._check_scope()
        try:
            return self.client.request(
                method, url, json=json, headers={"Accept": "application/json"}
            )
        except ScopeError as exc:
            if exc.status == 403 and "scope" not in (exc.detail or "").lower():
                raise CertificatePermissionError(
                    code=exc.code, detail=exc.detail, status=exc.status
                ) from None
            raise

    def list(self, *, client_id: str | None = None) -> list[ClientCertificate]:
        """Every certificate of the integration record NetSuite shows this role."""
        url = self.client.urls.certificates_url(client_id or self.client_id)
        response = self._send("GET", url)
        try:
            data = response.json() if response.content else []
        except UNREADABLE_JSON:
            raise UnexpectedResponseError(
                "NetSuite's certificate list is not JSON.", status=response.status_code
            ) from None
        if isinstance(data, dict):
            data = next(
                (data[k] for k in ("items", "certificates", "data") if isinstance(data.get(k),
                                                                                   list)),
                None,
            )
        if not isinstance(data, list):
            raise UnexpectedResponseError("NetSuite's certificate list is not a list.")
        return [ClientCertificate.from_raw(item) for item in data]

    def find(
        self,
        certificate_pem: str,
        *,
        role: int | str | None = None,
        entity: int | str | None = None,
        listed: Iterable[ClientCertificate] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[ClientCertificate]:
        """The listed, unrevoked entries that can be this certificate: same Valid From, same
        Valid Until after NetSuite's two-year cut, same key algorithm, role and entity."""
        info = certificates.describe_certificate(
            certificates.load_certificate(certificate_pem, check_key=False)
        )
        skip = set(exclude)
        candidates = []
        for entry in listed if listed is not None else self.list():
            if entry.revoked or entry.certificate_id in skip:
                continue
            if not _same_moment(entry.valid_from, info.not_before):
                continue
            if not _same_moment(entry.valid_until, info.effective_not_after):
                continue
            if entry.algorithm and entry.algorithm.upper() not in (info.key.kind, info.key.label):
                continue
            if role is not None and entry.role_id is not None and entry.role_id != str(role):
                continue
            if entity is not None and entry.entity_id is not None and (
                entry.entity_id != str(entity)
            ):
                continue
            candidates.append(entry)
        return candidates

    def upload(
        self,
        certificate_pem: str,
        *,
        role: int | str,
        entity: int | str,
        client_id: str | None = None,
    ) -> ClientCertificate:
        """Upload a certificate for ``role`` and ``entity``; returns its entry, Certificate ID
        included (from the answer, or found in the list when the answer has none).

        Refused locally, before anything is sent, like NetSuite's page would: not a
        certificate, a key NetSuite does not accept, an expired certificate
        (:class:`~netsuite.certificates.CertificateError`), five active certificates already
        (:class:`~netsuite.errors.CertificateUploadRefusedError`). NetSuite's own refusals
        (the same certificate twice, ...) raise ``CertificateUploadRefusedError`` as well.
        """
        role_value = _id_value(role, "role")
        entity_value = _id_value(entity, "entity")
        cert = certificates.load_certificate(certificate_pem)
        certificates.check_certificate_current(cert)
        self._check_scope()
        client_id = client_id or self.client_id
        before = self.list(client_id=client_id)
        active = [c for c in before if c.is_active()]
        if len(active) >= MAX_ACTIVE_CERTIFICATES:
            raise CertificateUploadRefusedError(
                "This integration record already has five active certificates; revoke one "
                "before uploading another.",
                status=None,
            )
        # A second upload of the same certificate is left to NetSuite to refuse: the list has
        # no fingerprint, and two certificates made in the same second share their dates.
        body = {
            "fileContent": certificate_pem.strip() + "\n",
            "role": role_value,
            "entity": entity_value,
        }
        url = self.client.urls.certificates_url(client_id)
        try:
            response = self._send("POST", url, json=body)
        except BadRequestError as exc:
            raise CertificateUploadRefusedError(
                code=exc.code, detail=exc.detail, status=exc.status
            ) from None
        except (NetSuiteUnavailableError, NetSuiteTimeoutError) as exc:
            return self._look_after_failed_upload(
                exc, certificate_pem, role=role_value, entity=entity_value,
                client_id=client_id, before=before,
            )
        answer: Any = None
        if response.content:
            try:
                answer = response.json()
            except UNREADABLE_JSON:
                answer = None
        if isinstance(answer, dict) and answer.get("certificate_id", answer.get("certificateId")):
            return ClientCertificate.from_raw(answer)
        known = {c.certificate_id for c in before}
        after = self.list(client_id=client_id)
        matches = self.find(
            certificate_pem, role=role_value, entity=entity_value, listed=after, exclude=known
        )
        if len(matches) != 1:
            raise CertificateIdUnknownError(
                "NetSuite took the certificate but its Certificate ID could not be told apart "
                f"in the list ({len(matches)} candidates)."
            )
        return matches[0]

    def _look_after_failed_upload(
        self,
        failure: NetSuiteError,
        certificate_pem: str,
        *,
        role: int | str,
        entity: int | str,
        client_id: str,
        before: list[ClientCertificate],
    ) -> ClientCertificate:
        """After an upload NetSuite may have stored (a 5xx, a timeout, a connection that broke
        after sending), NetSuite's list decides: the endpoint documents no idempotency key, so
        sending it again could add the certificate twice."""
        if not _maybe_done(failure):
            raise UploadNotDoneError(
                f"The certificate was not uploaded: {failure.message}",
                code=failure.code, detail=failure.detail, status=failure.status,
            ) from None
        try:
            after = self.list(client_id=client_id)
        except NetSuiteError as exc:
            raise OutcomeUnknownError(
                "NetSuite did not confirm the certificate upload, and its list of "
                f"certificates could not be read to check ({exc.message}).",
                hint="Before uploading again, look for the certificate in NetSuite (Setup > "
                "Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) "
                "Setup) by its Valid From / Valid Until dates, role and entity.",
            ) from None
        known = {c.certificate_id for c in before}
        matches = self.find(
            certificate_pem, role=role, entity=entity, listed=after, exclude=known
        )
        if not matches:
            raise UploadNotDoneError(
                f"The certificate was not uploaded: {failure.message.rstrip('.')}, and "
                "NetSuite's list of certificates shows it did not store it.",
                code=failure.code, detail=failure.detail, status=failure.status,
            ) from None
        if len(matches) > 1:
            raise CertificateIdUnknownError(
                "NetSuite did not confirm the upload, and its list holds "
                f"{len(matches)} certificates that could be this one."
            )
        return matches[0]

    def revoke(self, certificate_id: str, *, client_id: str | None = None) -> None:
        """Revoke one certificate; tokens signed with its key stop being issued at once."""
        url = self.client.urls.certificates_url(client_id or self.client_id, certificate_id)
        try:
            self._send("POST", url)
        except NotFoundError as exc:
            raise NotFoundError(
                "NetSuite has no such certificate for this integration.",
                code=exc.code, detail=exc.detail, status=exc.status,
                hint="List the certificates again; the ID may be mistyped or belong to another "
                "integration record or entity.",
            ) from None
