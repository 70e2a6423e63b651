"""`make run` creates the first administrator and prints credentials that work, once."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from subscriptions.models import AuditEvent


def run_ensure_admin() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_first_admin_is_created_and_the_printed_password_logs_in():
    from subscriptions.permissions import ensure_role_groups

    ensure_role_groups()
    output = run_ensure_admin()
    username = re.search(r"username: (\S+)", output).group(1)
    password = re.search(r"password: (\S+)", output).group(1)

    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302
    assert client.get("/subscriptions/").status_code == 200
    assert AuditEvent.objects.filter(action="user.created", target_repr=username).exists()


@pytest.mark.django_db
def test_a_second_run_creates_nobody_and_prints_no_password(admin_user):
    output = run_ensure_admin()
    assert "password:" not in output
    assert "alice-admin" in output
