"""Plans due reminders idempotently: one row per participant + kind + target + channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from openiop.core import clock
from openiop.groupwork.models import Session
from openiop.notifications.models import Channel, ContactPreference, Kind, OutboundMessage
from openiop.notifications.quiet import send_after
from openiop.participants.models import Participant

# Sessions further ahead than this are planned on a later sweep.
HORIZON = timedelta(days=2)


def _session_dues(session: Session, pref: ContactPreference) -> list[tuple[str, datetime]]:
    program = session.program
    day_before = clock.local_date(session.starts_at, program) - timedelta(days=1)
    return [
        (Kind.SESSION_DAY_BEFORE, clock.at_local(day_before, pref.day_before_at, program)),
        (Kind.SESSION_HOUR_BEFORE, session.starts_at - timedelta(hours=1)),
    ]


def _channels(pref: ContactPreference) -> list[str]:
    return [c for c in Channel.values if pref.channel_on(c)]


def _plan_one(
    participant: Participant, kind: str, target: str, channel: str, due: datetime, event: datetime
) -> bool:
    # The reverse one-to-one (ContactPreference.participant); getattr keeps mypy's Django
    # plugin, which does not see this app's reverse relations on Participant, quiet.
    pref = getattr(participant, "contact_preference")  # noqa: B009
    key = f"{participant.external_id}:{kind}:{target}:{channel}"
    if OutboundMessage.objects.filter(dedupe_key=key).exists():
        return False
    held = send_after(due, pref.quiet_start, pref.quiet_end, participant.program)
    try:
        with transaction.atomic():
            OutboundMessage.objects.create(
                participant=participant,
                kind=kind,
                channel=channel,
                target=target,
                dedupe_key=key,
                event_at=event,
                due_at=due,
                send_after=held,
            )
    except IntegrityError:  # another worker planned it first
        return False
    return True


def plan_session_reminders(now: datetime | None = None) -> int:
    """Reminders for every scheduled session, not yet started, that a participant who wants
    session reminders is on the roster of."""
    now = now or clock.now()
    planned = 0
    sessions = (
        Session.objects.filter(starts_at__gt=now, starts_at__lt=now + HORIZON, status="scheduled")
        .select_related("program")
        .prefetch_related("attendance__participant__contact_preference")
    )
    for session in sessions:
        for row in session.attendance.all():
            if row.removed:
                continue
            participant = row.participant
            pref = getattr(participant, "contact_preference", None)
            if pref is None or not pref.session_reminders:
                continue
            for kind, due in _session_dues(session, pref):
                for channel in _channels(pref):
                    planned += _plan_one(
                        participant, kind, str(session.external_id), channel, due, session.starts_at
                    )
    return planned
