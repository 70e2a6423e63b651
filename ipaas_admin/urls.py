from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="subscriptions:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("subscriptions.urls")),
]

# Error pages that never re-read the request body (see subscriptions/views/errors.py).
handler400 = "subscriptions.views.errors.bad_request"
handler403 = "subscriptions.views.errors.permission_denied"
handler500 = "subscriptions.views.errors.server_error"
