"""People: who may use the dashboard, with which role, and whether they may log in."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import selectors_audit as selectors
from ..models import Role
from ..permissions import require
from ..services import users as user_services

MANAGE = "auth.change_user"


@require(MANAGE)
@require_GET
def people_list(request):
    context = {
        "nav": "people",
        "people": selectors.people(),
        "roles": Role.choices,
    }
    return render(request, "people/list.html", context)


def _reason(request) -> str:
    return request.POST.get("reason", "").strip()[:2000]


@require(MANAGE)
@require_POST
def people_set_role(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    role = request.POST.get("role", "")
    if role not in Role.values:
        labels = ", ".join(label for _, label in Role.choices)
        messages.error(
            request, f"Role of {person.get_username()} not changed: choose one of {labels}."
        )
        return redirect("subscriptions:people")
    if person.pk == request.user.pk and role != Role.ADMINISTRATOR:
        messages.error(
            request,
            "You cannot remove your own Administrator role: another administrator has to do "
            "it, so the dashboard is never left without one.",
        )
        return redirect("subscriptions:people")
    try:
        user_services.user_set_role(
            user=person, role=role, actor=request.user, reason=_reason(request)
        )
    except user_services.LastAdministratorError as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:people")
    messages.success(request, f"{person.get_username()} is now {Role(role).label}.")
    return redirect("subscriptions:people")


@require(MANAGE)
@require_POST
def people_set_active(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    wanted = request.POST.get("active", "")
    if wanted not in ("true", "false"):
        messages.error(request, f"{person.get_username()} not changed: the request was not valid.")
        return redirect("subscriptions:people")
    active = wanted == "true"
    if person.pk == request.user.pk and not active:
        messages.error(
            request,
            "You cannot deactivate yourself: another administrator has to do it, so the "
            "dashboard is never left without one.",
        )
        return redirect("subscriptions:people")
    try:
        user_services.user_set_active(
            user=person, active=active, actor=request.user, reason=_reason(request)
        )
    except user_services.LastAdministratorError as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:people")
    state = "can log in again" if active else "is deactivated and can no longer log in"
    messages.success(request, f"{person.get_username()} {state}.")
    return redirect("subscriptions:people")
