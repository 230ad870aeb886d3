"""STOP / START replies and the Twilio signature check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from openiop.audit.models import AuditEvent
from openiop.notifications import sms
from openiop.notifications.inbound import record_reply, twilio_signature, valid_signature
from openiop.notifications.models import Kind, OutboundMessage, SmsOptOut, Status
from openiop.notifications.tasks import notifications_sweep
from openiop.notifications.tests.test_sweep import LOCMEM, setup  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

URL = "https://example.org/sms/inbound"
PARAMS = {"From": "+15555550123", "Body": "STOP", "MessageSid": "SM1"}


def test_signature_is_verified_and_unsigned_rejected() -> None:
    good = twilio_signature(URL, PARAMS, "tok")
    assert valid_signature(URL, PARAMS, good, "tok")
    assert not valid_signature(URL, PARAMS, good, "other")
    assert not valid_signature(URL, {**PARAMS, "Body": "START"}, good, "tok")
    assert not valid_signature(URL, PARAMS, "", "tok")
    assert not valid_signature(URL, PARAMS, good, "")


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT"])
def test_stop_words_opt_out_and_are_audited(world: Any, word: str) -> None:
    before = AuditEvent.objects.count()
    assert record_reply("555-555-0123", f" {word} ") == word.upper()
    assert SmsOptOut.objects.get(phone="+15555550123").opted_out
    assert AuditEvent.objects.count() == before + 1


def test_start_opts_back_in_and_other_text_is_ignored(world: Any) -> None:
    record_reply("+15555550123", "STOP")
    assert record_reply("+15555550123", "hello") is None
    assert SmsOptOut.objects.get().opted_out
    record_reply("+15555550123", "START")
    assert not SmsOptOut.objects.get().opted_out


@override_settings(**LOCMEM)
def test_no_sms_after_stop(setup: Any) -> None:  # noqa: F811
    record_reply("+1 555 555 0123", "STOP")
    notifications_sweep.call()
    assert not sms.outbox
    row = OutboundMessage.objects.get(kind=Kind.SESSION_DAY_BEFORE, channel="sms")
    assert row.status == Status.STOPPED
