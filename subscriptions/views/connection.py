"""Connection tests: start one, run it step by step (HTMX) or in one go, and its history."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from ..models import Certificate, ConnectionTest
from ..permissions import has_perm, require
from ..problems import Problem, Success
from ..selectors.connection_tests import connection_history, latest_own_test
from ..selectors.health import subscription_health
from ..selectors.subscriptions import subscription_get
from ..services import connection as connection_service
from .htmx import CONNECTION_TESTED, back, flash, is_partial, partial_or_page, return_to

CONNECTION_TEMPLATE = "subscriptions/actions/connection.html"
# Sent when a test ends: the health line, the history, the Certificate section (Activate
# follows the staged test) and the webhook table ask for themselves again.
TEST_FINISHED_EVENT = CONNECTION_TESTED


def _staged_from_post(request, subscription) -> Certificate | None:
    raw = request.POST.get("certificate")
    if not raw:
        return None
    if not has_perm(request.user, "manage_certificates"):
        raise PermissionDenied
    try:
        return Certificate.objects.defer("private_key").get(pk=int(raw), subscription=subscription)
    except (ValueError, Certificate.DoesNotExist):
        raise Http404("No such certificate on this subscription.") from None


def _test_summary(test: ConnectionTest) -> Problem | Success:
    if test.outcome == ConnectionTest.Outcome.PASSED:
        what = "with the staged certificate " if test.is_staged else ""
        return Success(
            f"Connection test {what}passed: {len(test.steps)} steps in {test.duration_ms} ms."
        )
    failed = test.failed_step or {"label": "?", "error": None}
    problem = Problem.from_dict(failed.get("error")) or Problem("failed")
    return problem.with_message(f"Connection test failed at “{failed['label']}”: {problem.message}")


def _render_test(request, test: ConnectionTest):
    context = {"test": test}
    if test.is_running and len(test.steps) < len(connection_service.STEPS):
        context["next_label"] = connection_service.STEPS[len(test.steps)][1]
    response = render(request, f"{CONNECTION_TEMPLATE}#test", context)
    if not test.is_running:
        trigger_client_event(response, TEST_FINISHED_EVENT, {"staged": test.is_staged})
    return response


@require_POST
@require("run_connection_test")
def connection_test(request, pk):
    subscription = subscription_get(pk)
    staged = _staged_from_post(request, subscription)
    try:
        if is_partial(request):
            test = connection_service.connection_test_start(
                subscription=subscription, actor=request.user, certificate=staged
            )
            return _render_test(request, test)
        test = connection_service.connection_test_run(
            subscription=subscription, actor=request.user, certificate=staged
        )
    except connection_service.ConnectionTestError as exc:
        if is_partial(request):
            return render(
                request,
                f"{CONNECTION_TEMPLATE}#refused",
                {"notice": exc.problem, "staged": staged is not None},
            )
        flash(request, exc.problem)
        return back(request, "subscriptions:detail", pk=subscription.pk)
    flash(request, _test_summary(test))
    return back(request, "subscriptions:detail", pk=subscription.pk)


@require_POST
@require("run_connection_test")
def connection_test_step(request, pk, test_pk):
    test = get_object_or_404(ConnectionTest, pk=test_pk, subscription_id=pk)
    if test.is_staged and not has_perm(request.user, "manage_certificates"):
        raise PermissionDenied
    test = connection_service.connection_test_step(test=test, actor=request.user)
    return _render_test(request, test)


@require_GET
@require("view_subscription")
def connection_tests(request, pk):
    """The Connection section: the test to run, the setup check, the last tests."""
    subscription = subscription_get(pk)
    context = {
        "subscription": subscription,
        "test": latest_own_test(subscription),
        "tests": connection_history(subscription, limit=connection_service.HISTORY_KEPT),
        "health": subscription_health(subscription),
        "return_to": return_to(request),
        "nav": "subscriptions",
    }
    # ?part=history: the health line and the table, read again when a test ends.
    template = CONNECTION_TEMPLATE
    if request.GET.get("part") == "history":
        template = partial_or_page(request, CONNECTION_TEMPLATE, "history")
    return render(request, template, context)
