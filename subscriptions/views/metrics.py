"""``/metrics``: Prometheus's text exposition, for a scraper only (docs/metrics.md).

No login, no session, no second factor: a scraper has none. It is let in by the
``METRICS_TOKEN`` (``Authorization: Bearer``) or by its address being in
``METRICS_ALLOWED_ADDRESSES`` (the client address the rest of the dashboard uses:
``middleware.client_address``, the proxy's X-Forwarded-For entry behind DJANGO_BEHIND_PROXY);
anyone else gets 403. With neither configured the URL does not exist (404): an operator who
never set metrics up exposes nothing, and nobody learns there is something to guess at.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import metrics as metrics_module
from ..middleware import client_address, current


@login_not_required
@require_GET
@never_cache
def metrics(request):
    if not metrics_module.scrape_configured():
        raise Http404("Metrics are not configured.")
    if not metrics_module.scrape_allowed(
        authorization=request.headers.get("Authorization", ""),
        address=current.get().remote_addr or client_address(request),
    ):
        return HttpResponse(
            "Metrics need the METRICS_TOKEN or an address in METRICS_ALLOWED_ADDRESSES.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body, content_type = metrics_module.exposition()
    return HttpResponse(body, content_type=content_type)
