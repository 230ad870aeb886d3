"""Issue 18 items 5 and 9 in the browser: the runner says why each note is not ready, a
sign-all that needed re-authentication finishes by itself afterwards with its result in view
at the top of the notes area, and drafts carry the participant's own record and the row's
participation and affect choices.

With OPENIOP_SCREENSHOTS=<dir> set, the test also saves runner.png (readiness reasons on the
roster and notes, whole page) and sign-all-result.png (the window as the user sees it after
the resumed sign-all) there; the docs copies come from
`OPENIOP_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_group_notes_readiness.py`."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from openiop.accounts import mfa
from openiop.accounts.stepup import SESSION_KEY
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Note, NoteStatus
from openiop.portal.models import CheckIn
from openiop.testing import PASSWORD, build_world, make_group_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _next_step_code(device: TOTPDevice) -> str:
    """The code of the time step after the one the log-in spent (replay protection), so it is
    accepted whether or not a 30-second boundary passed since (the clock-shifted runs start
    on a boundary, and a loaded machine crosses it during the set-up)."""
    device.refresh_from_db()
    code = hotp(device.bin_key, device.last_t + 1, digits=device.digits)
    return str(code).zfill(device.digits)


def _make_reauthentication_stale(page: Page) -> None:
    """As if the log-in were more than five minutes ago (AUTH-07 asks again)."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    store = SessionStore(session_key=key)
    store[SESSION_KEY] = clock.now().timestamp() - 3600
    store.save()


def _shoot(page: Page, name: str, *, full_page: bool) -> None:
    if os.environ.get("OPENIOP_SCREENSHOTS"):
        folder = Path(os.environ["OPENIOP_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=full_page)


def test_readiness_reasons_resume_after_reauth_and_individual_drafts(page: Page, live_server):
    world = build_world()
    session, people, rows = make_group_session(world, members=4, minutes=90)
    first, *others = people
    gw.attendance_arrive(
        actor=world.clinician_a, attendance=rows[0], at=session.starts_at + timedelta(minutes=10)
    )
    for row in rows[1:]:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    CheckIn.objects.create(
        program=world.program_a,
        participant=first,
        kind="session",
        mood=4,
        craving=8,
        used_since_last=False,
        sleep_hours=Decimal("6.0"),
        medication="taken",
        safety_concern=False,
    )
    device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.clinician_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))
    runner = f"{live_server.url}/p/{world.program_a.external_id}/sessions/{session.external_id}/"
    page.goto(runner)

    # Item 9: quick choices on the first participant's row feed the draft.
    for label, value in [("Participation", "prompted"), ("Affect", "anxious")]:
        select = page.get_by_label(f"{label} of {first.display_name}")
        before = select.element_handle()
        with page.expect_response(re.compile(r"/observe/$")):
            select.select_option(value)
        # The answer swaps in only the row's status: the select in use stays where it is, so
        # a second quick choice is never sent from a row that was just replaced (it would be
        # lost). Hence the very same element is still in the page.
        assert before.evaluate("element => element.isConnected")
        expect(page.get_by_label(f"{label} of {first.display_name}")).to_have_value(value)
    page.get_by_role("button", name="Draft notes for everyone present").click()
    expect(page.locator("article.note")).to_have_count(len(people))
    data = page.get_by_label(f"Data for {first.display_name}")
    expect(data).to_have_value(re.compile(r"arrived 10 minutes late"))
    expect(data).to_have_value(re.compile(r"Observed: participated when prompted; affect anxious"))
    expect(data).to_have_value(re.compile(r"mood 4/10, craving 8/10"))
    expect(page.get_by_label(f"Assessment for {first.display_name}")).to_have_value(
        re.compile(r"^Participated when prompted, with an anxious affect\.")
    )
    for person in others:
        expect(page.get_by_label(f"Data for {person.display_name}")).not_to_have_value(
            re.compile("craving|Observed")
        )

    # A changed choice rebuilds the untouched draft beside the row (swapped in out of band).
    with page.expect_response(re.compile(r"/observe/$")):
        page.get_by_label(f"Participation of {first.display_name}").select_option("engaged")
    expect(data).to_have_value(re.compile(r"actively engaged; affect anxious", re.IGNORECASE))

    # Item 5: each note's readiness and reason, on its roster row and on the note.
    other_row = page.locator(".roster-row", has_text=others[0].display_name)
    expect(other_row.locator(".readiness")).to_have_text("Note needs: assessment")
    first_note = page.locator("article.note", has_text=first.display_name)
    expect(first_note.locator(".readiness")).to_have_text("Note ready to sign")
    page.reload()
    _shoot(page, "runner.png", full_page=True)

    _make_reauthentication_stale(page)
    page.get_by_role("button", name="Sign all ready notes").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("6-digit code from your authenticator app").fill(_next_step_code(device))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/sessions/"))
    result = page.locator("#sign-all-result")  # resumed without pressing Sign all again
    expect(result).to_contain_text(f"Signed 1 note; {len(others)} need attention:")
    for person in others:
        expect(result.get_by_role("listitem").filter(has_text=person.display_name)).to_contain_text(
            "needs assessment"
        )
    expect(result).to_be_in_viewport()
    expect(result).to_have_attribute("aria-live", "polite")
    _shoot(page, "sign-all-result.png", full_page=False)  # what is in view

    statuses = {n.participant_id: n.status for n in Note.objects.filter(session=session)}
    assert statuses[first.pk] == NoteStatus.SIGNED
    assert all(statuses[p.pk] == NoteStatus.DRAFT for p in others)
