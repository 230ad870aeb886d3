"""The portal's Reminders page and the SMS webhook, each with its refusal twins."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from openiop.audit.models import AuditEvent
from openiop.notifications.inbound import twilio_signature
from openiop.notifications.models import ContactConsent, ContactPreference, SmsOptOut

pytestmark = pytest.mark.django_db
TOKEN = "test-auth-token"
FORM = {"day_before_at": "18:00", "quiet_start": "21:00", "quiet_end": "08:00"}


@pytest.fixture
def me(world: Any, client_for):
    person = world.participant_a
    person.phone, person.email = "(555) 555-0123", "alex@example.org"
    person.save()
    return client_for(world.participant_user)


def test_reminders_page_shows_the_choices(me):
    body = me.get("/me/reminders/").content.decode()
    assert "Remind me by text message" in body and "Quiet hours from" in body


def test_turning_sms_on_needs_consent_and_names_the_field(world: Any, me):
    refused = me.post("/me/reminders/", {**FORM, "sms_on": "on"})
    assert refused.status_code == 422
    assert "Tick the box to agree" in refused.content.decode()
    assert not ContactConsent.objects.exists() and not ContactPreference.objects.exists()

    saved = me.post("/me/reminders/", {**FORM, "sms_on": "on", "sms_consent": "on"})
    assert saved.status_code == 302
    pref = ContactPreference.objects.get(participant=world.participant_a)
    assert pref.sms_on and not pref.email_on
    consent = ContactConsent.objects.get(channel="sms")
    assert (consent.method, consent.recorded_by) == ("portal", world.participant_user)
    assert AuditEvent.objects.filter(object_type="notifications.contactconsent").exists()


def test_turning_a_channel_off_stops_it_and_withdraws_consent(world: Any, me):
    me.post("/me/reminders/", {**FORM, "sms_on": "on", "sms_consent": "on"})
    assert me.post("/me/reminders/", FORM).status_code == 302
    assert not ContactPreference.objects.get().sms_on
    assert ContactConsent.objects.get(channel="sms").withdrawn_at is not None


def test_no_phone_on_record_names_the_field(world: Any, me):
    world.participant_a.phone = ""
    world.participant_a.save()
    refused = me.post("/me/reminders/", {**FORM, "sms_on": "on", "sms_consent": "on"})
    assert refused.status_code == 422 and "no mobile number" in refused.content.decode()


def test_half_quiet_hours_are_refused(me):
    refused = me.post("/me/reminders/", {**FORM, "quiet_end": ""})
    assert refused.status_code == 422 and "Give both the start and the end" in (
        refused.content.decode()
    )


def test_reminders_page_refuses_staff_and_anonymous(world: Any, client_for, client):
    assert client_for(world.clinician_a).post("/me/reminders/", FORM).status_code == 404
    anonymous = client.post("/me/reminders/", FORM)
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    assert not ContactPreference.objects.exists()


# --- the SMS webhook ----------------------------------------------------------------------------


def _signed(params: dict[str, str], token: str = TOKEN) -> str:
    return twilio_signature("http://testserver/sms/inbound/", params, token)


@override_settings(OPENIOP_SMS_TWILIO_AUTH_TOKEN=TOKEN)
def test_signed_stop_reply_opts_the_number_out(world: Any):
    params = {"From": "+15555550123", "Body": "STOP", "MessageSid": "SM1"}
    response = Client().post("/sms/inbound/", params, HTTP_X_TWILIO_SIGNATURE=_signed(params))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert SmsOptOut.objects.get(phone="+15555550123").opted_out
    start = {**params, "Body": "START"}
    Client().post("/sms/inbound/", start, HTTP_X_TWILIO_SIGNATURE=_signed(start))
    assert not SmsOptOut.objects.get(phone="+15555550123").opted_out


@override_settings(OPENIOP_SMS_TWILIO_AUTH_TOKEN=TOKEN)
def test_unsigned_or_forged_webhook_is_refused(world: Any):
    params = {"From": "+15555550123", "Body": "STOP"}
    assert Client().post("/sms/inbound/", params).status_code == 403
    forged = Client().post(
        "/sms/inbound/", params, HTTP_X_TWILIO_SIGNATURE=_signed(params, token="guess")
    )
    assert forged.status_code == 403
    assert Client().get("/sms/inbound/").status_code == 405
    assert not SmsOptOut.objects.exists()
