from __future__ import annotations

import pytest
from django.test import Client

from openiop.testing import PASSWORD, World

pytestmark = pytest.mark.django_db


def test_login_page_is_public():
    assert Client().get("/accounts/login/").status_code == 200


def test_login_and_land_on_program(world: World):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == f"/p/{world.program_a.external_id}/"


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
