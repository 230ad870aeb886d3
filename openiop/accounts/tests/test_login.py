from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.testing import PASSWORD, World

pytestmark = pytest.mark.django_db


def test_login_page_is_public():
    assert Client().get("/accounts/login/").status_code == 200


def test_login_page_names_the_crisis_line_without_an_account():
    """Discharge ends portal access (no alumni accounts yet): someone who can no longer log
    in still finds 988 and 911 on the page they land on."""
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="tel:988"' in page and 'href="tel:911"' in page


def test_staff_login_sets_up_authenticator_then_lands_on_program(world: World):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/setup/")
    setup = client.get(response["Location"])
    assert setup.status_code == 200 and b"data:image/svg+xml" in setup.content
    device = TOTPDevice.objects.get(user=world.clinician_a, confirmed=False)
    done = client.post(
        "/accounts/mfa/setup/?next=/", {"code": mfa.current_code(device), "next": "/"}
    )
    assert done.status_code == 302
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == f"/p/{world.program_a.external_id}/"


def test_staff_with_device_verifies_code(world: World):
    device = TOTPDevice.objects.create(user=world.clinician_a, name="a", confirmed=True)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
    )
    assert response["Location"].startswith("/accounts/mfa/verify/")
    assert client.get(f"/p/{world.program_a.external_id}/").status_code == 403
    ok = client.post("/accounts/mfa/verify/", {"code": mfa.current_code(device), "next": "/"})
    assert ok.status_code == 302
    assert client.get(f"/p/{world.program_a.external_id}/").status_code == 200


def test_participant_login_needs_no_second_factor(world: World):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": world.participant_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/", follow=True).redirect_chain[-1] == ("/me/", 302)
    assert client.get("/me/").status_code == 200


def test_participant_with_authenticator_is_asked_for_it(world: World):
    """AUTH-04: offered to participants, and once set up it is asked for at log-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.participant_user, name="phone", confirmed=True)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": world.participant_user.username, "password": PASSWORD}
    )
    assert response["Location"].startswith("/accounts/mfa/verify/")
    assert client.get("/me/").status_code == 403


def test_wrong_password_and_unknown_user_read_the_same(world: World):
    wrong = Client().post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": "nope-nope-nope"}
    )
    unknown = Client().post(
        "/accounts/login/", {"username": "nobody-here", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert b"do not match an account" in wrong.content
    assert b"do not match an account" in unknown.content


def test_logout_needs_post(world: World, client_for):
    client = client_for(world.clinician_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(f"/p/{world.program_a.external_id}/").status_code == 302


def test_healthz_has_no_clinical_data(world: World):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_wrong_code_is_refused_and_throttled(world: World):
    device = TOTPDevice.objects.create(user=world.clinician_a, name="a", confirmed=True)
    client = Client()
    client.post("/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD})
    good = mfa.current_code(device)
    wrong = client.post(
        "/accounts/mfa/verify/", {"code": "000000" if good != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and b"did not match" in wrong.content
    # django-otp throttles after a failure: even the right code waits a moment.
    assert client.post("/accounts/mfa/verify/", {"code": good}).status_code == 422
    assert client.get(f"/p/{world.program_a.external_id}/").status_code == 403
