"""The one place that decides how an action answers: a partial for HTMX, a page otherwise.

Every view that serves both asks :func:`is_partial` (an HTMX request that is not a boosted
navigation, such as a subscription's section tabs, nor htmx reloading a page for the back
button), names its template with :func:`partial_or_page`, returns plain form posts to
where they came from with :func:`back`, and shows outcomes with :func:`flash` (pages without
JavaScript) or the ``includes/notice.html`` template (partials).

Because one URL answers a page or a part of it, :class:`VaryOnHtmxMiddleware` names the
request headers that decide it in every answer's ``Vary``: a browser's cache (the back
button, a reload) then never shows a part where a page belongs.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from ..problems import Problem, Success

# What an answer tells the page (HX-Trigger, django-htmx's trigger_client_event) when it changed
# a state that other parts of the page show. Each such part listens
# (hx-trigger="<event> from:body") and asks for itself again; docs/architecture.md lists them.
JOBS_CHANGED = "jobs-changed"  # a job ended, was cancelled or queued again
CONNECTION_TESTED = "connection-tested"  # a connection test ended (detail: staged)
WEBHOOKS_CHANGED = "webhooks-changed"  # NetSuite confirmed new webhook flags
CERTIFICATE_CHANGED = "certificate-changed"  # another certificate is in use

# The request headers an answer may depend on: is_partial reads the first three, a section's
# frame (context_processors.section_frame) HX-Boosted and HX-Target, the login redirect
# (login_required.py) HX-Request.
DECIDING_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Target")


class VaryOnHtmxMiddleware:
    """``Vary`` on :data:`DECIDING_HEADERS` in every answer (django-htmx's advice), so no
    cache hands a partial answer to a plain navigation or the reverse. Placed before the
    login check in MIDDLEWARE, whose answer depends on HX-Request too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, DECIDING_HEADERS)
        return response


def is_partial(request: HttpRequest) -> bool:
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def partial_or_page(request: HttpRequest, template: str, partial: str) -> str:
    """``template#partial`` for an HTMX request, the whole page otherwise."""
    return f"{template}#{partial}" if is_partial(request) else template


def back(request: HttpRequest, fallback: str, **kwargs) -> HttpResponseRedirect:
    """Where a plain form post returns: its ``next`` if that is a page of ours, else
    ``fallback`` (a URL name with its ``kwargs``)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback, **kwargs)


def return_to(request: HttpRequest) -> str:
    """The page a form on this page should come back to (its ``next`` field)."""
    return request.POST.get("next") or request.get_full_path()


def flash(request: HttpRequest, notice: Problem | Success | None) -> None:
    """An outcome for the next page, through Django's messages framework."""
    if notice is None:
        return
    if isinstance(notice, Success):
        messages.success(request, notice.message)
    else:
        messages.error(request, notice.text())
