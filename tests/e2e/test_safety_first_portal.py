"""Issue 17 items 7, 8 and 10 in a real browser on a phone: a check-in whose safety answer is
"yes" but with sleep left blank raises the event at once and comes back with the entries kept,
who was alerted and 911/988; a diary card with "harmed myself" yes lands on the page that says
who was alerted. axe-core finds no serious or critical violations on either page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from openiop.portal.models import CheckIn, DiaryCard
from openiop.safety.models import SafetyEvent
from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}


def _pick(page, group: str, choice: str) -> None:
    page.get_by_role("group", name=re.compile(group)).get_by_text(choice, exact=True).click()


def _blocking(page, axe: Axe) -> list[str]:
    return [
        f"{v['id']} ({v['impact']})"
        for v in axe.run(page).response["violations"]
        if v["impact"] in BLOCKING
    ]


def test_safety_yes_is_kept_when_the_rest_is_incomplete(browser, live_server):
    world = build_world()
    base = live_server.url
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    axe = Axe()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    page.goto(f"{base}/me/check-in/")
    _pick(page, "This check-in is", "Daily")
    _pick(page, "Mood right now", "2")
    _pick(page, "Craving right now", "6")
    _pick(page, "Have you used", "No")
    _pick(page, "Did you take your medication", "Yes, as prescribed")
    _pick(page, "Are you having thoughts", "Yes")
    page.get_by_label("What I want to bring to group today").fill("Marigold words")
    page.get_by_role("button", name="Send check-in").click()  # sleep left blank
    expect(page.get_by_text("We raised an alert from your answer")).to_be_visible()
    expect(page.get_by_text(re.compile("We sent an alert to your clinician"))).to_be_visible()
    expect(page.locator('a[href="tel:911"]').first).to_be_visible()
    expect(page.get_by_label("What I want to bring to group today")).to_have_value("Marigold words")
    assert SafetyEvent.objects.filter(source="checkin").count() == 1
    assert not CheckIn.objects.exists()
    problems = _blocking(page, axe)
    page.get_by_label("Hours slept last night").fill("5")
    page.get_by_role("button", name="Send check-in").click()
    page.wait_for_url(f"{base}/me/help/sent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your care team has been told")
    assert SafetyEvent.objects.count() == 1 and CheckIn.objects.count() == 1

    page.goto(f"{base}/me/diary/")
    page.get_by_role("link", name=re.compile("Fill in")).last.click()
    for emotion in ["Sadness", "Fear or anxiety", "Anger", "Shame or guilt", "Loneliness", "Joy"]:
        _pick(page, emotion, "2")
    _pick(page, "Urge to use", "0")
    _pick(page, "Urge to harm myself", "5")
    _pick(page, "Thoughts of ending my life", "1")
    _pick(page, "Did you use alcohol", "No")
    _pick(page, "Did you harm yourself", "Yes")
    page.get_by_role("button", name="Save diary card").click()
    page.wait_for_url(f"{base}/me/help/sent/")
    expect(page.get_by_text(re.compile("We sent an alert to your clinician"))).to_be_visible()
    expect(page.locator('a[href="tel:988"]').first).to_be_visible()
    assert DiaryCard.objects.get().safety_event_id is not None
    assert SafetyEvent.objects.filter(source="diary_card").count() == 1
    problems += _blocking(page, axe)
    context.close()
    assert problems == []
