"""Issue 15 section 7 in a real browser on a phone (390x844): a participant answers PHQ-9
item 9 "several days", leaves the rest empty and navigates away without sending. The page has
already told the care team (the safety event is open, the participant is told so with 911 and
988), the answers so far are kept as a draft, and the clinician sees the event."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.measures.actions import schedule_set
from openiop.measures.models import Assessment, AssessmentStatus
from openiop.safety.models import SafetyEvent
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# Codes, as the wording of the options depends on the deployment's wording pack.
CODES = {"Not at all": 0, "Several days": 1}


def _answer(page, number: int, choice: str) -> None:
    group = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
    group.locator(f"label:has(input[value='{CODES[choice]}'])").click()


def _eventually(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_item9_answered_and_form_left_raises_the_event(browser, live_server):
    world = build_world()
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    base = live_server.url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    page.goto(f"{base}/me/measures/phq9/")
    _answer(page, 1, "Several days")
    _answer(page, 9, "Several days")
    told = page.get_by_role("heading", name="Your care team has been told")
    expect(told).to_be_visible()
    expect(page.locator('a[href="tel:988"]').first).to_be_visible()
    _answer(page, 2, "Not at all")  # after the alert, before leaving: kept in the draft
    page.get_by_role("link", name="My week").first.click()  # leaves without sending
    page.wait_for_url(f"{base}/me/")

    event = SafetyEvent.objects.get(participant=world.participant_a)
    assert event.source == "phq9_item9"
    draft = _eventually(
        lambda: Assessment.objects.filter(
            external_id=event.assessment_id, answers=[1, 0] + [None] * 6 + [1]
        ).first()
    )
    assert draft is not None and draft.status == AssessmentStatus.DRAFT
    assert SafetyEvent.objects.count() == 1 and Assessment.objects.count() == 1
    phone.close()

    # The clinician sees the event.
    clinician = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = clinician.new_page()
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
    desk.goto(f"{base}/accounts/login/")
    desk.get_by_label("Username").fill(world.clinician_a.username)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    desk.get_by_role("button", name="Continue").click()
    desk.wait_for_url(re.compile(r"/p/"))
    desk.goto(f"{base}/p/{world.program_a.external_id}/safety/")
    expect(desk.get_by_text(event.get_source_display()).first).to_be_visible()
    desk.goto(f"{base}/p/{world.program_a.external_id}/safety/events/{event.external_id}/")
    expect(desk.get_by_text(re.compile("PHQ-9 item 9 answered 1"))).to_be_visible()
    clinician.close()
