from django.urls import path

from .views import audit, people, subscriptions

app_name = "subscriptions"

urlpatterns = [
    path("subscriptions/", subscriptions.subscription_list, name="list"),
    path("subscriptions/new/", subscriptions.subscription_create, name="create"),
    path("subscriptions/<int:pk>/", subscriptions.subscription_detail, name="detail"),
    path("subscriptions/<int:pk>/edit/", subscriptions.subscription_edit, name="edit"),
    path("subscriptions/<int:pk>/delete/", subscriptions.subscription_delete, name="delete"),
    path(
        "subscriptions/<int:pk>/webhook-key/",
        subscriptions.webhook_key_regenerate,
        name="webhook_key_regenerate",
    ),
    path("subscriptions/api-url/", subscriptions.api_url_preview, name="api_url_preview"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
    path("audit/<int:pk>/", audit.audit_detail, name="audit_detail"),
    path("people/", people.people_list, name="people"),
    path("people/<int:pk>/role/", people.people_set_role, name="people_set_role"),
    path("people/<int:pk>/active/", people.people_set_active, name="people_set_active"),
]

# NetSuite actions (issue #4): connection test, certificates, webhooks, auth details, governance.
from .urls_netsuite import urlpatterns as _netsuite_urlpatterns  # noqa: E402

urlpatterns += _netsuite_urlpatterns
