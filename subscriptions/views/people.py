"""People: who may use the dashboard, with which role, and whether they may log in."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..forms.people import ActiveForm, ReasonForm, RoleForm
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


def _change(request, change, success: str):
    """Call the service; its refusal or ``success`` is the message on the people page."""
    try:
        change()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("subscriptions:people")


def _refused(request, person, what: str, form) -> HttpResponseRedirect:
    if "role" in form.errors:
        labels = ", ".join(label for _, label in Role.choices)
        problem = f"choose one of {labels}."
    elif "active" in form.errors:
        problem = "the request was not valid."
    else:
        problem = form.first_error()
    messages.error(request, f"{what} {person.get_username()} not changed: {problem}")
    return redirect("subscriptions:people")


@require_POST
@require(MANAGE)
def people_set_role(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, person, "Role of", form)
    role = form.cleaned_data["role"]
    return _change(
        request,
        lambda: user_services.user_set_role(
            user=person, role=role, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        f"{person.get_username()} is now {role.label}.",
    )


@require_POST
@require(MANAGE)
def people_set_active(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return _refused(request, person, "Access of", form)
    active = form.cleaned_data["active"]
    state = "can log in again" if active else "is deactivated and can no longer log in"
    return _change(
        request,
        lambda: user_services.user_set_active(
            user=person, active=active, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        f"{person.get_username()} {state}.",
    )


@require_POST
@require(MANAGE)
def people_unlock(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, person, "Lockout of", form)
    cleared = user_services.user_unlock(
        user=person, actor=request.user, reason=form.cleaned_data["reason"]
    )
    if cleared:
        messages.success(request, f"{person.get_username()} can try to log in again.")
    else:
        messages.info(request, f"{person.get_username()} was not locked out.")
    return redirect("subscriptions:people")
