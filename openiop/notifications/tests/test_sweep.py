"""The worker's sweep produces tomorrow's session reminders by email and SMS, honouring
consent, STOP and retries; the Twilio adapter is tested against a local stand-in server."""

from __future__ import annotations

import json
import threading
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from openiop.core import clock
from openiop.notifications import sms, texts
from openiop.notifications.models import (
    Channel,
    ContactConsent,
    ContactPreference,
    Kind,
    OutboundMessage,
    SmsOptOut,
    Status,
)
from openiop.notifications.sender import send_due
from openiop.notifications.tasks import notifications_sweep
from openiop.testing import make_group_session, today

LOCMEM = {
    "OPENIOP_SMS_BACKEND": "openiop.notifications.sms.LocmemSms",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


@pytest.fixture
def setup(world: Any) -> Any:
    sms.outbox.clear()
    person = world.participant_a
    person.phone, person.email = "(555) 555-0123", "alex@example.org"
    person.save()
    ContactPreference.objects.create(
        participant=person,
        email_on=True,
        sms_on=True,
        day_before_at=time(0, 0),  # due at today's midnight: already due whenever the test runs
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
    session, _, _ = make_group_session(world, members=1, starts_at=start)
    return world, session


@override_settings(**LOCMEM)
def test_sweep_sends_tomorrows_reminder_by_email_and_sms(setup: Any) -> None:
    notifications_sweep.call()
    assert len(mail.outbox) == 1 and "tomorrow at 6:00 pm" in mail.outbox[0].body
    assert [m.body for m in sms.outbox] == [
        "You have an appointment tomorrow at 6:00 pm. Reply STOP to stop."
    ]
    sent = OutboundMessage.objects.filter(status=Status.SENT, kind=Kind.SESSION_DAY_BEFORE)
    assert {m.channel for m in sent} == {"email", "sms", "in_app"}
    notifications_sweep.call()  # idempotent: nothing planned or sent twice
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


@override_settings(**LOCMEM)
def test_hour_before_is_sent_an_hour_before(setup: Any) -> None:
    _, session = setup
    notifications_sweep.call()
    send_due(now=session.starts_at - timedelta(minutes=59))
    assert sms.outbox[-1].body == "You have an appointment today at 6:00 pm. Reply STOP to stop."


@override_settings(**LOCMEM)
def test_stop_and_missing_consent_hold_messages(setup: Any) -> None:
    SmsOptOut.objects.create(phone="+15555550123", last_keyword="STOP", changed_at=clock.now())
    ContactConsent.objects.filter(channel=Channel.EMAIL).update(withdrawn_at=clock.now())
    notifications_sweep.call()
    assert not sms.outbox and not mail.outbox
    rows = OutboundMessage.objects.filter(kind=Kind.SESSION_DAY_BEFORE)
    assert rows.get(channel="sms").status == Status.STOPPED
    assert rows.get(channel="email").status == Status.SUPPRESSED


class Broken:
    def send(self, to: str, body: str) -> str:
        raise sms.SmsError("http_500")


@override_settings(
    EMAIL_BACKEND=LOCMEM["EMAIL_BACKEND"],
    OPENIOP_SMS_BACKEND="openiop.notifications.tests.test_sweep.Broken",
    OPENIOP_NOTIFY_MAX_ATTEMPTS=2,
)
def test_failed_send_retries_with_backoff_then_fails(setup: Any) -> None:
    notifications_sweep.call()
    row = OutboundMessage.objects.get(kind=Kind.SESSION_DAY_BEFORE, channel="sms")
    assert row.status == Status.QUEUED and row.attempts == 1
    assert row.last_error_code == "http_500" and row.send_after > clock.now()
    send_due(now=row.send_after)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 2


class StandIn(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        StandIn.seen.append(
            {
                "path": self.path,
                "auth": self.headers["Authorization"],
                "body": self.rfile.read(length),
            }
        )
        status = 201 if b"Body=" in StandIn.seen[-1]["body"] else 400
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"sid": "SM123"}).encode())

    def log_message(self, *args: Any) -> None:
        pass


def test_twilio_adapter_against_a_local_stand_in() -> None:
    server = HTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(
            OPENIOP_SMS_TWILIO_BASE_URL=f"http://127.0.0.1:{server.server_port}",
            OPENIOP_SMS_TWILIO_ACCOUNT_SID="AC1",
            OPENIOP_SMS_TWILIO_AUTH_TOKEN="tok",
            OPENIOP_SMS_FROM="+15555550100",
        ):
            assert sms.TwilioSms().send("+15555550123", "Hello") == "SM123"
            with (
                override_settings(OPENIOP_SMS_TWILIO_BASE_URL="http://127.0.0.1:9"),
                pytest.raises(sms.SmsError),
            ):
                sms.TwilioSms().send("+15555550123", "Hello")
    finally:
        server.shutdown()
    assert StandIn.seen[0]["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert StandIn.seen[0]["auth"].startswith("Basic ")


FORBIDDEN = [
    "program",
    "iop",
    "substance",
    "alcohol",
    "drug",
    "treatment",
    "therapy",
    "group",
    "clinic",
    "safety",
    "crisis",
    "suicid",
    "988",
    "counsel",
    "recovery",
    "Alex",
]


def test_sms_texts_are_neutral(world: Any) -> None:
    for kind in Kind.values:
        body = texts.sms_text(kind, clock.now(), world.program_a).lower()
        for word in FORBIDDEN:
            assert word.lower() not in body, (kind, word)
