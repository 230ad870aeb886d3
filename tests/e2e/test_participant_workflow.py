"""A clinician logs in, finds a participant, opens the chart and admits someone new."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.participants.models import Participant
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, user) -> None:
    """Password, then the authenticator code, as a staff member logs in."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/accounts/mfa/verify/"))
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()


def test_login_find_participant_open_chart_admit(page, live_server):
    world = build_world()
    _login(page, live_server, world.clinician_a)
    page.wait_for_url(re.compile(r"/p/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", name="Program A").is_visible()

    page.get_by_role("link", name="Find a participant").click()
    page.get_by_label("Search").fill("quill")  # htmx search as you type
    page.wait_for_url(re.compile(r"q=quill"))
    page.get_by_role("link", name="Avery Quillby").click()

    header = page.get_by_label("Participant")
    assert "AM track" in header.inner_text()
    assert "Engagement" in header.inner_text()

    page.get_by_role("link", name="Program A").click()
    page.get_by_role("link", name="Admit a participant").click()
    page.get_by_label("Legal first name").fill("Morgan")
    page.get_by_label("Legal last name").fill("Sorrelwick")
    page.get_by_label("Date of birth").fill("1991-03-14")
    page.get_by_label("Track").select_option(label="AM track")
    page.get_by_label("Primary clinician").select_option(label=str(world.clinician_a))
    page.get_by_role("button", name="Admit").click()

    page.wait_for_url(re.compile(r"/participants/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", name="Morgan Sorrelwick").is_visible()
    assert Participant.objects.filter(legal_last_name="Sorrelwick").exists()
    assert page.console_errors == []  # no CSP violations or script errors


def test_admit_error_names_field_in_browser(page, live_server):
    world = build_world()
    _login(page, live_server, world.intake_a)
    page.wait_for_url(re.compile(r"/p/[0-9a-f-]+/$"))
    page.goto(f"{live_server.url}/p/{world.program_a.external_id}/participants/admit/")
    page.get_by_label("Legal last name").fill("Nofirstname")
    page.get_by_role("button", name="Admit").click()
    summary = page.get_by_role("alert")
    assert "Legal first name: This field is required." in summary.inner_text()
    assert page.get_by_label("Legal last name").input_value() == "Nofirstname"  # nothing lost


def test_participant_list_works_on_a_phone(phone_page, live_server):
    world = build_world()
    _login(phone_page, live_server, world.clinician_a)
    phone_page.wait_for_url(re.compile(r"/p/[0-9a-f-]+/$"))
    phone_page.goto(f"{live_server.url}/p/{world.program_a.external_id}/participants/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px phone"
    phone_page.keyboard.press("Tab")
    focused = phone_page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in focused
