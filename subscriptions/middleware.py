"""Request id and client address, available to the audit writer and to every log line."""

import contextvars
import logging
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    remote_addr: str = ""


current = contextvars.ContextVar("ipaas_request_context", default=RequestContext())  # noqa: B039 (frozen)


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it,
    # and then the deployment should rewrite REMOTE_ADDR at the proxy.
    return request.META.get("REMOTE_ADDR", "")[:64]


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Always our own id: a client-chosen one would let anyone forge audit correlations.
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = current.set(RequestContext(request_id, client_address(request)))
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current.get().request_id or "-"
        return True
