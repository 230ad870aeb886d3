"""Issue 18 item 11: a missing page or a server error shows the site's own page, never
Django's debug page, and the demo serves with those pages."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

from openiop.home import errors

pytestmark = pytest.mark.django_db


def _boom(request):  # a view that fails, for the 500 page
    raise RuntimeError("boom")


urlpatterns = [
    path("boom/", _boom),
]
handler404 = "openiop.home.errors.page_not_found"
handler500 = "openiop.home.errors.server_error"


def test_a_missing_page_is_the_sites_404(world, client_for):
    response = client_for(world.clinician_a).get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "Skip to main content" in body  # the site's layout
    assert "Django" not in body and "URLconf" not in body


def test_the_404_for_an_unsigned_in_visitor_is_the_sites_too():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_program_route_that_does_not_resolve_is_the_sites_404(world, client_for):
    url = f"/p/{world.program_a.external_id}/participants/00000000-0000-0000-0000-000000000000/"
    response = client_for(world.clinician_a).get(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_the_sites_500():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "boom" not in body and "Traceback" not in body


def test_the_site_names_its_handlers():
    from openiop import urls

    assert urls.handler404 == "openiop.home.errors.page_not_found"
    assert urls.handler500 == "openiop.home.errors.server_error"
    assert callable(errors.page_not_found) and callable(errors.server_error)


def test_the_demo_serves_with_debug_off(monkeypatch, settings):
    """`openiop demo` turns DEBUG off before it serves, so a 404 there is the page above."""
    from openiop.demo.management.commands import demo

    seen: dict[str, object] = {}

    def fake_call_command(name, *args, **kwargs):
        seen.update(name=name, debug=settings.DEBUG, **kwargs)

    class FakeWorker:
        pid = 1

        def terminate(self) -> None: ...

        def wait(self, timeout: float) -> None: ...

    monkeypatch.setattr(demo, "call_command", fake_call_command)
    monkeypatch.setattr(demo.subprocess, "Popen", lambda *a, **k: FakeWorker())
    monkeypatch.setattr(demo.signal, "signal", lambda *a: None)
    settings.DEBUG = True
    demo.Command().serve("127.0.0.1:8999")
    assert seen["name"] == "runserver"
    assert seen["debug"] is False
    assert seen["insecure_serving"] is True


def test_a_refusal_is_the_sites_403_without_technical_reasons(world, client_for):
    # Billing may not open the safety list: a role refusal ("missing permission ...").
    from openiop.accounts.roles import Role
    from openiop.testing import make_staff

    billing = make_staff(world.program_a, Role.BILLING, first="Bea")
    response = client_for(billing).get(f"/p/{world.program_a.external_id}/safety/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "This page is not available to you" in body
    assert "missing permission" not in body
    assert "ask your program's director" in body.replace("&#x27;", "'")
