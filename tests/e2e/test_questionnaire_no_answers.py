"""Issue 18 item 3 in the browser: a clinician pressing "Score and save" on an empty PHQ-9 is
told to give at least one answer and nothing is stored (it used to be saved with total "—"
and listed in the history); a partly answered one is stored and labelled as incomplete on
its page and in the history."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.measures.models import Assessment
from openiop.testing import PASSWORD, build_world

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


def test_empty_phq9_is_refused_and_a_partial_one_is_labelled(page, live_server):
    world = build_world()
    _login(page, live_server, world.clinician_a)
    measures = (
        f"{live_server.url}/p/{world.program_a.external_id}/participants/"
        f"{world.participant_a.external_id}/measures/"
    )
    page.goto(measures + "new/phq9/")
    page.get_by_role("button", name="Score and save").click()
    expect(page.locator("main")).to_contain_text("Give at least one answer")
    assert not Assessment.objects.filter(instrument="phq9").exists()

    for item in range(1, 10):
        if item in (4, 8):
            continue  # left blank
        page.locator(f"#id_item_{item} input[type=radio]").nth(1).check()
    page.get_by_role("button", name="Score and save").click()
    label = "incomplete: 2 items unanswered (4, 8) so no total"
    expect(page.locator("main")).to_contain_text(label)
    row = Assessment.objects.get(instrument="phq9")
    assert (row.total, row.missing) == (None, [4, 8])

    page.goto(measures)
    expect(page.locator("main")).to_contain_text(label)
