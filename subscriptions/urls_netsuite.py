"""URLs of the NetSuite actions (issue #4); included by subscriptions/urls.py."""

from django.urls import path

from .views import netsuite_actions as v

S = "subscriptions/<int:pk>/"

urlpatterns = [
    path(S + "connection-test/", v.connection_test, name="connection_test"),
    path(
        S + "connection-test/<int:test_pk>/next/",
        v.connection_test_step,
        name="connection_test_step",
    ),
    path(S + "connection-tests/", v.connection_tests, name="connection_tests"),
    path(S + "certificates/", v.certificates, name="certificates"),
    path(S + "certificates/generate/", v.certificate_generate, name="certificate_generate"),
    path(S + "certificates/upload/", v.certificate_upload, name="certificate_upload"),
    path(
        S + "certificates/<int:cert_pk>/certificate-id/",
        v.certificate_set_id,
        name="certificate_set_id",
    ),
    path(
        S + "certificates/<int:cert_pk>/register-in-simulator/",
        v.certificate_register_in_simulator,
        name="certificate_register_in_simulator",
    ),
    path(
        S + "certificates/<int:cert_pk>/activate/",
        v.certificate_activate,
        name="certificate_activate",
    ),
    path(
        S + "certificates/<int:cert_pk>/discard/",
        v.certificate_discard,
        name="certificate_discard",
    ),
    path(
        S + "certificates/<int:cert_pk>/download/",
        v.certificate_download,
        name="certificate_download",
    ),
    path(S + "webhooks/", v.webhooks, name="webhooks"),
    path(S + "webhooks/toggle/", v.webhook_toggle, name="webhook_toggle"),
    path(S + "webhooks/all/", v.webhook_set_all, name="webhook_set_all"),
    path(S + "webhooks/reapply/", v.webhook_reapply, name="webhook_reapply"),
    path(S + "auth-details/", v.auth_details, name="auth_details"),
    path(S + "auth-details/<int:entry_id>/", v.auth_details_edit, name="auth_details_edit"),
    path(
        S + "auth-details/<int:entry_id>/use-dashboard/",
        v.auth_details_use_dashboard,
        name="auth_details_use_dashboard",
    ),
    path(S + "governance/", v.governance, name="governance"),
    path(S + "governance/apply/", v.governance_apply, name="governance_apply"),
]
