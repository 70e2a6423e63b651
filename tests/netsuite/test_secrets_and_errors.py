"""Secrets never show in reprs, messages or logs; every error carries code, detail and hint."""

import logging
from dataclasses import replace

import pytest

from netsuite import errors
from netsuite.errors import (
    AuthenticationError,
    BadRequestError,
    ConcurrencyLimitError,
    NetSuiteError,
    NetSuiteUnavailableError,
    NotFoundError,
    ScopeError,
    error_for_status,
    error_for_token_response,
    parse_error_body,
    redact,
)

AUTH_DETAILS = "customrecord_otg_ipaas_auth_details"


def secret_fragments(creds, token_value, assertion):
    key_body = "".join(creds.private_key_pem.splitlines()[1:-1])
    return [key_body[:40], key_body[-40:], token_value, assertion, assertion.split(".")[2]]


def test_no_secret_in_logs_reprs_or_errors(sim, make_client, creds, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(creds)
    token = client.fetch_token()
    assertion = client.build_assertion()
    client.records.get(AUTH_DETAILS, 1)
    client.records.patch(AUTH_DETAILS, 1, {"custrecord_otg_ipaas_access_token": "webhook-key-1234"})
    sim.add_fault(kind="record", status=503, count=1)
    client.records.get(AUTH_DETAILS, 1)
    sim.revoke_tokens()
    client.webhooks.list_deployments()
    raised = []
    for action in (
        lambda: client.records.get(AUTH_DETAILS, 404),
        lambda: client.records.patch(AUTH_DETAILS, 1, {"nope": "x"}),
        lambda: make_client(replace(creds, certificate_id="wrong")).fetch_token(),
    ):
        with pytest.raises(NetSuiteError) as info:
            action()
        raised.append(info.value)
    texts = [caplog.text, repr(client), repr(creds), str(creds), repr(token), str(token)]
    for error in raised:
        # vars() holds every field an error carries (message, code, detail, status, hint).
        texts += [str(error), repr(error), error.hint, repr(vars(error)), repr(error.args)]
    fragments = secret_fragments(creds, token.value, assertion)
    for text in texts:
        for fragment in fragments:
            assert fragment not in text
        assert "Bearer" not in text
        assert "PRIVATE KEY" not in text
    assert "customrecord_otg_ipaas_auth_details" in caplog.text  # the log is still useful


def test_secret_echoed_by_netsuite_is_redacted(sim, client):
    # NetSuite may quote a refused value in its detail; a secret-looking field never leaks.
    body = (
        '{"o:errorDetails": [{"detail": "Invalid value webhook-api-key-XYZ for field", '
        '"o:errorCode": "INVALID_CONTENT"}]}'
    )
    error = error_for_status(400, body, secrets=["webhook-api-key-XYZ"])
    assert "webhook-api-key-XYZ" not in str(error)
    assert error.detail == "Invalid value *** for field"


def test_redact_ignores_short_and_empty_values():
    assert redact("a b c", ["a", None, ""]) == "a b c"
    assert redact(None, ["secret-long"]) is None


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (429, '{"o:errorDetails": [{"detail": "x", "o:errorCode": "CONCURRENCY"}]}',
         ConcurrencyLimitError, "CONCURRENCY"),
        (400, '{"error": {"code": "SSS_REQUEST_LIMIT_EXCEEDED", "message": "m"}}',
         ConcurrencyLimitError, "SSS_REQUEST_LIMIT_EXCEEDED"),
        (401, '{"o:errorDetails": [{"detail": "d", "o:errorCode": "INVALID_LOGIN"}]}',
         AuthenticationError, "INVALID_LOGIN"),
        (403, '{"error": {"code": "INSUFFICIENT_PERMISSION", "message": "m"}}',
         ScopeError, "INSUFFICIENT_PERMISSION"),
        (404, '{"o:errorDetails": [{"detail": "d", "o:errorCode": "NONEXISTENT_ID"}]}',
         NotFoundError, "NONEXISTENT_ID"),
        (400, '{"o:errorDetails": [{"detail": "d", "o:errorCode": "INVALID_CONTENT"}]}',
         BadRequestError, "INVALID_CONTENT"),
        (503, "<html>Service Unavailable</html>", NetSuiteUnavailableError, None),
        (500, "", NetSuiteUnavailableError, None),
    ],
)
def test_error_for_status(status, body, cls, code):
    error = error_for_status(status, body)
    assert type(error) is cls
    assert error.code == code and error.status == status
    assert error.hint and error.hint.endswith(".")
    assert repr(error) == f"{cls.__name__}(status={status!r}, code={code!r})"


