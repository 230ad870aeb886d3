"""Issue 18 item 11: removing someone from a roster asks first, and the question works from the
keyboard alone and with JavaScript turned off (a plain form, not a script dialog)."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.groupwork.models import Attendance
from openiop.testing import PASSWORD, build_world, make_group_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/accounts/mfa/verify/"))
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/[0-9a-f-]+/$"))


@pytest.mark.parametrize("javascript", [True, False])
def test_remove_from_roster_asks_first_by_keyboard(browser, live_server, javascript):
    world = build_world()
    session, people, rows = make_group_session(world, members=2)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    try:
        _login(page, live_server, world.clinician_a)
        runner = (
            f"{live_server.url}/p/{world.program_a.external_id}/sessions/{session.external_id}/"
        )
        page.goto(runner)
        remove = page.get_by_role("button", name=f"Remove {people[1].display_name} from the roster")
        remove.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/remove/$"))
        assert page.get_by_role("heading", name="Remove from the roster?").is_visible()
        assert not Attendance.objects.get(pk=rows[1].pk).removed
        page.get_by_role("button", name="Remove from the roster").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(runner)
        assert Attendance.objects.get(pk=rows[1].pk).removed
        assert page.get_by_text("Removed from the roster.").is_visible()
    finally:
        context.close()
