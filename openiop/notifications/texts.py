"""Fixed neutral message texts.

42 CFR Part 2: being in a substance-use program is itself protected, so no text names the
program, the participant or anything clinical, and no SMS carries safety-plan or crisis content
(that lives behind the portal link, which only email carries).
"""

from __future__ import annotations

from datetime import datetime

from openiop.core import clock
from openiop.core.clock import HasTimeZone
from openiop.notifications.models import Kind

SMS_TEXTS: dict[str, str] = {
    Kind.SESSION_DAY_BEFORE: "You have an appointment tomorrow at {time}. Reply STOP to stop.",
    Kind.SESSION_HOUR_BEFORE: "You have an appointment today at {time}. Reply STOP to stop.",
    Kind.CHECK_IN: "A reminder to complete today's check-in. Reply STOP to stop.",
    Kind.DIARY_CARD: "A reminder to fill in today's card. Reply STOP to stop.",
    Kind.MEASURE_DUE: "You have a short form to complete. Reply STOP to stop.",
    Kind.STAFF_ALERT: "You have a new alert to review. Sign in to see it.",
}

EMAIL_SUBJECT = "Reminder"
EMAIL_FOOTER = "\n\nSign in to see details: {portal_url}\n"


def clock_label(moment: datetime, program: HasTimeZone) -> str:
    """'6:00 pm' on the program's wall clock."""
    local = clock.local_time(moment, program)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def sms_text(kind: str, event_at: datetime | None, program: HasTimeZone) -> str:
    label = clock_label(event_at, program) if event_at is not None else ""
    return SMS_TEXTS[kind].format(time=label)


def email_text(kind: str, event_at: datetime | None, program: HasTimeZone, portal_url: str) -> str:
    body = sms_text(kind, event_at, program).replace(" Reply STOP to stop.", "")
    return body + EMAIL_FOOTER.format(portal_url=portal_url)
