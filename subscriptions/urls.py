"""Every URL of the dashboard, grouped by concept.

Most URL names are their view's name (``route``), so a URL name found in a template leads
straight to its view.
"""

from django.urls import path

from .views import (
    api_tokens,
    audit,
    auth_details,
    certificates,
    connection,
    events,
    governance,
    history,
    inbound,
    inventory,
    jobs,
    landing,
    lockouts,
    mfa,
    monitoring,
    people,
    records,
    setup_check,
    snapshots,
    subscriptions,
    webhooks,
)

app_name = "subscriptions"

S = "subscriptions/<int:pk>/"
CERT = S + "certificates/<int:cert_pk>/"
ENTRY = S + "auth-details/<int:entry_id>/"


def route(pattern: str, view):
    return path(pattern, view, name=view.__name__)


urlpatterns = [
    # Where a login without a "next" leads (LOGIN_REDIRECT_URL), by role
    route("start/", landing.landing),
    # Subscriptions
    path("subscriptions/", subscriptions.subscription_list, name="list"),
    path("subscriptions/new/", subscriptions.subscription_create, name="create"),
    route("subscriptions/api-url/", subscriptions.api_url_preview),
    path(S, subscriptions.subscription_detail, name="detail"),
    path(S + "edit/", subscriptions.subscription_edit, name="edit"),
    path(S + "delete/", subscriptions.subscription_delete, name="delete"),
    route(S + "webhook-key/", subscriptions.webhook_key_regenerate),
    # A subscription's History section: its entries of the audit trail
    route(S + "history/", history.subscription_history),
    # Connection tests
    route(S + "connection-test/", connection.connection_test),
    route(S + "connection-test/<int:test_pk>/next/", connection.connection_test_step),
    route(S + "connection-tests/", connection.connection_tests),
    # Monitoring: scheduled connection tests and the notices they raise
    route(S + "connection-tests/schedule/", monitoring.connection_test_schedule),
    route(S + "notices/<int:notice_pk>/acknowledge/", monitoring.notice_acknowledge),
    # Certificates
    route(S + "certificates/", certificates.certificates),
    route(S + "certificates/generate/", certificates.certificate_generate),
    route(S + "certificates/upload/", certificates.certificate_upload),
    route(CERT + "certificate-id/", certificates.certificate_set_id),
    route(CERT + "register-in-simulator/", certificates.certificate_register_in_simulator),
    route(CERT + "activate/", certificates.certificate_activate),
    route(CERT + "discard/", certificates.certificate_discard),
    route(CERT + "download/", certificates.certificate_download),
    route(S + "certificates/rotate/confirm/", certificates.certificate_rotate_confirm),
    route(S + "certificates/rotate/", certificates.certificate_rotate),
    route(S + "certificates/netsuite/", certificates.certificate_netsuite_list),
    route(S + "certificates/netsuite/revoke/confirm/", certificates.certificate_revoke_confirm),
    route(S + "certificates/netsuite/revoke/", certificates.certificate_revoke_in_netsuite),
    # Webhooks
    route("webhooks/", webhooks.webhooks_overview),
    route(S + "webhooks/", webhooks.webhooks),
    route(S + "webhooks/toggle/", webhooks.webhook_toggle),
    route(S + "webhooks/all/", webhooks.webhook_set_all),
    route(S + "webhooks/reapply/", webhooks.webhook_reapply),
    # iPaaS Auth Details
    # NetSuite's last answers, shown to read-only viewers: asked again on request
    route(S + "netsuite/<slug:kind>/refresh/", snapshots.netsuite_refresh),
    route(S + "auth-details/", auth_details.auth_details),
    path(ENTRY, auth_details.auth_details_edit, name="auth_details_edit"),
    route(ENTRY + "use-dashboard/", auth_details.auth_details_use_dashboard),
    # Inbound webhooks (the key is the only way in) and the events they leave
    path("hooks/netsuite/<int:pk>/", inbound.inbound_webhook, name="inbound_webhook"),
    route(S + "events/", events.events),
    route(S + "events/manual-sync/", events.events_manual_sync),
    # Setup check
    route(S + "setup-check/", setup_check.setup_check),
    # Governance
    route(S + "governance/", governance.governance),
    route(S + "governance/apply/", governance.governance_apply),
    # Jobs and initialization
    route(S + "jobs/", jobs.subscription_jobs),
    route(S + "initialize/", jobs.initialization_start),
    route(S + "poll-inventory/", jobs.polling_start),
    route(S + "polling/", jobs.polling_settings),
    route(S + "records/<str:record_type>/", records.records),
    route(S + "inventory/", inventory.inventory),
    route("jobs/", jobs.jobs),
    route("jobs/<int:job_pk>/", jobs.job_detail),
    route("jobs/<int:job_pk>/cancel/", jobs.job_cancel),
    route("jobs/<int:job_pk>/retry/", jobs.job_retry),
    # Audit trail
    route("audit/", audit.audit_list),
    route("audit/export.csv", audit.audit_export),
    route("audit/verify/", audit.audit_verify),
    route("audit/<int:pk>/", audit.audit_detail),
    # People
    path("people/", people.people_list, name="people"),
    route("people/<int:pk>/role/", people.people_set_role),
    route("people/<int:pk>/active/", people.people_set_active),
    route("people/<int:pk>/unlock/", people.people_unlock),
    route("people/lockouts/lift/", lockouts.lockout_lift),
    route("people/invite/", people.people_invite),
    route("people/<int:pk>/password-link/", people.people_send_password_link),
    route("people/<int:pk>/second-factor/reset/", mfa.people_mfa_reset),
    # The second factor: a person's own page, enrolment and the code step after the password
    route("second-factor/", mfa.mfa_page),
    route("second-factor/enrol/", mfa.mfa_enrol),
    route("second-factor/verify/", mfa.mfa_verify),
    route("second-factor/recovery-codes/", mfa.mfa_recovery_codes_regenerate),
    # A person's own API tokens (the API itself is subscriptions/api/, under /api/v1/)
    route("account/api-tokens/", api_tokens.api_tokens),
    route("account/api-tokens/<int:token_pk>/revoke/", api_tokens.api_token_revoke),
    # Opened from the emailed link, without a session (Django's view is login_not_required).
    path(
        "people/set-password/<uidb64>/<token>/", people.password_set, name="password_set"
    ),
]
