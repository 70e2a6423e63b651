from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from subscriptions.views.health import healthz, readyz
from subscriptions.views.login import LoginView
from subscriptions.views.metrics import metrics
from subscriptions.views.sso import sso_callback, sso_login


@login_not_required
@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico wherever a page names no icon (an error page, a CSV):
    the one icon is static/favicon.svg, which base.html links. Not permanent: in production
    the static file's name carries its hash, which changes with it."""
    return redirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    # Probes (views/health.py): the process answers; it can work now. No login, no session.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Prometheus's scrape (docs/metrics.md): a token or an allowed address, never a session.
    path("metrics", metrics, name="metrics"),
    # Each role's own page (views/landing.py), so "/login/?next=/" lands by role too.
    path("", RedirectView.as_view(pattern_name="subscriptions:landing"), name="home"),
    # Django's, saying when a session expired and what it did not save (views/login.py).
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect, views/sso.py): out to the provider and back from it.
    path("login/sso/", sso_login, name="sso_login"),
    path("login/sso/callback/", sso_callback, name="sso_callback"),
    # The automation API (subscriptions/api/): personal tokens, no session, its own errors.
    path("api/v1/", include("subscriptions.api.urls")),
    path("", include("subscriptions.urls")),
]

# Error pages that never re-read the request body (see subscriptions/views/errors.py).
handler400 = "subscriptions.views.errors.bad_request"
handler403 = "subscriptions.views.errors.permission_denied"
handler500 = "subscriptions.views.errors.server_error"
