"""Accessibility: axe-core (axe-playwright-python) on the main staff pages, desktop and phone.
Serious and critical violations fail the test; the rest are printed for follow-up."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}


def _login(page, live_server, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))


def _pages(world) -> list[str]:
    a = world.program_a.external_id
    p = world.participant_a.external_id
    return [
        f"/p/{a}/",
        f"/p/{a}/participants/",
        f"/p/{a}/participants/{p}/",
        f"/p/{a}/participants/admit/",
        f"/p/{a}/sessions/{world.session_a.external_id}/",
        f"/p/{a}/ledger/",
        f"/p/{a}/sessions/",
        f"/p/{a}/settings/",
    ]


def test_main_pages_have_no_serious_accessibility_violations(page, live_server):
    world = build_world()
    axe = Axe()
    _login(page, live_server, world.director_a)
    problems = []
    # The lock screen logs the user out, so it comes last.
    for path in [*_pages(world), "/accounts/locked/"]:
        page.goto(live_server.url + path)
        assert path == "/accounts/locked/" or "/accounts/login/" not in page.url, path
        results = axe.run(page)
        for violation in results.response["violations"]:
            entry = f"{path}: {violation['id']} ({violation['impact']}) x{len(violation['nodes'])}"
            if violation["impact"] in BLOCKING:
                problems.append(entry)
            else:
                print("minor:", entry)
    assert problems == []
