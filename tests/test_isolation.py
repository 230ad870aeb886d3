"""Program isolation and deny-by-default, generated from the URL configuration."""

from __future__ import annotations

import json
import uuid

import pytest

from openiop.testing import World
from tests.routes import PUBLIC_ROUTES, api_operations, valid_body, web_routes

pytestmark = pytest.mark.django_db


def test_AC_02_clinician_of_b_gets_404_on_every_program_a_page(world: World, client_for):
    client = client_for(world.clinician_b)
    routes = web_routes(world, program_scoped_only=True)
    assert len(routes) >= 8  # the walker found the program routes
    for route in routes:
        for method in ("get", "post"):
            response = getattr(client, method)(route.path)
            # A page answers 405 to a method it never takes before any lookup, the same for
            # every id, so it reveals nothing; anything else must be 404.
            assert response.status_code in (404, 405), (route.name, method, response.status_code)
            if response.status_code == 405:
                other = route.path.replace(str(world.program_a.external_id), str(uuid.uuid4()))
                assert getattr(client, method)(other).status_code == 405
            assert b"Avery" not in response.content and b"Quillby" not in response.content


def test_AC_02_clinician_of_b_gets_404_on_every_program_a_api_endpoint(world: World, client_for):
    client = client_for(world.clinician_b)
    ops = [op for op in api_operations(world) if str(world.program_a.external_id) in op[1]]
    assert len(ops) >= 7
    for method, path in ops:
        body = json.dumps(valid_body(method, path, world))
        response = client.generic(method, path, data=body, content_type="application/json")
        assert response.status_code == 404, (method, path, response.status_code, response.content)
        assert response.json()["error"]["code"] == "not_found"
        assert b"Quillby" not in response.content


def test_AC_02_program_b_lists_and_search_never_show_program_a(world: World, client_for):
    client = client_for(world.clinician_b)
    b = world.program_b.external_id
    for query in (
        "",
        "?q=Quillby",
        "?q=Avery&status=all",
        f"?q={world.participant_a.record_number}",
    ):
        page = client.get(f"/p/{b}/participants/{query}")
        assert page.status_code == 200
        # The query itself is echoed in the search box; no result row may name A's participant.
        assert str(world.participant_a.external_id).encode() not in page.content
        assert b"Quillby</a>" not in page.content
    api = client.get(f"/api/v1/programs/{b}/participants?q=Quillby&status=all").json()
    assert api["count"] == 0
    listed = client.get(f"/api/v1/programs/{b}/participants?status=all").json()
    assert {item["id"] for item in listed["items"]} == {str(world.participant_b.external_id)}
    programs = client.get("/api/v1/programs").json()
    assert [p["id"] for p in programs] == [str(world.program_b.external_id)]


def test_participant_account_sees_no_staff_route(world: World, client_for):
    client = client_for(world.participant_user)
    for route in web_routes(world, program_scoped_only=True):
        assert client.get(route.path).status_code in (404, 405), route.name
    for method, path in api_operations(world):
        if str(world.program_a.external_id) in path:
            body = json.dumps(valid_body(method, path, world))
            response = client.generic(method, path, data=body, content_type="application/json")
            assert response.status_code == 404, (method, path)


def test_AC_01_anonymous_is_sent_to_login_on_every_private_route(world: World, client_for):
    client = client_for(None)
    for route in web_routes(world):
        response = client.get(route.path)
        if route.name in PUBLIC_ROUTES:
            assert response.status_code in (200, 405), route.name  # logout takes POST only
        else:
            assert response.status_code == 302, route.name
            assert response["Location"].startswith("/accounts/login/"), route.name


def test_AC_01_anonymous_gets_401_on_every_api_operation(world: World, client_for):
    client = client_for(None)
    for method, path in api_operations(world):
        response = client.generic(method, path, data="{}", content_type="application/json")
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthenticated"
