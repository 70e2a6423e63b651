"""The auditor verifies the hash chain from the audit page: intact with its anchor, broken with
the event to open and what to do; a role without the trail gets 403."""

from django.urls import reverse

from tests.html import form_actions, text_of
from tests.subscriptions.test_audit_chain import raw_update, tampering

VERIFY = reverse("subscriptions:audit_verify")


def test_the_audit_page_offers_the_check_and_an_intact_chain_says_so(auditor_client):
    page = auditor_client.get(reverse("subscriptions:audit_list"))
    assert VERIFY in form_actions(page)

    answer = auditor_client.get(VERIFY, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    result = text_of(answer, "audit-chain-result")
    # The auditor's own creation and login are on the trail already.
    assert "The chain is intact: 2 events checked; none was edited" in result
    assert "verify_audit_chain --anchor" in result


def test_a_broken_chain_names_the_event_and_what_to_do(auditor_client):
    from subscriptions.models import AuditEvent

    first = AuditEvent.objects.order_by("id").first()
    with tampering():
        raw_update(first.pk, reason="rewritten")
    answer = auditor_client.get(VERIFY)
    assert answer.status_code == 200
    result = text_of(answer, "audit-chain-result")
    assert f"The chain is broken at event {first.pk}" in result
    assert "What to do" in result
    assert reverse("subscriptions:audit_detail", args=[first.pk]) in answer.content.decode()


def test_support_staff_cannot_run_it(support_client):
    assert support_client.get(VERIFY).status_code == 403
