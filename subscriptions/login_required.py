"""Django's LoginRequiredMiddleware, with an answer HTMX can follow, that says why.

Without a session Django answers every request with a 302 to the login page. For an HTMX
request (a "Test connection" click, a webhook checkbox) the browser follows that redirect
inside the XMLHttpRequest and HTMX swaps the whole login page into a card or a table row; and
its ``next`` is the POST-only URL that was called, so logging in there ends on a blank 405.

Here an HTMX request gets ``HX-Redirect`` instead: HTMX loads the full login page, whose
``next`` is the page the person was on (``HX-Current-URL``, when it is a page of this site).
A plain form post returns to its own ``next`` field, the page it was sent from or its
section's page (rather than a POST-only URL); a plain GET keeps Django's own redirect.

A person whose session ended mid-work must not be greeted as a first visitor, nor lose a
change without a word. So the login URL carries ``expired=1`` when the request shows a session
existed (a session cookie the server no longer knows, or an action on a page: a POST or an
HTMX call, which no first visit makes), and a refused write is kept in the new session
(:data:`DROPPED_CHANGE`) for the login view to name after the login: the login keeps the
anonymous session's data (Django's ``cycle_key``). The change itself is never replayed: the
person makes it again, seeing the page as it is now.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import middleware
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from .templatetags.subscription_sections import SECTIONS, section_of
from .views.login import DROPPED_CHANGE, EXPIRED_PARAM

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
_SECTION_LABELS = {key: label for key, label, _url_name, _perm in SECTIONS}
_SECTION_URL_NAMES = {key: url_name for key, _label, url_name, _perm in SECTIONS}


def _ours(request, url: str) -> str | None:
    """``url`` as a path (and query) of this site, or None for anything else."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    if not parts.netloc and not url.startswith("/"):
        return None
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _page_the_person_was_on(request) -> str | None:
    if request.headers.get("HX-Request") == "true":
        return _ours(request, request.headers.get("HX-Current-URL", ""))
    # A plain form post: the page its form names (``next``), else the page that sent it.
    return _ours(request, request.POST.get("next", "")) or _ours(
        request, request.headers.get("Referer", "")
    )


def _had_a_session(request) -> bool:
    """Whether the request comes from someone whose session ended, not from a first visit."""
    return bool(
        request.COOKIES.get(settings.SESSION_COOKIE_NAME)  # "" is a cookie being deleted
        or request.method not in SAFE_METHODS
        or request.headers.get("HX-Request") == "true"
    )


def _section(path: str) -> tuple[str | None, int | None]:
    """The subscription section a path of ours belongs to, and the subscription's id."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None, None
    pk = match.kwargs.get("pk")
    return section_of(match.url_name), pk if isinstance(pk, int) else None


def _section_page(path: str) -> str | None:
    """The page of the section an action's URL belongs to (where its form was), if any."""
    section, pk = _section(path)
    if section is None or pk is None:
        return None
    return reverse(f"subscriptions:{_SECTION_URL_NAMES[section]}", args=[pk])


def _keep_dropped_change(request, page: str | None) -> None:
    """Remember what the refused write was, for the message after the login (no database
    read here: the subscription's name is looked up once the person is logged in)."""
    section, pk = _section(page) if page else (None, None)
    if section is None:  # a page of its own (the webhooks of every subscription): the action's
        section, pk = _section(request.path)
    request.session[DROPPED_CHANGE] = {
        "method": request.method,
        "path": request.path,
        "page": page or "",
        "section": _SECTION_LABELS.get(section, ""),
        "subscription_id": pk,
    }


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    def handle_no_permission(self, request, view_func):
        htmx = request.headers.get("HX-Request") == "true"
        if not htmx and request.method in SAFE_METHODS:
            target = request.get_full_path()  # Django's own: the page asked for
        else:
            target = _page_the_person_was_on(request)
            if target is None and request.method in SAFE_METHODS:
                target = request.get_full_path()  # every GET a partial comes from serves a page
            elif target is None:  # the section the action is on, else Django's own
                target = _section_page(request.path) or request.get_full_path()
        if request.method not in SAFE_METHODS:
            _keep_dropped_change(request, target)
        location = self._login_location(request, view_func, target)
        if htmx:
            return HttpResponseClientRedirect(location)
        return HttpResponseRedirect(location)

    def _login_location(self, request, view_func, target: str | None) -> str:
        parts = list(urlsplit(resolve_url(self.get_login_url(view_func))))
        query = QueryDict(parts[3], mutable=True)
        if target:
            query[self.get_redirect_field_name(view_func)] = target
        if _had_a_session(request):
            query[EXPIRED_PARAM] = "1"
        parts[3] = query.urlencode(safe="/")
        return urlunsplit(parts)
