"""Production mode as deployed: the security headers and cookies of real responses.

A subprocess runs the settings with DJANGO_ENV=production (on its own SQLite file, its
static files collected as ``collectstatic`` would), logs in through the login page and
creates a subscription through the form, all over https as Django sees it, and reports the
headers and cookies. ``manage.py check --deploy`` itself is test_settings.py's
(``test_production_passes_check_deploy_without_warnings``); here the same settings are asked
what they silence.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .test_settings import ROOT, production_env

SCRIPT = r"""
import json, os, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

call_command("migrate", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
from tests import factories

factories.make_user("olga-admin", factories.Role.ADMINISTRATOR)
client = Client(HTTP_HOST="admin.example.com")

def seen(response):
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {
            name: {key: str(morsel[key]) for key in ("secure", "httponly", "samesite")}
            for name, morsel in response.cookies.items()
        },
    }

report = {"silenced": list(settings.SILENCED_SYSTEM_CHECKS)}
report["plain http"] = seen(client.get("/login/"))
report["login page"] = seen(client.get("/login/", secure=True))
report["login"] = seen(client.post(
    "/login/", {"username": "olga-admin", "password": factories.PASSWORD}, secure=True
))
data = factories.create_form_data(private_key_pem=factories.key_pem(factories.ec_key()))
created = client.post(reverse("subscriptions:create"), data, secure=True)
report["create"] = seen(created)
report["shown once"] = seen(client.get(created["Location"], secure=True))
report["list"] = seen(client.get(reverse("subscriptions:list"), secure=True))
print(json.dumps(report))
"""


def run_in_production(tmp_path) -> dict:
    (tmp_path / "deployed_settings.py").write_text(
        "from ipaas_admin.settings import *  # noqa: F403\n"
        # Where collectstatic puts the files; the deployment's own STATIC_ROOT is its business.
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    env = production_env(
        DJANGO_SETTINGS_MODULE="deployed_settings",
        DJANGO_TESTING="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deployed.sqlite3'}",
        # Nothing may leave the machine: any NetSuite call fails at once on a closed port.
        NETSUITE_BASE_URL="https://127.0.0.1:9",
        LOG_LEVEL="WARNING",
        PYTHONPATH=f"{tmp_path}:{ROOT}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_responses_carry_the_security_headers_and_cookie_flags(tmp_path):
    report = run_in_production(tmp_path)
    assert report["silenced"] == [], "a silenced check needs a comment saying why, in settings"

    plain = report["plain http"]
    assert plain["status"] == 301
    assert plain["headers"]["Location"] == "https://admin.example.com/login/"

    for name in ("login page", "login", "create", "shown once", "list"):
        headers = report[name]["headers"]
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        ), name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name

    assert report["login page"]["status"] == 200
    assert report["login"]["status"] == 302
    cookies = {**report["login page"]["cookies"], **report["login"]["cookies"]}
    assert {"sessionid", "csrftoken"} <= set(cookies)
    for name in ("sessionid", "csrftoken"):
        assert cookies[name]["secure"] == "True", name
        assert cookies[name]["httponly"] == "True", name
        assert cookies[name]["samesite"] in ("Lax", "Strict"), name

    assert report["create"]["status"] == 302
    shown = report["shown once"]
    assert shown["status"] == 200
    # The one page that shows the new Webhook API Key: no cache anywhere may keep it.
    assert "no-store" in shown["headers"]["Cache-Control"]
