"""Lifting a login lockout (an address, or a person at an address) from the People page.

A confirmed POST: the list's button asks first (a server-rendered step naming who else the
address lets in again, the same with or without JavaScript); only the confirmation's post,
with ``confirmed=1``, calls the service. Administrators only, like everything on People.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..forms.lockouts import LockoutLiftForm
from ..permissions import require
from ..services.errors import ServiceError
from ..services.lockouts import lockout_lift as lift

MANAGE = "auth.change_user"


@require_POST
@require(MANAGE)
def lockout_lift(request):
    form = LockoutLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No lockout lifted: {form.first_error()}")
        return redirect("subscriptions:people")
    data = form.cleaned_data
    who = f"{data['username']} at {data['address']}" if data["username"] else data["address"]
    if not data["confirmed"]:
        context = {"nav": "people", "lockout": data, "who": who}
        return render(request, "people/lockout_confirm.html", context)
    try:
        cleared = lift(
            address=data["address"], username=data["username"], actor=request.user,
            reason=data["reason"],
        )
    except ServiceError as exc:
        problem = next(iter(exc.errors.values()), exc.message)
        messages.error(request, f"No lockout lifted: {problem}")
        return redirect("subscriptions:people")
    if cleared:
        messages.success(request, f"The lockout of {who} is lifted: logins from there are "
                         "counted from zero again.")
    else:
        messages.info(request, f"{who} was not locked out: nothing to lift.")
    return redirect("subscriptions:people")
