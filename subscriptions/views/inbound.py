"""The inbound webhook endpoint NetSuite's user-event script posts to: ``/hooks/netsuite/<id>/``.

The Webhook API Key is the only way in: no session, no CSRF token, no login page. The key is
checked by :func:`webhook_key_required` before anything reads the body, so a caller without
it cannot make the server read, parse or store a byte; only then is the declared size checked
and the body read (never more than 1 MB and one byte), then parsed, counted against the rate
(per notification, so after parsing) and stored by the service. Answers are small JSON
documents a script can log: 202 with how many notifications were accepted, or the reason:
400 a bad body or notification (over 16 KB included), 413 a body over 1 MB or of more
notifications than one body holds, 429 with Retry-After when they do not fit the rate now.
"""

from __future__ import annotations

import math
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..metrics import counted_deliveries
from ..middleware import client_address, current, reads_own_body
from ..services import inbound as inbound_service

MAX_BODY_BYTES = inbound_service.MAX_BODY_BYTES


def _bearer_key(request) -> str:
    # From META, as the User-Agent below: ``request.headers`` builds a dictionary of every
    # header first, a cost this endpoint pays on every delivery.
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _unauthorized() -> JsonResponse:
    response = JsonResponse({"error": "A valid Webhook API Key is required."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="ipaas-admin webhooks"'
    return response


def webhook_key_required(view):
    """401 unless ``Authorization: Bearer <the subscription's Webhook API Key>``; the view
    gets the :class:`~subscriptions.selectors.events.InboundTarget` instead of the id."""

    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        target = inbound_service.inbound_authenticate(subscription_id=pk, key=_bearer_key(request))
        if target is None:
            return _unauthorized()
        return view(request, target, *args, **kwargs)

    return wrapper


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large() -> JsonResponse:
    return JsonResponse({"error": f"The body is larger than {MAX_BODY_BYTES} bytes."}, status=413)


@counted_deliveries
@reads_own_body
@csrf_exempt
@login_not_required
@require_POST
@webhook_key_required
def inbound_webhook(request, target):
    if _declared_length(request) > MAX_BODY_BYTES:
        return _too_large()
    # One byte more than allowed: a body longer than it declared is refused too.
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    try:
        accepted = inbound_service.inbound_receive(
            target=target,
            body=body,
            # RequestIdMiddleware asked axes already; asking again costs as much again.
            remote_addr=current.get().remote_addr or client_address(request),
            request_id=getattr(request, "request_id", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except inbound_service.InboundThrottled as exc:
        response = JsonResponse({"error": exc.message}, status=429)
        response["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response
    except inbound_service.InboundTooLarge as exc:
        return JsonResponse({"error": exc.message}, status=413)
    except inbound_service.InboundRefused as exc:
        return JsonResponse({"error": exc.message}, status=400)
    # The same document JsonResponse would write, without its encoder: it cost more than
    # the parse of the body (bench_inbound).
    return HttpResponse(
        b'{"accepted": %d}' % accepted, content_type="application/json", status=202
    )
