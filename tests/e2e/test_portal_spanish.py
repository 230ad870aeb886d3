"""The portal in Spanish on a phone (issue 15 section 5): a participant who chose Spanish walks
every portal page; no English source string of the translation catalogue is left on any of
them, and axe-core finds no serious or critical violation (390x844)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from openiop.core import clock
from openiop.measures.actions import schedule_set
from openiop.participants.models import Participant
from openiop.portal import actions as portal_actions
from openiop.testing import PASSWORD, build_world, make_group_session
from openiop.treatment.models import Objective
from openiop.treatment.tests.helpers import make_plan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|<[^>]+>")
# Every text node and label a person or a screen reader meets: visible text, the page title,
# aria-labels and the labels of form controls.
TEXTS_JS = """() => {
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && !node.parentElement.closest('script,style')) texts.push(node.data);
  }
  document.querySelectorAll('[aria-label]').forEach(e => texts.push(e.getAttribute('aria-label')));
  return texts.map(t => t.replace(/\\s+/g, ' ').trim()).filter(Boolean);
}"""


def _english_strings() -> tuple[set[str], list[str]]:
    """The catalogue's English source strings that read differently in Spanish: each one
    (without placeholders) is looked for as a whole text node or label, and those of 12
    characters or more, and the pieces of those with placeholders, inside the page's text."""
    po = polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES" / "django.po"))
    words: set[str] = set()
    phrases: list[str] = []
    for entry in po:
        for msgid, msgstr in _pairs(entry):
            if msgid == msgstr:
                continue  # "Total", "Individual", "No": the same in both languages
            pieces = [p.strip() for p in PLACEHOLDER.split(msgid)]
            if len(pieces) == 1:
                words.add(pieces[0])
            phrases += [p for p in pieces if len(p) >= 12]
    return words, phrases


def _pairs(entry: polib.POEntry) -> list[tuple[str, str]]:
    if entry.msgid_plural:
        return [
            (entry.msgid, entry.msgstr_plural[0]),
            (entry.msgid_plural, entry.msgstr_plural[1]),
        ]
    return [(entry.msgid, entry.msgstr)]


def _english_left(page, words: set[str], phrases: list[str]) -> list[str]:
    texts: list[str] = page.evaluate(TEXTS_JS)
    joined = " ".join(texts)
    left = sorted({t for t in texts if t in words})
    return left + [p for p in phrases if p in joined]


def _axe_problems(page, axe: Axe, label: str) -> list[str]:
    problems = []
    for violation in axe.run(page).response["violations"]:
        entry = f"{label}: {violation['id']} ({violation['impact']}) x{len(violation['nodes'])}"
        if violation["impact"] in BLOCKING:
            problems.append(entry)
        else:
            print("minor:", entry)
    return problems


def test_the_spanish_portal_has_no_english_and_no_serious_accessibility_violation(
    browser, live_server
):
    world = build_world()
    plan = make_plan(world)
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    Participant.objects.filter(pk=world.participant_a.pk).update(language="es")
    goal = portal_actions.weekly_goal_create(
        actor=world.participant_user,
        participant=world.participant_a,
        text="Caminar 20 minutos",
        objective_id=Objective.objects.filter(goal__problem__plan=plan).first().external_id,
    )
    _, day_end = clock.day_bounds(clock.program_today(world.program_a), world.program_a)
    later = min(
        timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2),
        day_end - timedelta(minutes=30),
    )
    make_group_session(world, members=2, starts_at=later, plan_code="cbt-03")
    today = clock.program_today(world.program_a)
    words, phrases = _english_strings()
    assert words and phrases

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    axe = Axe()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    problems: list[str] = []
    english: list[str] = []

    def check(label: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", "es")
        problems.extend(_axe_problems(page, axe, label))
        english.extend(f"{label}: {s!r}" for s in _english_left(page, words, phrases))

    for path in [
        "/me/",
        "/me/check-in/",
        "/me/goals/",
        f"/me/goals/{goal.external_id}/",
        "/me/diary/",
        f"/me/diary/{today:%Y-%m-%d}/",
        "/me/homework/",
        "/me/measures/",
        "/me/measures/phq9/",
        "/me/safety-plan/",
        "/me/safety-plan/edit/",
        "/me/help/",
    ]:
        page.goto(base + path)
        check(path)

    # The questionnaire is done with staff: no English paraphrases offered as if translated.
    page.goto(f"{base}/me/measures/phq9/")
    expect(page.get_by_text("Este cuestionario lo completará con un miembro")).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(0)

    # A form sent with errors: the error summary and Django's own messages are in Spanish.
    page.goto(f"{base}/me/check-in/")
    page.get_by_role("button", name="Enviar registro").click()
    expect(page.locator("#error-summary")).to_contain_text("Por favor, corrija")
    check("check-in with errors")

    # A worksheet, and the page after sending it.
    page.goto(f"{base}/me/homework/")
    page.get_by_role("link", name=re.compile("Abrir hoja de trabajo")).first.click()
    check("worksheet")
    page.locator("form.worksheet textarea").first.fill("Una situación difícil")
    page.get_by_role("button", name="Enviar a mi equipo de atención").click()
    page.wait_for_url(re.compile(r"/me/homework/sent/"))
    check("worksheet sent")

    # The calendar link, and the help page after pressing the button.
    page.goto(f"{base}/me/")
    page.get_by_role("button", name="Obtener un enlace para el calendario de mi teléfono").click()
    page.wait_for_url(f"{base}/me/calendar-link/")
    check("calendar link")
    page.goto(f"{base}/me/help/")
    expect(page.get_by_text("oprima 2")).to_be_visible()
    page.get_by_role("button", name="Necesito ayuda ahora").click()
    page.wait_for_url(f"{base}/me/help/sent/")
    check("help sent")

    # Back to English with the switch, reached from the keyboard.
    page.goto(f"{base}/me/")
    switch = page.get_by_role("button", name="English")
    switch.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/me/")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en"))
    expect(page.get_by_role("button", name="Español")).to_be_visible()
    # The same check finds the English on the English page: it is able to fail.
    found = _english_left(page, words, phrases)
    assert "My week" in found and "This week's hours" in found
    context.close()

    assert english == []
    assert problems == []
