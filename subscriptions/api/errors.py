"""One shape for every refusal of the API: ``{"detail": "...", "code": "..."}``.

``detail`` is the sentence a person would read on the page for the same refusal (a
``ServiceError``'s message, a ``Problem``'s), so a script's author learns what to do from it;
``code`` is stable for the script itself. Ninja's own errors (a body that is not JSON, input
that does not validate) are reshaped to the same JSON, and every status an operation may
answer is declared in its ``response=`` (``responses()``), so the schema tells the truth.
"""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError

from ..problems import Problem
from ..services.api_tokens import ApiTokenRefused, ApiTokenThrottled
from ..services.errors import ServiceError


class FieldError(Schema):
    loc: str
    message: str


class ErrorOut(Schema):
    detail: str
    code: str
    errors: list[FieldError] | None = None


class ApiError(Exception):
    """A refusal an operation raises: its status, message and code."""

    def __init__(self, status: int, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


# The codes every operation behind a token may answer besides its own.
READ_ERRORS = (401, 403, 404, 422, 429)
# A write may also find its input unreadable (400) or refused by the state it meets (409),
# and NetSuite may refuse it (502).
WRITE_ERRORS = (*READ_ERRORS, 400, 409, 502)


def responses(ok: dict, *, write: bool = False) -> dict:
    """``response=`` of an operation: its own answers and every error it may give."""
    return {**ok, **dict.fromkeys(WRITE_ERRORS if write else READ_ERRORS, ErrorOut)}


def not_found(what: str) -> ApiError:
    return ApiError(404, what, "NOT_FOUND")


def problem_error(problem: Problem, status: int) -> ApiError:
    """A ``Problem`` (NetSuite's refusal, a set-up step missing) as the API's refusal."""
    detail = problem.message
    if problem.hint:
        detail = f"{detail} {problem.hint}"
    return ApiError(status, detail, problem.code or "REFUSED")


def _error(api: NinjaAPI, request, status: int, detail: str, code: str, **extra):
    body = {"detail": detail, "code": code}
    body.update(extra)
    return api.create_response(request, body, status=status)


def _loc(loc) -> str:
    return ".".join(str(part) for part in loc)


def install(api: NinjaAPI) -> None:
    """The API's exception handlers: every refusal in the one JSON shape."""

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return _error(api, request, exc.status, exc.detail, exc.code)

    @api.exception_handler(ApiTokenRefused)
    def token_refused(request, exc: ApiTokenRefused):
        response = _error(api, request, 401, exc.message, exc.code)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(ApiTokenThrottled)
    def throttled(request, exc: ApiTokenThrottled):
        response = _error(api, request, 429, exc.message, "RATE_LIMITED")
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        if exc.errors:
            errors = [
                {"loc": f"body.{name}", "message": str(message)}
                for name, messages in exc.errors.items()
                for message in (messages if isinstance(messages, list) else [messages])
            ]
            return _error(api, request, 422, exc.message, "INVALID_INPUT", errors=errors)
        return _error(api, request, 409, exc.problem.message, exc.problem.code or "REFUSED")

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        errors = [
            {"loc": _loc(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
            for error in exc.errors
        ]
        summary = "; ".join(f"{e['loc']}: {e['message']}" for e in errors[:5])
        return _error(
            api, request, 422, f"Correct the request; nothing was changed. {summary}",
            "INVALID_INPUT", errors=errors,
        )

    @api.exception_handler(Http404)
    def missing(request, exc: Http404):
        return _error(api, request, 404, str(exc) or "Not found.", "NOT_FOUND")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {400: "BAD_REQUEST", 401: "TOKEN_MISSING", 403: "FORBIDDEN"}.get(
            exc.status_code, "ERROR"
        )
        detail = str(exc)
        if exc.status_code == 400:
            detail = "The body is not JSON the API can read; send Content-Type: application/json."
        return _error(api, request, exc.status_code, detail, code)
