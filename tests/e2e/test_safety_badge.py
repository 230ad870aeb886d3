"""A PHQ-9 item 9 answer reaches the clinician's open page without a reload."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.measures.actions import assessment_record
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_safety_alert_appears_without_reload(page, live_server, settings):
    settings.OPENIOP_SAFETY_POLL_SECONDS = 2
    world = build_world()
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.clinician_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))
    url_before = page.url
    expect(page.locator("#safety-badge")).to_have_text("")
    assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="phq9",
        answers=[0, 0, 0, 0, 0, 0, 0, 0, 1],
    )
    expect(page.locator("#safety-badge")).to_contain_text("1 safety alert", timeout=15000)
    assert page.url == url_before  # no navigation, no reload
