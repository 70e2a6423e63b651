"""create_user: a person with a role from the command line, password never on it."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from subscriptions.models import AuditEvent
from subscriptions.permissions import user_role

GOOD = "a long and unusual passphrase 7"


@pytest.fixture
def password_file(tmp_path):
    def write(text):
        path = tmp_path / "password.txt"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def create(*args):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_creates_a_user_with_the_role_from_a_password_file(db, password_file):
    path = password_file(GOOD + "\nsecond line is ignored\n")
    output = create(
        "dora", "--role", "auditor", "--password-file", path, "--email", "d@example.org"
    )
    assert output == "Created dora with the role Auditor.\n"
    user = get_user_model().objects.get(username="dora")
    assert user.check_password(GOOD)
    assert user.email == "d@example.org"
    assert user_role(user) == "Auditor"
    event = AuditEvent.objects.get(action="user.created")
    assert event.actor_name == "system (command line)"
    assert event.changes == {"username": [None, "dora"], "role": [None, "Auditor"]}
    assert GOOD not in str(event.changes) + event.reason


@pytest.mark.parametrize("role", ["support", "administrator"])
def test_each_role_can_be_given(db, password_file, role):
    create("eve", "--role", role, "--password-file", password_file(GOOD))
    assert user_role(get_user_model().objects.get(username="eve")) == role.capitalize()


def test_an_unknown_role_is_refused(db, password_file):
    with pytest.raises(CommandError, match="invalid choice: 'superuser'"):
        create("frank", "--role", "superuser", "--password-file", password_file(GOOD))
    assert not get_user_model().objects.filter(username="frank").exists()


def test_an_existing_user_is_refused_whatever_the_case(db, password_file, support_user):
    for name in ("sam-support", "Sam-Support"):
        with pytest.raises(CommandError, match="already exists"):
            create(name, "--role", "auditor", "--password-file", password_file(GOOD))
    assert user_role(get_user_model().objects.get(username="sam-support")) == "Support"
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "password, message",
    [
        ("Xq7!pz", "too short"),
        ("123456789012345", "entirely numeric"),
        ("password12345", "too common"),
        ("gregory-the-great", "too similar"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(db, password_file, password, message):
    with pytest.raises(CommandError, match=message) as exc:
        create("gregory-the-great", "--role", "support", "--password-file", password_file(password))
    assert password not in str(exc.value)
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.exists()


def test_unreadable_or_empty_password_file_is_refused(db, password_file, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the password file"):
        create("hank", "--role", "support", "--password-file", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="first line is empty"):
        create("hank", "--role", "support", "--password-file", password_file("\n" + GOOD))
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["bad name!", "--role", "support"], "Username not valid"),
        (["ivy", "--role", "support", "--email", "not-an-address"], "E-mail address not valid"),
    ],
)
def test_bad_username_or_email_is_refused(db, password_file, args, message):
    with pytest.raises(CommandError, match=message):
        create(*args, "--password-file", password_file(GOOD))
    assert not get_user_model().objects.exists()
