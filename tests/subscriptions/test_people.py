"""The people page: only administrators manage roles and access, and never their own."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from subscriptions.models import AuditEvent, Role
from subscriptions.permissions import user_role
from tests.html import form_actions, forms, parse, urls

PEOPLE = reverse("subscriptions:people")


def role_url(user):
    return reverse("subscriptions:people_set_role", args=[user.pk])


def active_url(user):
    return reverse("subscriptions:people_set_active", args=[user.pk])


def state(user):
    user = get_user_model().objects.get(pk=user.pk)
    return user_role(user), user.is_active


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    "role, expected",
    [(Role.ADMINISTRATOR, 200), (Role.SUPPORT, 403), (Role.AUDITOR, 403), (None, 302)],
)
def test_people_page_by_role(role, expected, role_users, client, client_for):
    web = client_for(role_users[role]) if role else client
    response = web.get(PEOPLE)
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        for user in role_users.values():
            assert user.username in html
        assert "pbkdf2" not in html and "md5$" not in html


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR, None])
@pytest.mark.parametrize(
    "action, data",
    [("role", {"role": "administrator"}), ("active", {"active": "false"})],
)
def test_hand_crafted_posts_by_others_change_nothing(
    role, action, data, role_users, client, client_for
):
    web = client_for(role_users[role]) if role else client
    victim = role_users[Role.SUPPORT if role != Role.SUPPORT else Role.AUDITOR]
    before = (state(victim), AuditEvent.objects.count())
    url = role_url(victim) if action == "role" else active_url(victim)
    response = web.post(url, data)
    assert response.status_code == (302 if role is None else 403)
    if role is None:
        assert response["Location"].startswith(reverse("login"))
    assert (state(victim), AuditEvent.objects.count()) == before


def test_administrator_changes_a_role_and_it_is_audited(admin_client_, support_user):
    response = admin_client_.post(role_url(support_user), {"role": "auditor"}, follow=True)
    assert state(support_user) == ("Auditor", True)
    assert "sam-support is now Auditor." in messages_of(response)
    event = AuditEvent.objects.get(action="user.role_changed")
    assert event.actor_name == "alice-admin"
    assert event.target_repr == "sam-support"
    assert event.changes == {"role": ["Support", "Auditor"]}


def test_a_changed_role_changes_what_the_person_may_do(
    admin_client_, support_user, client_for
):
    support = client_for(support_user)
    assert support.get(reverse("subscriptions:audit_list")).status_code == 403
    admin_client_.post(role_url(support_user), {"role": "auditor"})
    assert client_for(support_user).get(reverse("subscriptions:audit_list")).status_code == 200


def test_an_unknown_role_changes_nothing(admin_client_, support_user):
    response = admin_client_.post(role_url(support_user), {"role": "superuser"}, follow=True)
    assert state(support_user) == ("Support", True)
    assert any("not changed" in m for m in messages_of(response))
    assert not AuditEvent.objects.filter(action="user.role_changed").exists()


def test_an_administrator_cannot_drop_their_own_role(admin_client_, admin_user):
    response = admin_client_.post(role_url(admin_user), {"role": "support"}, follow=True)
    assert state(admin_user) == ("Administrator", True)
    assert any("own Administrator role" in m for m in messages_of(response))
    assert not AuditEvent.objects.filter(action="user.role_changed").exists()


def test_an_administrator_cannot_deactivate_themselves(admin_client_, admin_user):
    response = admin_client_.post(active_url(admin_user), {"active": "false"}, follow=True)
    assert state(admin_user) == ("Administrator", True)
    assert any("cannot deactivate yourself" in m for m in messages_of(response))
    assert response.status_code == 200


def test_deactivating_ends_access_and_activating_restores_it(
    admin_client_, support_user, client_for
):
    support = client_for(support_user)
    assert support.get(reverse("subscriptions:audit_list")).status_code == 403  # logged in

    admin_client_.post(active_url(support_user), {"active": "false"})
    assert state(support_user) == ("Support", False)
    # The open session no longer counts: the next request is sent to the login page.
    response = support.get(reverse("subscriptions:audit_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    admin_client_.post(active_url(support_user), {"active": "true"})
    assert state(support_user) == ("Support", True)
    actions = list(
        AuditEvent.objects.filter(target_repr="sam-support", action__startswith="user.")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert actions[-2:] == [
        ("user.deactivated", {"active": [True, False]}),
        ("user.activated", {"active": [False, True]}),
    ]


def test_a_malformed_active_value_changes_nothing(admin_client_, support_user):
    admin_client_.post(active_url(support_user), {"active": "maybe"})
    assert state(support_user) == ("Support", True)
    assert not AuditEvent.objects.filter(action="user.deactivated").exists()


def test_get_on_the_change_urls_is_refused(admin_client_, support_user):
    assert admin_client_.get(role_url(support_user)).status_code == 405
    assert admin_client_.get(active_url(support_user)).status_code == 405


def test_unknown_person_is_404(admin_client_):
    url = reverse("subscriptions:people_set_role", args=[987654])
    assert admin_client_.post(url, {"role": "support"}).status_code == 404


def test_page_offers_no_self_demotion_controls(admin_client_, admin_user, support_user):
    response = admin_client_.get(PEOPLE)
    assert {role_url(support_user), active_url(support_user)} <= form_actions(response)
    assert all(form.method == "post" for form in forms(response))
    offered = urls(response)
    assert role_url(admin_user) not in offered and active_url(admin_user) not in offered
    label = parse(response).find("label", for_=f"role-{support_user.pk}")
    assert label.text == "Role of sam-support"


def test_a_person_without_a_role_is_not_preselected_as_administrator(admin_client_):
    newcomer = get_user_model().objects.create_user(username="newcomer", password="x" * 20)
    select = parse(admin_client_.get(PEOPLE)).by_id(f"role-{newcomer.pk}")
    chosen = [o for o in select.find_all("option") if o.has("selected")]
    assert [(o["value"], o.text, o.has("disabled")) for o in chosen] == [
        ("", "(no role yet)", True)
    ]


def test_the_last_active_administrator_can_be_neither_demoted_nor_deactivated(make_user):
    from subscriptions.models import AuditEvent, Role
    from subscriptions.services.users import (
        LastAdministratorError,
        user_set_active,
        user_set_role,
    )

    first = make_user("first-admin", Role.ADMINISTRATOR)
    second = make_user("second-admin", Role.ADMINISTRATOR)
    # Two administrators: one may demote the other.
    user_set_role(user=second, role=Role.SUPPORT, actor=first)
    events = AuditEvent.objects.count()
    with pytest.raises(LastAdministratorError, match="last active administrator"):
        user_set_role(user=first, role=Role.AUDITOR, actor=second)
    with pytest.raises(LastAdministratorError):
        user_set_active(user=first, active=False, actor=second)
    first.refresh_from_db()
    assert first.is_active
    assert list(first.groups.values_list("name", flat=True)) == ["Administrator"]
    assert AuditEvent.objects.count() == events
