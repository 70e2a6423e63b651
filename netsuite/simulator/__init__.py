"""A local NetSuite for tests, benchmarks and the demo: ``python -m netsuite.simulator``.

It is a real HTTP server on loopback (``ThreadingHTTPServer``, HTTP/1.1 keep-alive), so the
client is exercised over the wire exactly as against NetSuite, only the host differs: point the
client's base URL at :attr:`Simulator.base_url`.

What it reproduces faithfully
-----------------------------

Certificates (admin endpoint ``POST /_sim/certificates``, what an administrator does on
Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup):
the certificate must be PEM X.509 with an RSA 3072/4096 or EC P-256/384/521 key (RSA 2048 is
refused with the reason), at most five active certificates per integration record, and a
validity longer than two years is *cut* to two years (NetSuite's documented behaviour; the
answer says ``"validity_cut": true``). Unlike NetSuite, an already expired certificate is
accepted at upload, so tests can reproduce a certificate that expired after it was mapped.
The answer carries the Certificate ID (the JWT ``kid``).

Token endpoint (``POST /services/rest/auth/oauth2/v1/token``): requires form content type,
``grant_type=client_credentials`` and the jwt-bearer ``client_assertion_type`` exactly, then
verifies the assertion's signature with the registered certificate's public key. Refusals are
NetSuite's terse HTTP 400 bodies; the real reason is kept in a Login Audit Trail
(``GET /_sim/login-audit``), as NetSuite does. The simulator's choice of error per cause
(NetSuite documents none of this mapping, so these are the most plausible readings of RFC 6749
and RFC 7523):

- ``{"error": "invalid_request"}``: wrong content type, grant type or assertion type, repeated
  parameters, an assertion that is not a JWT, ``typ`` other than JWT, missing iat/exp;
- ``{"error": "invalid_client"}``: ``iss`` is no known Consumer ID;
- ``{"error": "invalid_grant"}``: algorithm not PS256/384/512 or ES256/384/512 (RS256 is refused
  since 1 March 2025), unknown ``kid`` or a ``kid`` mapped to another integration, certificate
  revoked, expired or not yet valid, EC algorithm not matching the curve, bad signature,
  ``aud`` not the account's real token URL
  (``https://<label>.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token``, whatever
  address the simulator listens on), ``exp - iat`` over 3600 (Oracle's sample uses exactly
  3600, so that is accepted), assertion expired, ``iat`` in the future;
- ``{"error": "invalid_scope"}``: no scope, an unknown scope, or one not enabled on the
  integration record. ``scope`` is accepted as a JSON array or a comma/space separated string.

Success answers ``{"access_token", "expires_in", "token_type": "bearer"}`` with ``expires_in``
as a string (NetSuite's usual form) or a number (``expires_in_format``). Tokens are opaque,
live ``token_ttl`` seconds and die with their certificate's revocation.

REST (``/services/rest/record/v1/<type>[/<id>]``, type names case-insensitive): list with
``limit`` (1..1000, else 400 ``INVALID_PARAMETER``) and ``offset``, answering ``items`` of IDs
only, ``hasMore``, ``count``, ``offset``, ``totalResults`` and links; get (404
``NONEXISTENT_ID``); PATCH (JSON only, else 415; 204 with ``Location``); POST creates (204 with
``Location``). An unknown field name is dropped silently, as NetSuite does by default, unless the
request sends ``X-NetSuite-PropertyNameValidation: Error``: then 400 ``INVALID_CONTENT`` with
``o:errorPath`` naming the field. Standard fields are camelCase (``isInactive``). Collection
pages link ``self``, ``next`` (more follow), ``previous`` (not the first page), ``first`` and
``last``. Types:
``customrecord_otg_ipaas_auth_details`` (1 Production, 2 Sandbox, 3 Beta) and the
initialization types ``customercategory``, ``location``, ``paymentmethod``, ``shipitem``
with configurable counts (any other type name given a count is created too; Alternate ID Type
is no NetSuite table, see ``netsuite.alternate_ids``). Unknown types answer 404
``INVALID_RECORD_TYPE``.

SuiteQL (``POST /services/rest/query/v1/suiteql``): requires ``Prefer: transient`` (else 400
``INVALID_HEADER``) and JSON; understands ``SELECT * | col, ... FROM <type> [ORDER BY col
[ASC|DESC], ...]``, answers only the selected columns in lower case, checkboxes as ``"T"``/``"F"``,
null columns left out, up to 1000 rows a page and 100,000 per query; an offset that is not a
multiple of the limit is a 400 ``INVALID_PARAMETER`` (``o:errorQueryParam: offset``), as is
anything it does not understand. Without ORDER BY each request orders the rows differently
(seeded shuffle), so paging such a query loses and repeats rows as it can against NetSuite.

``GET /services/rest/system/v1/governanceLimits`` answers the account limit, the unallocated pool
(account limit minus what integrations with their own limit hold; at least one slot stays
unallocated) and the limit type; ``integrationConcurrencyLimit`` only for
``integrationSpecific``. A role that is not an administrator (``PATCH /_sim/integrations/<id>``
``{"administrator": false}``) is refused with 403 and the REST envelope, or 400/401/404 as
configured (``governance_refusal_status``).

Webhook Manager RESTlet (``/app/site/hosting/restlet.nl?script=customscript_otg_ipaas_webhook_
manager&deploy=customdeploy_otg_ipaas_webhook_manager``): GET lists the seven module deployments
in the seed's shape plus ``customdeploy_otg_ipaas_vendor_sync_ue``, which the dashboard cannot
place; a GET with a body is refused. A GET or DELETE without ``Content-Type: application/json``
gets 400 ``INVALID_RETURN_DATA_FORMAT`` (the answer would default to plain text), a body without
a content type 415. POST/PUT ``{"id": scriptdeploymentid, flags...}`` set the given flags (JSON
only, else 415; unknown id -> 400 ``INVALID_ID``); DELETE ``&id=`` clears
them. The GET answer, like the seed's, does not show the flags: read them from
``GET /_sim/accounts/<account>/webhooks``. A wrong script or deploy answers 400
``SSS_INVALID_SCRIPTLET_ID``.

Authorization: a missing, unknown, expired or revoked bearer token gets 401 (REST envelope
``INVALID_LOGIN``; RESTlet ``INVALID_LOGIN_ATTEMPT``). A token without ``rest_webservices``
gets 403 on REST, one without ``restlets`` gets 403 on the RESTlet (code
``INSUFFICIENT_PERMISSION``).

Certificate rotation endpoint (``/services/rest/auth/oauth2/v1/clients/<ClientID>/
certificates``, GET list / POST upload ``{"fileContent", "role", "entity"}``, and
``.../certificates/<CertificateID>/revoke`` POST): needs a ``rest_webservices`` token (else 403)
and a role with "Manage own OAuth 2.0 Client Credentials certificates"
(``can_manage_certificates``; else 403 ``INSUFFICIENT_PERMISSION`` naming the permission).
"Own" is read as the caller's entity: the list shows, and upload and revoke accept, only the
certificates of the entity the token's certificate is mapped to (403 otherwise). List items:
``certificate_id``, ``algorithm`` ("RSA"/"EC"), ``valid_from``, ``valid_until`` (after the
two-year cut), ``created`` (ISO 8601 UTC), ``revoked``, ``application``, ``entity`` and ``role``
(``{"id", "name"}``). An upload is refused with 400 for an unreadable certificate, an RSA key
under 3072 bits or another unsupported key, an expired certificate, a certificate already used
for the integration, or a sixth active one; it answers the new item (or 204 with
``certificate_upload_answer="empty"``; Oracle shows no answer). Revoke answers the text
"Successfully revoked"; unknown IDs 404, a second revoke 400. Uploaded certificates sign in
like registered ones (their Certificate ID is the JWT kid) until revoked or past their end.

Metadata catalog (``GET /services/rest/record/v1/metadata-catalog/<type>``): with ``Accept:
application/schema+json`` the record's JSON Schema (custom fields flagged
``x-ns-custom-field``; the sales order's item sublist as a ``$ref`` to the absolute URL of
``salesOrder-itemCollection`` on the host asked, whose ``properties.items.items`` refers to
``salesOrder-itemElement``, both served as catalog entries; with the setup knob
``metadata_shape="inline"`` nested in place as ``item.properties.items.items.properties``),
with ``application/swagger+json`` a minimal OpenAPI document, with ``application/json`` (or
none) only the catalog entry's links, anything else 406. Known types: ``salesorder`` (with the
seed's five tax override fields) and every record type above.

Setup-check knobs (``PATCH /_sim/accounts/<account>/setup``, :meth:`Simulator.configure_setup`):
the Webhook Manager undeployed (400 ``SSS_INVALID_SCRIPTLET_ID``, as for a wrong script ID), a
user-event deployment ``not_deployed`` (``isdeployed: "F"``) or ``missing`` (not listed, its ID
refused), a record type missing (404 ``INVALID_RECORD_TYPE`` on records and catalog), a field
missing (left out of record answers, refused on write, absent from the metadata; line fields
with ``sublist``). Per integration, ``denied_records`` and ``metadata_catalog_denied`` make the
role unable to read a type or the catalog (403 ``INSUFFICIENT_PERMISSION``).

Concurrency governance, per account, per integration with its own limit, and for the unallocated
pool shared by integrations without one; ``slots_in_use`` on an integration models another
integration's traffic in the same pool. A governed call's ``latency`` is the time from its
arrival to its answer, the simulator's own work on it included (only the rest of it is
slept), as NetSuite's page time is; a fault's ``delay`` comes before it. Requests in flight
are counted from authorization to the end of processing, latency included; over the limit,
REST answers 429 with the error envelope and the RESTlet 400 ``SSS_REQUEST_LIMIT_EXCEEDED``.
Token requests are not counted. The slot is released *before* the answer is written, so a
client that frees its own slot on receipt never races it.

Faults (``POST /_sim/faults``): select calls by ``kind`` (token, record, suiteql, restlet,
governance), ``path_prefix`` or ``method``; answer ``status`` (default 503) ``count`` times,
optionally with a ``body`` (a 3xx, or ``"action": "redirect"`` for 302, carries a ``Location``:
``location`` or NetSuite's login page); ``delay`` seconds first (longer than a client's read
timeout makes a
timeout; without a status the call then proceeds normally); or ``"action": "disconnect"`` to
drop the connection unanswered.

Counters (``GET /_sim/stats``, ``POST /_sim/reset-stats``): token requests, tokens issued,
refusals by error, calls per endpoint kind, most requests in flight (overall and per account),
429s, RESTlet limit errors, 401s, faults served.

The admin API has no authentication: bind the simulator to loopback only. Code that drives a
simulator in another process uses :class:`SimulatorAdmin` (``netsuite.simulator.admin``), which
raises :class:`SimulatorUnreachable` when nothing answers and :class:`SimulatorRefused` when the
simulator says no.
"""

from .admin import SimulatorAdmin, SimulatorAdminError, SimulatorRefused, SimulatorUnreachable
from .server import Simulator
from .state import SimulatorError

__all__ = [
    "Simulator",
    "SimulatorAdmin",
    "SimulatorAdminError",
    "SimulatorError",
    "SimulatorRefused",
    "SimulatorUnreachable",
]
