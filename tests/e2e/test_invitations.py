"""Accounts for real people (issue 15 §6), in a real browser: a clinician invites a
participant from the chart, the participant accepts on a phone (390 x 844), sets a password
and checks in; and a forgotten password is reset by the emailed link."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.accounts import mfa
from openiop.portal.models import CheckIn
from openiop.testing import PASSWORD, admit, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "lantern-harbour-meadow-77"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _staff_login(page, base: str, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/accounts/mfa/verify/"))
    page.get_by_label("6-digit code from your authenticator app").fill(mfa.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/p/"))


def _emailed_link(mailoutbox, base: str) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/\S+)", mailoutbox[-1].body)
    assert match is not None, mailoutbox[-1].body
    return base + match.group(1)


def _pick(page, group: str, choice: str) -> None:
    page.get_by_role("group", name=re.compile(group)).get_by_text(choice, exact=True).click()


def test_clinician_invites_participant_who_accepts_on_a_phone_and_checks_in(
    browser, live_server, mailoutbox
):
    world = build_world()
    person, _ = admit(
        world.program_a,
        world.track_a,
        world.clinician_a,
        first="Marlowe",
        last="Fenwright",
        email="marlowe@example.org",
    )
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    _staff_login(page, base, world.clinician_a)
    page.goto(f"{base}/p/{world.program_a.external_id}/participants/{person.external_id}/")
    page.get_by_role("link", name="Invite to portal").click()
    page.get_by_label("How to send the invitation").select_option("email")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_text("Invitation sent by email")).to_be_visible()
    desk.close()

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["marlowe@example.org"]
    for private in ("Marlowe", "Fenwright", world.program_a.name):
        assert private not in message.subject + message.body
    link = _emailed_link(mailoutbox, base)

    phone = browser.new_context(**PHONE)
    me = phone.new_page()
    me.goto(link)
    expect(me.get_by_role("heading", name="Set up your account")).to_be_visible()
    assert me.evaluate("document.documentElement.scrollWidth") <= 390
    # Keyboard only: every field is labelled and reached with Tab.
    me.get_by_label("Choose a username").fill("marlowe")
    me.get_by_label("Choose a password").fill(NEW_PASSWORD)
    me.keyboard.press("Tab")
    me.keyboard.type("not-the-same-password-1")
    me.get_by_role("button", name="Set up my account").click()
    expect(me.get_by_role("alert")).to_contain_text("Type the password again")
    me.get_by_label("Choose a password").fill(NEW_PASSWORD)
    me.get_by_label("Type the password again").fill(NEW_PASSWORD)
    me.get_by_label("Type the password again").press("Enter")
    me.wait_for_url(f"{base}/me/")
    expect(me.get_by_text("Your account is ready")).to_be_visible()

    me.goto(f"{base}/me/check-in/")
    _pick(me, "Mood right now", "4")
    _pick(me, "Craving right now", "2")
    _pick(me, "Have you used", "No")
    me.get_by_label("Hours slept last night").fill("7")
    _pick(me, "Did you take your medication", "Yes, as prescribed")
    _pick(me, "Are you having thoughts", "No")
    me.get_by_role("button", name="Send check-in").click()
    expect(me.get_by_text("Check-in saved")).to_be_visible()
    assert CheckIn.objects.filter(participant=person).count() == 1

    # The link worked once.
    me.goto(link)
    expect(me.get_by_role("alert")).to_contain_text("already been used")
    phone.close()


def test_forgotten_password_is_reset_by_the_emailed_link(browser, live_server, mailoutbox):
    world = build_world()
    user = world.participant_user
    user.email = "avery@example.org"
    user.save(update_fields=["email"])
    base = live_server.url
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address of your account").fill("avery@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mailoutbox) == 1
    assert "Avery" not in mailoutbox[0].body
    page.goto(_emailed_link(mailoutbox, base))
    page.get_by_label(re.compile(r"^New password")).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url(f"{base}/accounts/login/")
    expect(page.get_by_text("Your password was changed")).to_be_visible()

    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    # The old password no longer works, and the link does not work twice.
    user.refresh_from_db()
    assert not user.check_password(PASSWORD)
    page.goto(_emailed_link(mailoutbox, base))
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    phone.close()
