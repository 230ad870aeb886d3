"""Issue 15 done-means: the worker produces tomorrow's session reminder by email and by SMS
(captured by the test backends), and the participant, on a phone, turns text reminders off."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.test import override_settings

from openiop.core import clock
from openiop.notifications import sms
from openiop.notifications.models import Channel, ContactConsent, ContactPreference
from openiop.notifications.tasks import notifications_sweep
from openiop.testing import PASSWORD, build_world, make_group_session, today

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@override_settings(
    OPENIOP_SMS_BACKEND="openiop.notifications.sms.LocmemSms",
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
def test_worker_reminds_by_email_and_sms_then_participant_stops_texts(browser, live_server):
    world = build_world()
    sms.outbox.clear()
    person = world.participant_a
    person.phone, person.email = "(555) 555-0123", "alex@example.org"
    person.save()
    ContactPreference.objects.create(
        participant=person,
        email_on=True,
        sms_on=True,
        day_before_at=time(0, 0),  # already due, whatever the hour the test runs
        quiet_start=None,
        quiet_end=None,
    )
    for channel in (Channel.EMAIL, Channel.SMS):
        ContactConsent.objects.create(
            participant=person,
            channel=channel,
            method="staff",
            recorded_by=world.clinician_a,
            recorded_at=clock.now(),
        )
    program = world.program_a
    start = clock.at_local(today(program) + timedelta(days=1), time(18, 0), program)
    make_group_session(world, members=1, starts_at=start)

    notifications_sweep.call()  # what `openiop worker` runs every sweep period
    assert len(mail.outbox) == 1 and "tomorrow at 6:00 pm" in mail.outbox[0].body
    assert [m.body for m in sms.outbox] == [
        "You have an appointment tomorrow at 6:00 pm. Reply STOP to stop."
    ]
    assert person.legal_first_name not in mail.outbox[0].body + sms.outbox[0].body

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/me/")
    page.get_by_role("link", name="Reminders").click()
    page.wait_for_url(f"{live_server.url}/me/reminders/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.get_by_label("Remind me by text message")
    assert box.is_checked()
    box.focus()
    page.keyboard.press("Space")  # keyboard only
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Your reminder choices are saved.").wait_for()
    assert not page.get_by_label("Remind me by text message").is_checked()
    pref = ContactPreference.objects.get(participant=person)
    assert not pref.sms_on and pref.email_on
    assert ContactConsent.objects.get(channel="sms").withdrawn_at is not None
    context.close()
