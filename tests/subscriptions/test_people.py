"""The people page: only administrators manage roles, access and lockouts, and never their own
role or access; the reason goes through a form, and a post that is not UTF-8 is a 400."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from subscriptions.models import AuditEvent, Role
from subscriptions.permissions import user_role
from tests.factories import PASSWORD, lock_out
from tests.html import badges, buttons, form_actions, forms, parse, urls

PEOPLE = reverse("subscriptions:people")


def role_url(user):
    return reverse("subscriptions:people_set_role", args=[user.pk])


def active_url(user):
    return reverse("subscriptions:people_set_active", args=[user.pk])


def unlock_url(user):
    return reverse("subscriptions:people_unlock", args=[user.pk])


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


# The reason, through a form --------------------------------------------------------------


@pytest.mark.parametrize("action", ["role", "active"])
def test_a_nul_byte_in_the_reason_changes_nothing_on_either_database(
    action, admin_client_, support_user
):
    # PostgreSQL refuses a NUL in text; this used to reach the audit insert and be a 500.
    url = role_url(support_user) if action == "role" else active_url(support_user)
    data = {"role": "auditor"} if action == "role" else {"active": "false"}
    before = (state(support_user), AuditEvent.objects.count())
    response = admin_client_.post(url, {**data, "reason": "ticket\x0042"}, follow=True)
    assert response.status_code == 200
    assert (state(support_user), AuditEvent.objects.count()) == before
    assert any("not changed" in m and "Null characters" in m for m in messages_of(response))


def test_a_reason_longer_than_the_trail_keeps_is_refused(admin_client_, support_user):
    response = admin_client_.post(
        role_url(support_user), {"role": "auditor", "reason": "x" * 2001}, follow=True
    )
    assert state(support_user) == ("Support", True)
    assert any("at most 2000 characters" in m for m in messages_of(response))


def test_the_reason_goes_on_record_stripped(admin_client_, support_user):
    admin_client_.post(role_url(support_user), {"role": "auditor", "reason": "  ticket 42 "})
    assert AuditEvent.objects.get(action="user.role_changed").reason == "ticket 42"


# Form posts that are not UTF-8 ---------------------------------------------------------------


@pytest.fixture
def csrf_admin(admin_user):
    """An administrator's client that checks CSRF as a browser's requests are checked."""
    web = Client(enforce_csrf_checks=True)
    web.force_login(admin_user)
    web.get(PEOPLE)
    return web, web.cookies["csrftoken"].value


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"role=auditor&reason=%FF%FE", "application/x-www-form-urlencoded; charset=utf-8"),
        (b"role=auditor&reason=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"role=auditor&reason=caf%E9", "application/x-www-form-urlencoded; charset=latin-1"),
    ],
    ids=["percent-encoded", "raw-bytes", "other-charset"],
)
def test_a_form_post_that_is_not_utf8_is_a_400_and_changes_nothing(
    body, content_type, csrf_admin, support_user
):
    web, token = csrf_admin
    before = (state(support_user), AuditEvent.objects.count())
    response = web.post(
        role_url(support_user),
        b"csrfmiddlewaretoken=" + token.encode() + b"&" + body,
        content_type=content_type,
    )
    assert response.status_code == 400
    assert b"could not be read" in response.content
    assert (state(support_user), AuditEvent.objects.count()) == before


def test_the_400_page_does_not_check_csrf_again(csrf_admin, support_user, settings):
    # Too many fields fail the CSRF check's own read of the body: the 400 handler must not
    # read it again (Django's default one does, and became a 500).
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    web, token = csrf_admin
    fields = "&".join(f"f{i}=x" for i in range(10))
    response = web.post(
        role_url(support_user),
        f"csrfmiddlewaretoken={token}&role=auditor&{fields}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert state(support_user) == ("Support", True)


def test_a_utf8_post_through_the_same_checks_still_works(csrf_admin, support_user):
    web, token = csrf_admin
    response = web.post(
        role_url(support_user),
        f"csrfmiddlewaretoken={token}&role=auditor&reason=caf%C3%A9".encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="user.role_changed").reason == "café"


# Lifting a login lockout ---------------------------------------------------------------------


def test_a_locked_out_person_is_shown_and_an_administrator_unlocks_them(
    admin_client_, support_user
):
    lock_out("sam-support")
    locked = Client(REMOTE_ADDR="192.0.2.10")
    login = {"username": "sam-support", "password": PASSWORD}
    assert locked.post(reverse("login"), login).status_code == 429

    page = admin_client_.get(PEOPLE)
    assert unlock_url(support_user) in form_actions(page)
    assert ("warn", "Locked out") in badges(page)
    assert "Unlock sam-support" in buttons(page)

    response = admin_client_.post(unlock_url(support_user), {"reason": "phoned in"}, follow=True)
    assert "sam-support can try to log in again." in messages_of(response)
    event = AuditEvent.objects.get(action="user.unlocked")
    assert (event.actor_name, event.target_repr, event.reason) == (
        "alice-admin", "sam-support", "phoned in"
    )
    assert event.changes == {"failed login records cleared": 1}
    assert locked.post(reverse("login"), login).status_code == 302
    assert unlock_url(support_user) not in form_actions(admin_client_.get(PEOPLE))


def test_unlocking_someone_not_locked_out_puts_nothing_on_record(admin_client_, support_user):
    response = admin_client_.post(unlock_url(support_user), follow=True)
    assert "sam-support was not locked out." in messages_of(response)
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR, None])
def test_only_an_administrator_unlocks(role, role_users, client, client_for, make_user):
    from axes.models import AccessAttempt

    victim = make_user("locked-one", Role.SUPPORT)
    lock_out("locked-one")
    web = client_for(role_users[role]) if role else client
    response = web.post(unlock_url(victim))
    assert response.status_code == (302 if role is None else 403)
    assert AccessAttempt.objects.filter(username="locked-one").exists()
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()


def test_unlock_is_a_post(admin_client_, support_user):
    lock_out("sam-support")
    assert admin_client_.get(unlock_url(support_user)).status_code == 405
    assert not AuditEvent.objects.filter(action="user.unlocked").exists()

