"""People: who may use the dashboard, with which role, and whether they may log in."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..models import Role
from ..permissions import require
from ..selectors.people import people
from ..services import users as user_services
from ..services.errors import ServiceError

MANAGE = "auth.change_user"


@require_GET
@require(MANAGE)
def people_list(request):
    context = {"nav": "people", "people": people(), "roles": Role.choices}
    return render(request, "people/list.html", context)


def _reason(request) -> str:
    return request.POST.get("reason", "").strip()[:2000]


def _change(request, change, success: str):
    """Call the service; its refusal or ``success`` is the message on the people page."""
    try:
        change()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("subscriptions:people")


@require_POST
@require(MANAGE)
def people_set_role(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    role = request.POST.get("role", "")
    if role not in Role.values:
        labels = ", ".join(label for _, label in Role.choices)
        messages.error(
            request, f"Role of {person.get_username()} not changed: choose one of {labels}."
        )
        return redirect("subscriptions:people")
    return _change(
        request,
        lambda: user_services.user_set_role(
            user=person, role=role, actor=request.user, reason=_reason(request)
        ),
        f"{person.get_username()} is now {Role(role).label}.",
    )


@require_POST
@require(MANAGE)
def people_set_active(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    wanted = request.POST.get("active", "")
    if wanted not in ("true", "false"):
        messages.error(request, f"{person.get_username()} not changed: the request was not valid.")
        return redirect("subscriptions:people")
    active = wanted == "true"
    state = "can log in again" if active else "is deactivated and can no longer log in"
    return _change(
        request,
        lambda: user_services.user_set_active(
            user=person, active=active, actor=request.user, reason=_reason(request)
        ),
        f"{person.get_username()} {state}.",
    )
