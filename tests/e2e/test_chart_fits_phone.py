"""Issue 18 item 11: the participant chart fits a 360 px phone screen with no sideways scroll,
even with long unbroken free text (a pasted link in the address, a long phase-change reason)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.core import clock
from openiop.measures.actions import assessment_record
from openiop.participants import actions
from openiop.testing import PASSWORD, build_world, today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_WORD = "https://example.org/" + "x" * 380


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


def _sideways(page) -> int:
    """How many pixels the page is wider than the screen (0 = no horizontal scroll)."""
    return int(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def test_the_chart_fits_a_360_px_phone(phone_page, live_server):
    world = build_world()
    participant = world.participant_a
    participant.address = LONG_WORD
    participant.save(update_fields=["address"])
    actions.enrollment_change_phase(
        actor=world.director_a,
        enrollment=world.enrollment_a,
        to_phase="early_recovery",
        effective_on=today(world.program_a),
        reason="Progress: " + "y" * 300,
    )
    for days in (6, 3, 0):
        assessment_record(
            actor=world.clinician_a,
            participant=participant,
            instrument="phq9",
            answers=[2] * 8 + [0],
            administered_at=clock.now() - timedelta(days=days, minutes=5),
        )
    _login(phone_page, live_server, world.director_a)
    phone_page.goto(
        f"{live_server.url}/p/{world.program_a.external_id}/participants/{participant.external_id}/"
    )
    assert phone_page.get_by_role("heading", name="Avery Quillby").is_visible()
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.evaluate("document.documentElement.clientWidth") == 360
    assert _sideways(phone_page) == 0, "the chart scrolls sideways on a 360 px phone"
