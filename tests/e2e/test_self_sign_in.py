"""Issue 15 sections 2 and 3 in the browser: the facilitator opens the room screen, the
participant on a phone types the room's code, and the facilitator's runner shows the arrival
time filled in for confirmation; in a virtual session the participant presses "Join video",
the join is recorded and they are sent on to the (here local) video link."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.core import clock
from openiop.groupwork.models import Attendance, Modality, Session
from openiop.testing import PASSWORD, build_world, make_group_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _staff_login(page, live_server, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))


def _participant_login(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/me/")


def _hhmm(moment, program) -> str:
    return clock.local_time(moment, program).strftime("%H:%M")


def test_participant_signs_in_by_room_code_and_joins_video(page, browser, live_server):
    world = build_world()
    program = world.program_a
    # Under way now: started an hour ago, so sign-in is open at any shifted test clock.
    session, _, rows = make_group_session(world, members=2)
    virtual, _, virtual_rows = make_group_session(world, members=1)
    Session.objects.filter(pk=virtual.pk).update(
        title="Video skills group",
        modality=Modality.VIRTUAL,
        video_link=f"{live_server.url}/healthz",
    )
    person = world.participant_a.display_name
    runner = f"{live_server.url}/p/{program.external_id}/sessions/{session.external_id}/"

    # The facilitator puts the room screen up.
    _staff_login(page, live_server, world.clinician_a)
    page.goto(runner)
    room_link = page.get_by_role("link", name="Room screen (sign-in code)")
    page.goto(live_server.url + room_link.get_attribute("href"))
    code = page.get_by_test_id("room-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert person not in page.content()  # the room's screen names nobody

    # The participant, on a phone, types it.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    me = phone.new_page()
    _participant_login(me, live_server, world.participant_user)
    me.get_by_role("link", name="Sign in to group").click()
    me.get_by_label("Code shown in the room").fill(code.lower())
    me.get_by_role("button", name="Sign in").click()
    expect(me.get_by_role("status")).to_contain_text("Signed in to Skills group")
    arrived = Attendance.objects.get(pk=rows[0].pk).self_arrived_at
    assert arrived is not None
    hhmm = _hhmm(arrived, program)
    assert me.evaluate("document.documentElement.scrollWidth") <= 390

    # The facilitator's runner shows the arrival filled in, to confirm.
    page.goto(runner)
    roster_row = page.locator(f"#att-{rows[0].external_id}")
    expect(page.get_by_label(f"Arrival time for {person}")).to_have_value(hhmm)
    expect(roster_row).to_contain_text(f"self sign-in {hhmm}, confirm")
    roster_row.get_by_role("button", name="Confirm arrival").click()
    expect(roster_row).to_contain_text("Present")
    expect(roster_row).not_to_contain_text("confirm")
    confirmed = Attendance.objects.get(pk=rows[0].pk)
    assert _hhmm(confirmed.arrived_at, program) == hhmm

    # A virtual session: Join records the join and opens the (local) video link.
    me.goto(f"{live_server.url}/me/sign-in/")
    me.get_by_role("button", name="Join video for Video skills group").click()
    me.wait_for_url(f"{live_server.url}/healthz")
    joined = Attendance.objects.get(pk=virtual_rows[0].pk)
    assert joined.self_arrived_at is not None and joined.joined_by_video
    page.goto(f"{live_server.url}/p/{program.external_id}/sessions/{virtual.external_id}/")
    expect(page.locator(f"#att-{virtual_rows[0].external_id}")).to_contain_text(
        f"video join {_hhmm(joined.self_arrived_at, program)}, confirm"
    )
    expect(page.locator(f"#att-{virtual_rows[0].external_id}")).to_contain_text("POS 10")
    assert not page.console_errors
    phone.close()