@pytest.mark.parametrize("code", ["invalid_client", "invalid_grant"])
def test_terse_token_errors_list_causes_in_order(code):
    error = error_for_token_response(400, f'{{"error": "{code}"}}')
    assert isinstance(error, AuthenticationError)
    hint = error.hint
    order = ["Certificate ID", "expired or was revoked", "Consumer ID", "sandbox refresh",
             "permissions", "clock", "Login Audit Trail"]
    positions = [hint.index(words) for words in order]
    assert positions == sorted(positions)
    assert str(error) == f"NetSuite refused the credentials. [HTTP 400, {code}]"


def test_other_token_errors():
    assert isinstance(error_for_token_response(400, '{"error": "invalid_scope"}'), ScopeError)
    malformed = error_for_token_response(400, '{"error": "invalid_request"}')
    assert isinstance(malformed, AuthenticationError) and "RS256" in malformed.hint
    assert isinstance(error_for_token_response(502, "bad gateway"), NetSuiteUnavailableError)


def test_parse_error_body_shapes():
    assert parse_error_body('{"error": "invalid_grant", "error_description": "d"}') == (
        "invalid_grant", "d")
    assert parse_error_body("plain text") == (None, "plain text")
    assert parse_error_body("[1, 2]") == (None, None)
    assert parse_error_body("") == (None, None)


def test_every_error_class_has_a_sentence_hint():
    classes = [getattr(errors, name) for name in dir(errors)]
    classes = [c for c in classes if isinstance(c, type) and issubclass(c, NetSuiteError)]
    assert len(classes) >= 11
    for cls in classes:
        error = cls()
        assert error.message.endswith(".")
        assert error.hint.endswith(".")
        assert str(error) == error.message


def test_error_keeps_netsuites_words_apart_from_its_own():
    error = NotFoundError(code="NONEXISTENT_ID", detail="gone", status=404)
    assert (error.message, error.code, error.detail, error.status, error.hint) == (
        NotFoundError.default_message, "NONEXISTENT_ID", "gone", 404, NotFoundError.default_hint
    )
    assert str(error) == (
        f"{NotFoundError.default_message} [HTTP 404, NONEXISTENT_ID] NetSuite said: gone"
    )


def test_hints_name_only_permissions_netsuite_has():
    # NetSuite has no "RESTlets" permission: RESTlets are a scope, and reaching one takes the
    # deployment's Audience.
    from netsuite import errors

    permission_hints = [errors.ScopeError.default_hint, *errors.TOKEN_REFUSAL_CAUSES]
    for text in permission_hints:
        assert "'RESTlets' permission" not in text.replace("no 'RESTlets' permission", "")
    scope_hint = errors.ScopeError.default_hint
    for needed in ("Log in using OAuth 2.0 Access Tokens", "REST Web Services",
                   "iPaaS Auth Details", "Audience", "Web Services Only"):
        assert needed in scope_hint
    role_cause = next(c for c in errors.TOKEN_REFUSAL_CAUSES if "permissions" in c)
    assert "RESTlets" not in role_cause
    assert "iPaaS Auth Details" in role_cause


def test_simulated_rest_records_use_camel_case_and_suiteql_lower_case(client):
    record = client.records.get("location", 1)
    assert {"isInactive", "makeInventoryAvailable"} <= set(record)
    assert "isinactive" not in record
    row = next(iter(client.records.suiteql("SELECT id, isinactive FROM location ORDER BY id")))
    assert row == {"id": "1", "isinactive": "F"}
