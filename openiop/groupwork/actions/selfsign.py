"""Participants' own sign-in: a room code or a video join records arrival and departure
*candidates* on their attendance row. The facilitator confirms or corrects them in the runner
through `attendance_arrive` / `attendance_depart`, so minutes (and the weekly dose) only ever
come from confirmed times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.groupwork import roomcode
from openiop.groupwork.models import Attendance
from openiop.participants.models import Participant

GUESS_PERIOD = timedelta(minutes=10)
# A second "Sign in" this soon after the first is a double tap or a resend, not leaving.
REPEAT_WITHIN = timedelta(minutes=2)
# Shown to participants in their portal language (docs/portal.md, "Languages").
WRONG_CODE = gettext_lazy(
    "That code is not right, or this group's sign-in is not open. Check the code in the room."
)
TOO_MANY = gettext_lazy(
    "Too many wrong codes. Wait 10 minutes, or ask the facilitator to sign you in."
)
ALREADY_OUT = gettext_lazy("You have already signed out of this group.")
_KIND = "room_code"


@dataclass(frozen=True)
class SelfSignResult:
    attendance: Attendance
    verb: str  # "arrived" or "left"
    at: datetime


def open_rows(participant: Participant, at: datetime) -> list[Attendance]:
    """The participant's own roster rows whose sessions take sign-ins now (none of anyone
    else's: a code works only for the session's roster)."""
    early = timedelta(minutes=settings.OPENIOP_ROOM_CODE_EARLY_MINUTES)
    rows = (
        Attendance.objects.filter(
            program=participant.program,
            participant=participant,
            removed=False,
            session__starts_at__lte=at + early,
            session__ends_at__gte=at,
        )
        .exclude(session__status="cancelled")
        .select_related("session", "session__program")
        .order_by("session__starts_at")
    )
    return [r for r in rows if roomcode.is_open(r.session, at)]


def wrong_codes_recently(participant: Participant, at: datetime) -> int:
    # Counted from the audit trail, which records every refused code anyway: one source of
    # truth, shared by every app process, nothing kept in memory.
    return AuditEvent.objects.filter(
        participant_external_id=participant.external_id,
        outcome="refused",
        occurred_at__gte=at - GUESS_PERIOD,
        detail__kind=_KIND,
    ).count()


def _record_candidate(actor: User, row: Attendance, at: datetime, via: str) -> SelfSignResult:
    arrived = row.self_arrived_at
    repeat = arrived is not None and row.self_left_at is None and at - arrived < REPEAT_WITHIN
    if repeat and via == "room_code" and arrived is not None:
        return SelfSignResult(row, "arrived", arrived)
    if row.self_arrived_at is None:
        row.self_arrived_at, verb = at, "arrived"
    elif row.self_left_at is None:
        row.self_left_at, verb = at, "left"
    else:
        raise ActionError({"code": str(ALREADY_OUT)})
    if via == "video":
        row.joined_by_video = True
    row.save(update_fields=["self_arrived_at", "self_left_at", "joined_by_video", "updated_at"])
    audit_record(actor=actor, action="update", obj=row, detail={"self_sign": verb, "via": via})
    return SelfSignResult(row, verb, at)


def attendance_self_sign(*, actor: User, participant: Participant, code: str) -> SelfSignResult:
    """The first right code signs the participant in, the next one signs them out. A wrong
    code is audited (and committed) before it is refused; after too many, every code is
    refused for a while so six characters cannot be guessed."""
    at = clock.now()
    with transaction.atomic():
        if wrong_codes_recently(participant, at) >= settings.OPENIOP_ROOM_CODE_MAX_WRONG:
            raise ActionError({"code": str(TOO_MANY)})
        for row in open_rows(participant, at):
            if roomcode.matches(row.session, code, at):
                locked = Attendance.objects.select_for_update().get(pk=row.pk)
                locked.session = row.session
                return _record_candidate(actor, locked, at, "room_code")
        audit_record(
            actor=actor,
            action="update",
            obj=participant,
            outcome="refused",
            detail={"kind": _KIND, "reason": "wrong_code"},
        )
    raise ActionError({"code": str(WRONG_CODE)})


def _video_row(participant: Participant, session_id: UUID, at: datetime) -> Attendance:
    # Looked up among the participant's own open rows only: another person's session id,
    # or a session not open yet, is the same refusal.
    for row in open_rows(participant, at):
        if str(row.session.external_id) == str(session_id) and roomcode.has_video(row.session):
            locked = Attendance.objects.select_for_update().get(pk=row.pk)
            locked.session = row.session
            return locked
    raise ActionError(
        {"session": gettext("This group has no video, or it is not open to join now.")}
    )


@transaction.atomic
def attendance_video_join(*, actor: User, participant: Participant, session_id: UUID) -> Attendance:
    """Joining records the arrival candidate; a re-join after a dropped call keeps the first
    arrival and clears a leave time that no longer holds. The caller then sends the
    participant on to the video link."""
    at = clock.now()
    row = _video_row(participant, session_id, at)
    verb = "joined" if row.self_arrived_at is None else "rejoined"
    row.self_arrived_at = row.self_arrived_at or at
    row.self_left_at = None
    row.joined_by_video = True
    row.save(update_fields=["self_arrived_at", "self_left_at", "joined_by_video", "updated_at"])
    audit_record(actor=actor, action="update", obj=row, detail={"self_sign": verb, "via": "video"})
    return row


@transaction.atomic
def attendance_video_leave(
    *, actor: User, participant: Participant, session_id: UUID
) -> SelfSignResult:
    at = clock.now()
    row = _video_row(participant, session_id, at)
    if row.self_arrived_at is None:
        raise ActionError({"session": gettext("Join the video first.")})
    if row.self_left_at is not None:
        raise ActionError({"session": str(ALREADY_OUT)})
    return _record_candidate(actor, row, at, "video")
