"""Run a whole 10-participant group in the browser and count the interactions it takes.

Budget (issue 4): at most 40 browser interactions to take attendance with two late arrivals
and one early departure, add a walk-in, complete 10 individual note sections from their
drafts and bulk-sign them. The count is reported in docs/benchmarks.md."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Note, NoteStatus
from openiop.testing import PASSWORD, admit, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
INTERACTION_BUDGET = 40


class Counter:
    """Wraps the page actions a person performs; waiting and reading are not counted."""

    def __init__(self, page) -> None:
        self.page = page
        self.count = 0

    def goto(self, url: str) -> None:
        self.count += 1
        self.page.goto(url)

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.count += 1
        locator.fill(value)


def _next_step_code(device: TOTPDevice) -> str:
    # The login code's time step is spent (replay protection); a person would wait for the
    # next code, which django-otp's one-step drift tolerance accepts now.
    code = totp(device.bin_key, step=device.step, t0=device.t0 - device.step, digits=device.digits)
    return str(code).zfill(device.digits)


def _hhmm(session, minutes: int) -> str:

    local = (session.starts_at + timedelta(minutes=minutes)).astimezone(clock.zone(session.program))
    return local.strftime("%H:%M")


def test_run_a_ten_person_group_within_the_interaction_budget(page, live_server):
    world = build_world()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=60)
    session = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind="group",
        title="Tuesday skills group",
        starts_at=start,
        ends_at=start + timedelta(minutes=180),
        facilitator=world.clinician_a,
        track=world.track_a,
        plan_code="comm-01",
        capacity=12,
    )
    firsts = ["Bailey", "Corin", "Dorian", "Emery", "Finley", "Gale", "Harper", "Indigo"]
    lasts = ["Brindle", "Cinder", "Dapple", "Elder", "Fernby", "Galeholt", "Heathby", "Ivorly"]
    people = [world.participant_a] + [
        admit(world.program_a, world.track_a, world.clinician_a, first=f, last=last)[0]
        for f, last in zip(firsts, lasts, strict=True)
    ]
    for person in people:
        gw.attendance_add(actor=world.clinician_a, session=session, participant=person)
    walk_in, _ = admit(
        world.program_a, world.track_a, world.clinician_a, first="Wynn", last="Walkerby"
    )
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)

    ui = Counter(page)
    ui.goto(f"{live_server.url}/accounts/login/")
    ui.fill(page.get_by_label("Username"), world.clinician_a.username)
    ui.fill(page.get_by_label("Password"), PASSWORD)
    ui.click(page.get_by_role("button", name="Log in"))
    ui.fill(page.get_by_label("6-digit code from your authenticator app"), mfa.current_code(device))
    ui.click(page.get_by_role("button", name="Continue"))
    page.wait_for_url(re.compile(r"/p/"))

    runner = f"{live_server.url}/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    ui.goto(runner)
    ui.click(page.get_by_role("button", name="Start: mark everyone present"))
    expect(page.locator(".roster-row .badge.ok")).to_have_count(len(people))

    late = [people[1], people[2]]
    ui.fill(page.get_by_label(f"Arrival time for {late[0].display_name}"), _hhmm(session, 15))
    expect(page.locator(".roster-row", has_text=late[0].display_name)).to_contain_text("165 min")
    ui.fill(page.get_by_label(f"Arrival time for {late[1].display_name}"), _hhmm(session, 25))
    expect(page.locator(".roster-row", has_text=late[1].display_name)).to_contain_text("155 min")
    early = people[3]
    ui.fill(page.get_by_label(f"Departure time for {early.display_name}"), _hhmm(session, 120))
    expect(page.locator(".roster-row", has_text=early.display_name)).to_contain_text("120 min")

    ui.fill(page.get_by_label(re.compile("Add someone")), "Walker")
    ui.click(page.get_by_role("button", name=f"Add {walk_in.display_name}"))
    expect(page.locator(".roster-row", has_text=walk_in.display_name)).to_contain_text("Present")

    ui.click(page.get_by_role("button", name="Draft notes for everyone present"))
    everyone = [*people, walk_in]
    expect(page.locator("article.note")).to_have_count(len(everyone))
    notes = list(Note.objects.filter(session=session))
    for index, person in enumerate(everyone):
        field = page.get_by_label(f"Assessment for {person.display_name}")
        ui.fill(
            field,
            f"Practised assertive requests; observation {index + 1}: steady progress.",
        )
    for note in notes:
        expect(page.locator(f"#note-status-{note.external_id}")).to_contain_text("Saved")

    ui.click(page.get_by_role("button", name="Sign all ready notes"))
    result = page.locator("#sign-all-result")
    confirm = page.get_by_role("button", name="Confirm")
    expect(result.get_by_text("Signed").or_(confirm)).to_be_visible()
    if confirm.is_visible():
        # Signing needs a re-authentication no older than 5 minutes (AUTH-07); the log-in
        # a moment ago usually counts, a long session needs the password and a code again.
        # After it the runner resumes the signing by itself: no second press.
        ui.fill(page.get_by_label("Password"), PASSWORD)
        ui.fill(
            page.get_by_label("6-digit code from your authenticator app"), _next_step_code(device)
        )
        ui.click(confirm)
        page.wait_for_url(re.compile(r"/sessions/"))
    expect(result).to_contain_text(f"Signed {len(everyone)} notes.")

    signed = Note.objects.filter(session=session, status=NoteStatus.SIGNED)
    assert signed.count() == len(everyone) == 10
    assert all("Practised assertive requests" in n.sections["assessment"] for n in signed)
    minutes = {a.participant_id: a.minutes for a in session.attendance.all()}
    assert minutes[late[0].pk] == 165 and minutes[late[1].pk] == 155 and minutes[early.pk] == 120
    print(f"\ngroup session interactions: {ui.count} (budget {INTERACTION_BUDGET})")
    assert ui.count <= INTERACTION_BUDGET, f"{ui.count} interactions, budget {INTERACTION_BUDGET}"
