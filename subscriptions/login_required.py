"""Django's LoginRequiredMiddleware, with an answer HTMX can follow.

Without a session Django answers every request with a 302 to the login page. For an HTMX
request (a "Test connection" click, a webhook checkbox) the browser follows that redirect
inside the XMLHttpRequest and HTMX swaps the whole login page into a card or a table row; and
its ``next`` is the POST-only URL that was called, so logging in there ends on a blank 405.

Here an HTMX request gets ``HX-Redirect`` instead: HTMX loads the full login page, whose
``next`` is the page the person was on (``HX-Current-URL``, when it is a page of this site).
A request without HTMX keeps Django's own redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import middleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def _page_the_person_was_on(request) -> str | None:
    current = request.headers.get("HX-Current-URL", "")
    if not current or not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(current)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request") != "true":
            return super().handle_no_permission(request, view_func)
        target = _page_the_person_was_on(request)
        if target is None and request.method == "GET":
            target = request.get_full_path()  # every GET a partial comes from serves a page too
        login_url = resolve_url(self.get_login_url(view_func))
        if target is None:
            return HttpResponseClientRedirect(login_url)
        redirect = redirect_to_login(target, login_url, self.get_redirect_field_name(view_func))
        return HttpResponseClientRedirect(redirect["Location"])
