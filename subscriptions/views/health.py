"""``/healthz`` and ``/readyz``, for load balancers, orchestrators and uptime monitors.

``/healthz`` says the process answers (a liveness probe: restart it if not) and touches
nothing else. ``/readyz`` says whether it can do its work now (``selectors.readiness``:
the database, migrated; the shared cache and throttle store; a job worker and the scheduler
alive, where ``READY_REQUIRE_WORKER`` / ``READY_REQUIRE_SCHEDULER`` ask for them): 200 or
503, with each part's state. Neither needs a login or a second factor, sets a cookie or
reads a session, and neither says anything secret; both are exempt from the HTTPS redirect
(a probe speaks plain HTTP to the process).
"""

import logging
import threading

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..selectors.readiness import READY, readiness_report

logger = logging.getLogger(__name__)
# This process's last answer, so a change is logged once rather than a 503 a second.
_last = {"status": READY}
_lock = threading.Lock()


@login_not_required
@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
@never_cache
def readyz(request):
    report = readiness_report()
    status = report["status"]
    with _lock:
        changed, _last["status"] = _last["status"] != status, status
    if changed:
        failing = sorted(
            part for part, check in report["checks"].items()
            if not check["ok"] and check.get("required", True)
        )
        logger.warning("readiness: %s%s", status, f" ({', '.join(failing)})" if failing else "")
    response = JsonResponse(report, status=200 if status == READY else 503)
    # Said above on a change; Django would log every 503 a probe gets as an error.
    response._has_been_logged = True
    return response
