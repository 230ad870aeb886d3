"""security.md Identity and sessions: one test (or more) per control, named after its ID."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.accounts.actions import user_create
from openiop.accounts.models import User, UserSession
from openiop.core.errors import ActionError
from openiop.testing import PASSWORD, World
from tests.routes import PUBLIC_ROUTES, api_operations, valid_body, web_routes

pytestmark = pytest.mark.django_db
ARGON2 = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def _login_with_mfa(user: User) -> Client:
    device = TOTPDevice.objects.filter(
        user=user, confirmed=True
    ).first() or TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    client.post("/accounts/mfa/verify/", {"code": mfa.current_code(device), "next": "/"})
    return client


# AUTH-01 -------------------------------------------------------------------------------


def test_AUTH_01_user_ids_are_unique_and_never_reused(world: World):
    ids = list(User.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    world.clinician_a.is_active = False
    world.clinician_a.save()
    with pytest.raises(ActionError) as exc:
        user_create(
            actor=None, username=world.clinician_a.username, password="another-long-passphrase"
        )
    assert "username" in exc.value.errors


# AUTH-02 -------------------------------------------------------------------------------


@override_settings(PASSWORD_HASHERS=ARGON2)
def test_AUTH_02_argon2id_is_used_for_new_passwords():
    user = user_create(actor=None, username="hashcheck", password="a perfectly fine passphrase")
    assert user.password.startswith("argon2$argon2id$")


@override_settings(PASSWORD_HASHERS=ARGON2)
def test_AUTH_02_legacy_hash_upgraded_at_login(world: World):
    user = world.participant_user
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short-11ch", False),  # under 12
        ("twelve chars", True),
        ("x" * 100 + " long passphrase", True),  # far beyond 64 is fine
        ("password1234", False),  # common
        ("alllowercaseletters", True),  # no composition rules
        ("z" * 300, False),  # absurd length refused
    ],
)
def test_AUTH_02_password_policy(password: str, ok: bool):
    if ok:
        user_create(actor=None, username=f"p{len(password)}", password=password)
    else:
        with pytest.raises(ActionError) as exc:
            user_create(actor=None, username=f"p{len(password)}", password=password)
        assert "password" in exc.value.errors


# AUTH-03 -------------------------------------------------------------------------------


def _strip_tokens(body: bytes) -> bytes:
    return re.sub(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', rb"\1", body)


def test_AUTH_03_unknown_user_and_wrong_password_are_byte_identical(world: World):
    wrong = Client().post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": "wrong-password-1"}
    )
    unknown = Client().post(
        "/accounts/login/", {"username": "no-such-user", "password": "wrong-password-1"}
    )
    assert wrong.status_code == unknown.status_code
    assert _strip_tokens(wrong.content) == _strip_tokens(unknown.content)


def test_AUTH_03_account_locks_after_repeated_failures(world: World):
    for i in range(5):
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post(
            "/accounts/login/",
            {"username": world.clinician_a.username, "password": "wrong-password-1"},
        )
    locked = Client(REMOTE_ADDR="10.0.0.99").post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
    )
    assert locked.status_code == 429 and b"Too many failed attempts" in locked.content
    unknown_locked = None
    for i in range(6):
        unknown_locked = Client(REMOTE_ADDR=f"10.0.1.{i + 1}").post(
            "/accounts/login/", {"username": "ghost-user", "password": "wrong-password-1"}
        )
    assert unknown_locked is not None and unknown_locked.status_code == 429
    assert _strip_tokens(unknown_locked.content) == _strip_tokens(locked.content)


def test_AUTH_03_address_locks_after_repeated_failures(world: World):
    for i in range(5):
        Client(REMOTE_ADDR="10.9.9.9").post(
            "/accounts/login/", {"username": f"guess{i}", "password": "wrong-pass-12"}
        )
    blocked = Client(REMOTE_ADDR="10.9.9.9").post(
        "/accounts/login/", {"username": world.supervisor_a.username, "password": PASSWORD}
    )
    assert blocked.status_code == 429


# AUTH-04 -------------------------------------------------------------------------------


def test_AUTH_04_password_only_staff_gets_403_on_every_clinical_route(
    world: World, password_only_client
):
    client = password_only_client(world.clinician_a)
    routes = [
        r
        for r in web_routes(world)
        if r.name not in PUBLIC_ROUTES and not r.name.startswith("accounts:")
    ]
    assert len(routes) >= 10
    for route in routes:
        response = client.get(route.path)
        assert response.status_code in (403, 405), (route.name, response.status_code)
        assert b"Quillby" not in response.content


def test_AUTH_04_password_only_staff_gets_403_on_every_api_endpoint(
    world: World, password_only_client
):
    client = password_only_client(world.clinician_a)
    for method, path in api_operations(world):
        if path.endswith("openapi.json"):
            continue
        body = json.dumps(valid_body(method, path, world))
        response = client.generic(method, path, data=body, content_type="application/json")
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "mfa_required"


def test_AUTH_04_verified_staff_reaches_clinical_routes(world: World):
    client = _login_with_mfa(world.clinician_a)
    assert client.get(f"/p/{world.program_a.external_id}/participants/").status_code == 200


def test_AUTH_04_participants_are_offered_not_forced(world: World, password_only_client):
    response = password_only_client(world.participant_user).get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/me/"


# AUTH-05 -------------------------------------------------------------------------------


def test_AUTH_05_idle_timeout_at_15_minutes(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _login_with_mfa(world.clinician_a)
        home = f"/p/{world.program_a.external_id}/"
        assert client.get(home).status_code == 200
        key = client.session.session_key
        clock.shift(timedelta(minutes=14, seconds=59))
        assert client.get(home).status_code == 200
        clock.shift(timedelta(minutes=15, seconds=1))
        expired = client.get(home)
        assert expired.status_code == 302 and expired["Location"] == "/accounts/locked/"
        assert not Session.objects.filter(session_key=key).exists()  # destroyed server-side
        assert client.get(home).status_code == 302


def test_AUTH_05_absolute_timeout_at_12_hours(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _login_with_mfa(world.clinician_a)
        home = f"/p/{world.program_a.external_id}/"
        for _ in range(12 * 6 - 1):  # active every 10 minutes for just under 12 hours
            clock.shift(timedelta(minutes=10))
            assert client.get(home).status_code == 200
        clock.shift(timedelta(minutes=10, seconds=1))
        assert client.get(home)["Location"] == "/accounts/locked/"


def test_AUTH_05_lock_screen_shows_no_clinical_data(world: World):
    client = _login_with_mfa(world.clinician_a)
    client.get(f"/p/{world.program_a.external_id}/participants/")
    locked = client.get("/accounts/locked/")
    assert locked.status_code == 200
    assert b"Quillby" not in locked.content and b"Avery" not in locked.content
    assert client.get(f"/p/{world.program_a.external_id}/").status_code == 302  # session ended


def test_AUTH_05_signed_in_pages_are_not_cached(world: World, client_for):
    response = client_for(world.clinician_a).get(f"/p/{world.program_a.external_id}/")
    assert "no-store" in response["Cache-Control"]


def test_AUTH_05_api_answers_session_expired(world: World):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _login_with_mfa(world.clinician_a)
        clock.shift(timedelta(minutes=16))
        response = client.get(f"/api/v1/programs/{world.program_a.external_id}/participants")
        assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


# AUTH-06 -------------------------------------------------------------------------------


def test_AUTH_06_new_session_id_at_login_and_second_factor(world: World):
    device = TOTPDevice.objects.create(user=world.clinician_a, name="t", confirmed=True)
    client = Client()
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    client.post("/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD})
    after_password = client.session.session_key
    client.post("/accounts/mfa/verify/", {"code": mfa.current_code(device), "next": "/"})
    after_mfa = client.session.session_key
    assert len({before, after_password, after_mfa}) == 3


def test_AUTH_06_logout_ends_other_sessions(world: World):
    laptop = _login_with_mfa(world.clinician_a)
    phone_key = _login_with_mfa(world.clinician_a).session.session_key
    assert Session.objects.filter(session_key=phone_key).exists()
    laptop.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=phone_key).exists()
    assert not UserSession.objects.filter(user=world.clinician_a).exists()


def test_AUTH_06_password_change_ends_other_sessions(world: World):
    laptop = _login_with_mfa(world.clinician_a)
    phone = _login_with_mfa(world.clinician_a)
    response = laptop.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password": "a brand new passphrase"}
    )
    assert response.status_code == 302
    assert laptop.get(f"/p/{world.program_a.external_id}/").status_code == 200
    assert phone.get(f"/p/{world.program_a.external_id}/").status_code == 302


def test_AUTH_06_password_change_errors_name_the_field(world: World):
    client = _login_with_mfa(world.clinician_a)
    bad = client.post(
        "/accounts/password/", {"old_password": "wrong-one-here", "new_password": "short"}
    )
    assert bad.status_code == 422 and b"Current password:" in bad.content


# AUTH-07 -------------------------------------------------------------------------------


def test_AUTH_07_role_change_needs_recent_reauth(world: World, client_for):
    path = f"/p/{world.program_a.external_id}/staff/"
    body = {"username": world.billing_a.username, "role": "intake"}
    stale = client_for(world.director_a).post(path, body)
    assert stale.status_code == 403 and b"reauth_required" in stale.content
    fresh = client_for(world.director_a, stepped_up=True).post(path, body)
    assert fresh.status_code == 302
    assert world.billing_a.memberships.filter(role="intake", is_active=True).exists()


def test_AUTH_07_reauth_expires_after_five_minutes(world: World, client_for):
    client = client_for(world.director_a, stepped_up=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=5)):
        session = client.session
        session["openiop_last_seen"] = timezone.now().timestamp()  # not idle, only stale
        session.save()
        response = client.post(
            f"/p/{world.program_a.external_id}/staff/", {"username": "x", "role": "intake"}
        )
    assert response.status_code == 403


def test_AUTH_07_mfa_change_needs_recent_reauth(world: World, client_for):
    assert client_for(world.clinician_a).post("/accounts/mfa/reset/").status_code == 403
    assert (
        client_for(world.clinician_a, stepped_up=True).post("/accounts/mfa/reset/").status_code
        == 302
    )
    assert not TOTPDevice.objects.filter(user=world.clinician_a).exists()


def test_AUTH_07_reauth_page_accepts_password_and_code(world: World):
    client = _login_with_mfa(world.director_a)
    device = TOTPDevice.objects.get(user=world.director_a)
    wrong = client.post("/accounts/reauth/", {"password": "nope-nope-nope", "code": "000000"})
    assert wrong.status_code == 422
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        session = client.session
        session["openiop_last_seen"] = timezone.now().timestamp()
        session.save()
        ok = client.post(
            "/accounts/reauth/",
            {"password": PASSWORD, "code": mfa.current_code(device), "next": "/"},
        )
        assert ok.status_code == 302
        grant = client.post(
            f"/p/{world.program_a.external_id}/staff/",
            {"username": world.billing_a.username, "role": "intake"},
        )
    assert grant.status_code == 302


def test_AUTH_07_api_reports_reauth_required(world: World, client_for, monkeypatch):
    from openiop.accounts.stepup import ReauthRequired
    from openiop.participants import selectors

    def needs_reauth(**kwargs):
        raise ReauthRequired("reauth_required")

    monkeypatch.setattr(selectors, "participant_get", needs_reauth)
    program, participant = world.program_a.external_id, world.participant_a.external_id
    path = f"/api/v1/programs/{program}/participants/{participant}"
    response = client_for(world.clinician_a).get(path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "reauth_required"


# AUTH-08 -------------------------------------------------------------------------------


def test_AUTH_08_security_headers(world: World, client_for):
    response = client_for(world.clinician_a).get(f"/p/{world.program_a.external_id}/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_AUTH_08_cookies_are_httponly_and_samesite(world: World):
    response = Client().post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_AUTH_08_production_settings_are_strict():
    env = {
        **os.environ,
        "OPENIOP_ENV": "production",
        "OPENIOP_SECRET_KEY": "k" * 64,
        "OPENIOP_ALLOWED_HOSTS": "iop.example.org",
    }
    code = (
        "import json, openiop.settings as s; print(json.dumps({'hsts': s.SECURE_HSTS_SECONDS, "
        "'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'ssl': s.SECURE_SSL_REDIRECT, "
        "'sc': s.SESSION_COOKIE_SECURE, 'cc': s.CSRF_COOKIE_SECURE, 'debug': s.DEBUG}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    values = json.loads(out.stdout)
    assert values == {
        "hsts": 63072000,
        "sub": True,
        "ssl": True,
        "sc": True,
        "cc": True,
        "debug": False,
    }


def test_AUTH_08_production_refuses_missing_secret_key():
    env = {**os.environ, "OPENIOP_ENV": "production", "OPENIOP_SECRET_KEY": ""}
    out = subprocess.run(
        [sys.executable, "-c", "import openiop.settings"], env=env, capture_output=True, text=True
    )
    assert out.returncode != 0 and "OPENIOP_SECRET_KEY" in out.stderr


def test_AUTH_08_templates_have_no_inline_script_or_style():
    root = Path(__file__).resolve().parent.parent / "openiop"
    offenders = []
    for template in root.rglob("templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{template}: {match.group(0)}")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r'\sstyle\s*=\s*"', text):
            offenders.append(f"{template}: inline handler or style attribute")
    assert offenders == []
