"""Inbound SMS replies: STOP and START keywords, and Twilio's request signature.

The webhook view that calls these is not wired yet (docs/notifications.md); the rules are
here so that the view is a thin wrapper: verify the signature, then record the keyword.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from django.db import transaction

from openiop.accounts.actions import system_user
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.notifications.models import SmsOptOut
from openiop.notifications.sender import normalise_phone

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}


def twilio_signature(url: str, params: Mapping[str, str], token: str) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 over the URL plus sorted key+value pairs."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_signature(url: str, params: Mapping[str, str], signature: str, token: str) -> bool:
    if not signature or not token:
        return False  # unsigned requests are rejected, as is any request when no token is set
    return hmac.compare_digest(twilio_signature(url, params, token), signature)


def record_reply(phone: str, body: str) -> str | None:
    """Record a STOP or START reply for a number; returns the keyword acted on, or None."""
    keyword = body.strip().split(" ")[0].upper() if body.strip() else ""
    if keyword not in STOP_WORDS | START_WORDS:
        return None
    with transaction.atomic():
        row, _ = SmsOptOut.objects.update_or_create(
            phone=normalise_phone(phone),
            defaults={
                "opted_out": keyword in STOP_WORDS,
                "last_keyword": keyword,
                "changed_at": clock.now(),
            },
        )
        # The number itself is not in the audit detail (PHI); the row's id is.
        audit_record(
            actor=system_user(),
            action="update",
            obj=row,
            detail={"sms_opt_out": row.opted_out, "keyword": keyword},
        )
    return keyword
