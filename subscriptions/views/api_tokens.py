"""A person's own API tokens (``/account/api-tokens/``): make one, see it once, revoke it.

Making a token is Post/Redirect/Get like a new Webhook API Key: the secret waits encrypted in
the server-side session (``kept.show_token_once``) for the one page view the POST redirects
to, never in a URL, and that view is not cached. Every person with a role has this page; a
token acts with their role, whatever it is at the time of each request.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from ..forms.api_tokens import ApiTokenForm
from ..selectors.api_tokens import api_token_of, api_tokens_of
from ..services import api_tokens as token_service
from ..services.errors import ServiceError
from . import kept


@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = token_service.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                read_only=form.cleaned_data["read_only"],
                actor=request.user,
            )
        except ServiceError as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            kept.show_token_once(request, token_pk=token.pk, secret=secret)
            return redirect("subscriptions:api_tokens")
    new_pk, new_secret = kept.pop_token_shown_once(request) if request.method == "GET" else (
        None, None
    )
    context = {
        "form": form,
        "tokens": api_tokens_of(request.user),
        "new_pk": new_pk,
        "new_secret": new_secret,
        "nav": "api_tokens",
    }
    response = render(request, "account/api_tokens.html", context)
    if new_secret:
        add_never_cache_headers(response)
    return response


@require_POST
def api_token_revoke(request, token_pk):
    token = api_token_of(request.user, token_pk)
    if token is None:
        raise Http404("You have no API token with this id.")
    token = token_service.api_token_revoke(token=token, actor=request.user)
    messages.success(
        request, f"API token “{token.name}” ({token.prefix}…) revoked: it no longer works."
    )
    return redirect("subscriptions:api_tokens")
