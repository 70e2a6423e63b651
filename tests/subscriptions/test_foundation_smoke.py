import pytest
from django.contrib.auth.models import Group

from subscriptions import audit
from subscriptions.models import AuditEvent


@pytest.mark.django_db
def test_migration_creates_the_three_roles_with_their_permissions():
    perms = {
        g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.all()
    }
    assert set(perms) == {"Administrator", "Support", "Auditor"}
    assert "toggle_webhooks" in perms["Support"]
    assert "change_subscription" not in perms["Support"]
    assert perms["Auditor"] == {"view_subscription", "view_auditevent", "export_auditevent"}


@pytest.mark.django_db
def test_creating_a_user_is_audited_and_the_chain_verifies(make_user):
    make_user("bob")
    make_user("carol")
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["user.created", "user.created"]
    assert events[1].prev_hash == events[0].hash
    assert str(audit.verify_chain()) == "intact, 2 events"


@pytest.mark.django_db
def test_the_migration_roles_match_the_live_permission_table():
    from subscriptions.permissions import ensure_role_groups

    def snapshot():
        return {
            g.name: sorted(
                f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()
            )
            for g in Group.objects.all()
        }

    from_migration = snapshot()
    ensure_role_groups()
    assert snapshot() == from_migration
