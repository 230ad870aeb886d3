"""Issue 18 item 1 in the browser: set an arrival time in the runner, the note is signed and
the session closed, then changing the arrival time is refused on the row (the signed note
said 70 minutes); the row's "Correct attendance" form changes the minutes, the weekly ledger
and adds the note's addendum re-stating them, all in agreement."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.ledger import iso_week_start, weekly_ledger
from openiop.groupwork.models import Attendance, NoteAddendum
from openiop.testing import PASSWORD, build_world, make_group_session, today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))


def _hhmm(session, minutes: int) -> str:
    return clock.local_time(
        session.starts_at + timedelta(minutes=minutes), session.program
    ).strftime("%H:%M")


def _week(world, session) -> int:
    day = clock.local_date(session.starts_at, world.program_a)
    rows = weekly_ledger(
        program=world.program_a,
        week_start=iso_week_start(day),
        participant_ids=[world.participant_a.pk],
    )
    return rows[world.participant_a.pk].total


def test_attendance_after_signing_goes_through_an_addendum(page, live_server):
    world = build_world()
    start = clock.at_local(today(world.program_a) - timedelta(days=2), time(10, 0), world.program_a)
    session, _, rows = make_group_session(world, members=1, starts_at=start, minutes=90)
    row = rows[0]
    person = world.participant_a.display_name
    _login(page, live_server, world.clinician_a)
    page.goto(f"{live_server.url}/p/{world.program_a.external_id}/sessions/{session.external_id}/")

    roster_row = page.locator(f"#att-{row.external_id}")
    page.get_by_label(f"Arrival time for {person}").fill(_hhmm(session, 20))
    page.get_by_label(f"Arrival time for {person}").dispatch_event("change")
    expect(roster_row).to_contain_text("70 min")

    # Drafted, completed, signed and the session closed (as "Sign all" and "Close" do).
    row.refresh_from_db()
    note = gw.note_draft(actor=world.clinician_a, session=session, attendance=row)
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={k: v or "Engaged and practised the skill." for k, v in note.sections.items()},
    )
    gw.note_sign(actor=world.clinician_a, note=note)
    gw.session_close(actor=world.clinician_a, session=session)
    other = _week(world, session) - 70

    # The page still open from before: changing the arrival is refused on the row.
    page.get_by_label(f"Arrival time for {person}").fill(_hhmm(session, 60))
    page.get_by_label(f"Arrival time for {person}").dispatch_event("change")
    expect(roster_row.get_by_role("alert")).to_contain_text(
        "This note is signed: correct attendance with an addendum"
    )
    expect(roster_row).to_contain_text("70 min")
    assert Attendance.objects.get(pk=row.pk).minutes == 70

    # The row now offers the addendum path instead of the plain time inputs.
    expect(page.get_by_label(f"Arrival time for {person}", exact=True)).to_have_count(0)
    # After the refusal the correction form is already open on the row.
    expect(page.get_by_label(f"Corrected arrival time for {person}")).to_be_visible()
    page.get_by_label(f"Corrected arrival time for {person}").fill(_hhmm(session, 60))
    page.get_by_label(f"Reason for correcting the attendance of {person}").fill(
        "Sign-in sheet shows the later arrival."
    )
    roster_row.get_by_role("button", name="Correct and add addendum").click()
    expect(roster_row).to_contain_text("30 min")

    assert Attendance.objects.get(pk=row.pk).minutes == 30
    assert _week(world, session) == other + 30
    addendum = NoteAddendum.objects.get(note=note)
    assert addendum.minutes == 30

    page.goto(
        f"{live_server.url}/p/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/notes/{note.external_id}/"
    )
    expect(page.locator("main")).to_contain_text("Attended 30 of 90 minutes (was 70).")
    expect(page.locator("main")).to_contain_text("Sign-in sheet shows the later arrival.")
