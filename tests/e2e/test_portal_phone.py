"""The participant portal on a 360 px phone: check in, update a goal with a setback, fill a
diary card and a thought record (over a connection that drops a response), reach the safety
plan in one tap from every page, with axe-core finding no serious or critical violations on
any participant page; then the facilitator sees the setback and the check-in in the runner."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.core import clock
from openiop.measures.actions import assessment_record, schedule_set
from openiop.portal.models import CheckIn, DiaryCard, HomeworkSubmission, IdempotencyRecord
from openiop.testing import PASSWORD, build_world, make_group_session
from openiop.treatment.tests.helpers import make_plan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}
PORTAL_PAGES = [
    "/me/",
    "/me/check-in/",
    "/me/goals/",
    "/me/diary/",
    "/me/homework/",
    "/me/measures/",
    "/me/measures/phq9/",
    "/me/safety-plan/",
    "/me/safety-plan/edit/",
    "/me/help/",
]


def _axe_problems(page, axe: Axe, label: str) -> list[str]:
    problems = []
    for violation in axe.run(page).response["violations"]:
        entry = f"{label}: {violation['id']} ({violation['impact']}) x{len(violation['nodes'])}"
        if violation["impact"] in BLOCKING:
            problems.append(entry)
        else:
            print("minor:", entry)
    return problems


def _pick(page, group: str, choice: str) -> None:
    page.get_by_role("group", name=re.compile(group)).get_by_text(choice, exact=True).click()


def test_participant_portal_on_a_phone(browser, live_server):
    world = build_world()
    make_plan(world)
    # PHQ-9 weekly: the intake administration is due, so the questionnaire page is checked too.
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    # Two GAD-7 scores, so the questionnaire page's score history and trend are checked too.
    program = world.program_a
    for days_ago, answers in ((5, [2] * 7), (1, [1] * 7)):
        day = clock.program_today(program) - timedelta(days=days_ago)
        assessment_record(
            actor=world.clinician_a,
            participant=world.participant_a,
            instrument="gad7",
            answers=answers,
            administered_at=clock.at_local(day, time(10, 0), program),
        )
    # Today's group, still ahead (or, late in the evening, under way): two hours from now
    # would be tomorrow after 22:00 on the program's clock.
    _, day_end = clock.day_bounds(clock.program_today(world.program_a), world.program_a)
    later = min(
        timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2),
        day_end - timedelta(minutes=30),
    )
    session, _, _ = make_group_session(world, members=2, starts_at=later, plan_code="cbt-03")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    axe = Axe()
    base = live_server.url
    problems: list[str] = []

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    # Safety plan one tap away on every page; no horizontal scrolling at 360 px.
    for path in PORTAL_PAGES:
        page.goto(base + path)
        problems += _axe_problems(page, axe, path)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > 361)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert width <= 360, (path, width, wide)
        link = page.get_by_role("navigation", name="Safety").get_by_role(
            "link", name="My safety plan"
        )
        expect(link).to_be_in_viewport()  # sticky: one tap, no scrolling
        link.click()
        page.wait_for_url(f"{base}/me/safety-plan/")

    # The score history reads as plain words, with no severity label (the program's default).
    page.goto(f"{base}/me/measures/")
    history = page.get_by_role("region", name="Generalized Anxiety Disorder")
    expect(history.get_by_text("Your score has gone down by 7 points")).to_be_visible()
    expect(history.get_by_role("table")).to_contain_text("14")
    expect(history).not_to_contain_text("moderate")

    # Check in before today's group.
    page.goto(f"{base}/me/check-in/")
    _pick(page, "Mood right now", "4")
    _pick(page, "Craving right now", "8")
    _pick(page, "Have you used", "No")
    page.get_by_label("Hours slept last night").fill("6")
    _pick(page, "Did you take your medication", "Yes, as prescribed")
    _pick(page, "Are you having thoughts", "No")
    page.get_by_label("What I want to bring to group today").fill("Saying no at the party")
    page.get_by_role("button", name="Send check-in").click()
    expect(page.get_by_text("Check-in saved")).to_be_visible()
    assert CheckIn.objects.get().session_id == session.pk

    # A weekly goal towards the plan's objective, then a setback.
    page.goto(f"{base}/me/goals/")
    page.get_by_label("My goal this week").fill("Go to two meetings")
    page.get_by_label("It works towards").select_option(index=1)
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text("Goal added")).to_be_visible()
    page.get_by_role("link", name=re.compile("Update")).first.click()
    _pick(page, "How did it go", "Setback")
    page.get_by_label("What happened (optional)").fill("Skipped the second meeting")
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_text("Update saved")).to_be_visible()

    # Today's diary card.
    page.goto(f"{base}/me/diary/")
    page.get_by_role("link", name=re.compile("Fill in")).last.click()
    for emotion in ["Sadness", "Fear or anxiety", "Anger", "Shame or guilt", "Loneliness", "Joy"]:
        _pick(page, emotion, "2")
    _pick(page, "Urge to use", "3")
    _pick(page, "Urge to harm myself", "0")
    _pick(page, "Thoughts of ending my life", "0")
    _pick(page, "Did you use alcohol", "No")
    _pick(page, "Did you harm yourself", "No")
    page.get_by_role("button", name="Save diary card").click()
    expect(page.get_by_text("Diary card for")).to_be_visible()
    assert DiaryCard.objects.count() == 1

    # A thought record from yesterday's group; the first response is lost on the way back
    # (the server stored it), the page retries with the same key: one worksheet stored.
    lost = {"count": 0}

    def drop_first_response(route):
        if route.request.method == "POST" and lost["count"] == 0:
            lost["count"] += 1
            route.fetch()  # reaches the server...
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.continue_()

    page.goto(f"{base}/me/homework/")
    page.get_by_role("link", name=re.compile("Open worksheet")).first.click()
    page.route(re.compile(r".*/me/homework/.*"), drop_first_response)
    page.get_by_label(re.compile("^Situation")).fill("Boss criticised my report")
    page.get_by_label(re.compile("^Moods: name each")).fill("anxious, ashamed")
    page.get_by_label(re.compile("^Strongest mood intensity")).fill("85")
    page.get_by_role("button", name="Send to my care team").click()
    expect(page.get_by_role("heading", name="Worksheet sent")).to_be_visible(timeout=15000)
    page.unroute(re.compile(r".*/me/homework/.*"))
    assert lost["count"] == 1
    assert HomeworkSubmission.objects.count() == 1
    assert IdempotencyRecord.objects.filter(scope__startswith="homework").count() == 1
    problems += _axe_problems(page, axe, "worksheet sent")
    context.close()
    assert problems == []

    # The facilitator's runner: the setback and the check-in, with attention flags.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = staff.new_page()
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
    desk.goto(f"{base}/accounts/login/")
    desk.get_by_label("Username").fill(world.clinician_a.username)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    desk.get_by_role("button", name="Continue").click()
    desk.wait_for_url(re.compile(r"/p/"))
    desk.goto(f"{base}/p/{world.program_a.external_id}/sessions/{session.external_id}/")
    accountability = desk.locator("section[aria-labelledby=accountability-h]")
    expect(accountability).to_contain_text("Go to two meetings")
    expect(accountability).to_contain_text("Setback")
    expect(accountability).to_contain_text("Skipped the second meeting")
    expect(accountability).to_contain_text("Saying no at the party")
    first_row = desk.locator("#roster .roster-row").first
    expect(first_row).to_contain_text(world.participant_a.display_name)
    expect(first_row).to_contain_text("check-in: craving 8/10")
    expect(first_row).to_contain_text("goal setback")
    staff.close()
