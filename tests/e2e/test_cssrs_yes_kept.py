"""Issue 17: a participant answers C-SSRS q2 "no" and then q3 "yes" in the portal. Skip logic
decides what is asked, never what is kept: the "yes" is stored, the care team is alerted (a
safety event and the clinician's notification), and the clinician sees the administration
marked inconsistent for review."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.measures.actions import schedule_set
from openiop.measures.models import Assessment
from openiop.safety.models import SafetyEvent, SafetyNotification
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _answer(page, number: int, choice: str) -> None:
    group = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
    group.get_by_text(choice, exact=True).click()


def test_portal_yes_after_a_skipping_no_alerts_the_care_team(page, live_server, settings):
    settings.OPENIOP_SAFETY_POLL_SECONDS = 2
    world = build_world()
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="cssrs", cadences=["monthly"]
    )
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    page.goto(f"{base}/me/measures/cssrs/")
    expect(page.get_by_text("blank", exact=False)).to_have_count(0)
    for number, choice in [(1, "No"), (2, "No"), (3, "Yes"), (4, "No"), (5, "No"), (6, "No")]:
        _answer(page, number, choice)
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url(f"{base}/me/help/sent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your care team has been told")

    row = Assessment.objects.get(participant=world.participant_a, instrument="cssrs")
    assert (row.answers, row.critical, row.inconsistent) == (
        [0, 0, 1, 0, 0, 0, None],
        ["q3"],
        ["q3", "q4", "q5"],
    )
    event = SafetyEvent.objects.get(participant=world.participant_a)
    assert (event.source, event.assessment_id) == ("cssrs", row.external_id)
    assert SafetyNotification.objects.filter(event=event, recipient=world.clinician_a).exists()

    # The clinician is alerted in the app and sees the answer kept, flagged for review.
    clinician = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    desk = clinician.new_page()
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
    desk.goto(f"{base}/accounts/login/")
    desk.get_by_label("Username").fill(world.clinician_a.username)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    desk.get_by_role("button", name="Continue").click()
    desk.wait_for_url(re.compile(r"/p/"))
    expect(desk.locator("#safety-badge")).to_contain_text("1 safety alert", timeout=15000)
    desk.goto(
        f"{base}/p/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/measures/a/{row.external_id}/"
    )
    expect(
        desk.get_by_role("heading", name="Inconsistent administration: review it")
    ).to_be_visible()
    expect(
        desk.get_by_text(re.compile(r"q3 was answered yes \(1\) although q2 is no"))
    ).to_be_visible()
    clinician.close()
