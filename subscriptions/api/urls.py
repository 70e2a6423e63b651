"""The API put together: ``/api/v1/`` with its routers, schema, docs and error shape.

Its URLs are marked ``login_not_required`` (the token is the only way in, checked by each
operation; the login redirect of the pages would be wrong for a script) and are
``csrf_exempt`` by ninja (no session is used, so there is nothing for a forged request to
ride on). ``/api/v1/`` itself leads to the docs.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from ninja import NinjaAPI

from . import audit, connection, data, errors, health, jobs, subscriptions, webhooks
from .docs import PlainDocs

NAMESPACE = "api"

api = NinjaAPI(
    title="iPaaS NetSuite admin API",
    version="1",
    description=(
        "Automation for the NetSuite integration dashboard. Send a personal API token "
        "(made on /account/api-tokens/) as `Authorization: Bearer <token>`; it acts with "
        "your role. Every refusal is `{\"detail\": ..., \"code\": ...}`."
    ),
    urls_namespace=NAMESPACE,
    docs=PlainDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    # The schema and the docs: GET only, and no session or CSRF token to check.
    docs_decorator=lambda view: csrf_exempt(require_GET(view)),
)
errors.install(api)
for module in (health, subscriptions, webhooks, connection, jobs, data, audit):
    api.add_router("", module.router)


@login_not_required
@require_GET
def api_root(request):
    """``/api/v1/``: the docs (ninja's own root answers 404)."""
    return redirect(f"{NAMESPACE}:openapi-view")


def _patterns() -> list:
    patterns, _app, _namespace = api.urls
    result = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and pattern.name == "api-root":
            pattern = path("", api_root, name="api-root")
        else:
            pattern.callback.login_required = False
        result.append(pattern)
    return result


app_name = NAMESPACE
urlpatterns = _patterns()
