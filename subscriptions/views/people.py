"""People: who may use the dashboard, with which role, and whether they may log in; the
invitation and password links, and the page those links open (no session needed there)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from ..forms.people import ActiveForm, InviteForm, ReasonForm, RoleForm
from ..lockout import current_lockouts
from ..models import Role
from ..password_links import password_links
from ..permissions import require
from ..selectors.people import people
from ..services import users as user_services
from ..services.errors import ServiceError

MANAGE = "auth.change_user"


@require_GET
@require(MANAGE)
def people_list(request):
    return _people_page(request, InviteForm())


def _people_page(request, invite_form, status=200):
    context = {
        "nav": "people",
        "people": people(),
        "roles": Role.choices,
        "invite_form": invite_form,
        # Addresses and people locked out now, each liftable (views/lockouts.py).
        "lockouts": current_lockouts(),
    }
    return render(request, "people/list.html", context, status=status)


def _site_url(request) -> str:
    """Where the emailed link points: the configured public address, else this request's
    (its Host header already checked against ALLOWED_HOSTS)."""
    return settings.DASHBOARD_PUBLIC_URL or request.build_absolute_uri("/")


@require_POST
@require(MANAGE)
def people_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            person = user_services.user_invite(
                username=data["username"],
                email=data["email"],
                role=data["role"],
                reason=data["reason"],
                actor=request.user,
                site_url=_site_url(request),
            )
        except ServiceError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"{person.get_username()} is invited: an email with a link to set a password "
                f"went to {person.email}.",
            )
            return redirect("subscriptions:people")
    return _people_page(request, form, status=400)


@require_POST
@require(MANAGE)
def people_send_password_link(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, person, "Password of", form)
    return _change(
        request,
        lambda: user_services.user_send_password_link(
            user=person,
            actor=request.user,
            site_url=_site_url(request),
            reason=form.cleaned_data["reason"],
        ),
        f"A link to set a new password went to {person.email}. The current password works "
        "until the link is used.",
    )


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Django's page for the emailed link (signed, expiring, spent by the password it sets,
    moved out of the URL so it never reaches a Referer header), with two changes: the token
    (``password_links``) also covers the person's access and latest deactivation, and the
    session keeps only its seal, never a token that could be replayed from the session table.
    The password is set by the service, so it goes on the audit trail. No session needed."""

    template_name = "people/set_password.html"
    success_url = reverse_lazy("login")
    token_generator = password_links
    # Django's view shows a spent link's page whatever the method (its dispatch answers before
    # the method is looked at): a wrong method is a 405 here as on every other page.
    http_method_names = ["get", "post", "head", "options"]

    @method_decorator([login_not_required, sensitive_post_parameters(), never_cache])
    def dispatch(self, request, *args, **kwargs):
        # Django's dispatch, but with the seal in the session instead of the token.
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        self.validlink = False
        self.user = self.get_user(kwargs["uidb64"])
        token = kwargs["token"]
        if self.user is not None:
            if token == self.reset_url_token:
                sealed = request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN)
                if password_links.check_sealed(self.user, sealed):
                    self.validlink = True
                    # FormView's dispatch: the method's handler (Django's would check again).
                    return super(auth_views.PasswordResetConfirmView, self).dispatch(
                        request, *args, **kwargs
                    )
            elif password_links.check_token(self.user, token):
                request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN] = password_links.seal(
                    token
                )
                return HttpResponseRedirect(request.path.replace(token, self.reset_url_token))
        return self.render_to_response(self.get_context_data())

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A deactivated person's old link must not bring them back.
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["link_days"] = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
        return context

    def form_valid(self, form):
        try:
            user_services.user_set_password(
                user=self.user, password=form.cleaned_data["new_password1"], actor=self.user
            )
        except ServiceError as exc:
            for error in exc.errors.get("new_password1", [exc.message]):
                form.add_error("new_password1", error)
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password is set. Log in with it.")
        return HttpResponseRedirect(self.get_success_url())


password_set = PasswordSetView.as_view()


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
