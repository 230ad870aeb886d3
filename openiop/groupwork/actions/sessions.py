"""Writes for schedules, sessions, the agenda checklist and the shared group section."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction

from openiop.accounts.models import Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.curriculum.library import library
from openiop.groupwork.guard import Peer, find_peer_mentions
from openiop.groupwork.models import GroupSchedule, Modality, Session, SessionKind, SessionStatus
from openiop.programs.models import Program, Track

FACILITATOR_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.PROGRAM_DIRECTOR)


def _is_facilitator(user: User | None, program: Program) -> bool:
    if user is None or user.kind != UserKind.STAFF:
        return False
    return Membership.objects.filter(
        user=user, program=program, is_active=True, role__in=FACILITATOR_ROLES
    ).exists()


def _plan_errors(kind: str, plan_code: str) -> dict[str, str]:
    if kind != SessionKind.GROUP:
        return {}
    if not plan_code:
        return {"plan_code": "A group session follows a curriculum plan; choose one."}
    try:
        library().plan(plan_code)
    except KeyError:
        return {"plan_code": f"{plan_code!r} is not a plan in the curriculum library."}
    return {}


def _session_errors(
    *,
    program: Program,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User,
    co_facilitator: User | None,
    track: Track | None,
    plan_code: str,
    capacity: int,
) -> dict[str, str]:
    errors = _plan_errors(kind, plan_code)
    if kind not in SessionKind.values:
        errors["kind"] = f"Choose one of: {', '.join(SessionKind.values)}."
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    elif ends_at - starts_at > timedelta(hours=6):
        errors["ends_at"] = "A session longer than 6 hours is more likely a typo; split it."
    if not _is_facilitator(facilitator, program):
        errors["facilitator"] = "Choose a clinician who works in this program."
    if co_facilitator is not None and (
        co_facilitator == facilitator or not _is_facilitator(co_facilitator, program)
    ):
        errors["co_facilitator"] = "Choose a different clinician of this program, or none."
    if track is not None and track.program_id != program.pk:
        errors["track"] = "Choose a track of this program."
    max_size = int(program.rules.rules["max_group_size"].value)  # type: ignore[call-overload]
    if kind == SessionKind.GROUP and not 1 <= capacity <= max_size:
        errors["capacity"] = f"The program's rule pack allows groups of at most {max_size}."
    return errors


@transaction.atomic
def session_create(
    *,
    actor: User,
    program: Program,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User,
    co_facilitator: User | None = None,
    track: Track | None = None,
    plan_code: str = "",
    room: str = "",
    video_link: str = "",
    capacity: int = 12,
    schedule: GroupSchedule | None = None,
    modality: str = Modality.IN_PERSON,
) -> Session:
    errors = _session_errors(
        program=program,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        track=track,
        plan_code=plan_code,
        capacity=capacity,
    )
    if not title.strip():
        errors["title"] = "Give the session a title."
    errors.update(_modality_errors(modality))
    if errors:
        raise ActionError(errors)
    session = Session.objects.create(
        program=program,
        kind=kind,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        track=track,
        plan_code=plan_code,
        room=room,
        video_link=video_link,
        modality=modality,
        capacity=capacity,
        schedule=schedule,
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=session, detail={"kind": kind})
    return session


@transaction.atomic
def schedule_create(
    *,
    actor: User,
    program: Program,
    track: Track,
    title: str,
    weekday: int,
    start_time: time,
    end_time: time,
    facilitator: User,
    plan_rotation: list[str],
    active_from: date,
    co_facilitator: User | None = None,
    room: str = "",
    video_link: str = "",
    capacity: int = 12,
    modality: str = Modality.IN_PERSON,
) -> GroupSchedule:
    errors: dict[str, str] = _modality_errors(modality)
    if not 0 <= weekday <= 6:
        errors["weekday"] = "Choose a day from Monday (0) to Sunday (6)."
    if end_time <= start_time:
        errors["end_time"] = "The group must end after it starts."
    if not plan_rotation:
        errors["plan_rotation"] = "List at least one curriculum plan."
    for code in plan_rotation:
        for message in _plan_errors(SessionKind.GROUP, code).values():
            errors["plan_rotation"] = message
    if not _is_facilitator(facilitator, program):
        errors["facilitator"] = "Choose a clinician who works in this program."
    if track.program_id != program.pk:
        errors["track"] = "Choose a track of this program."
    if errors:
        raise ActionError(errors)
    schedule = GroupSchedule.objects.create(
        program=program,
        track=track,
        title=title.strip(),
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        room=room,
        video_link=video_link,
        modality=modality,
        capacity=capacity,
        plan_rotation=plan_rotation,
        active_from=active_from,
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=schedule)
    return schedule


def _modality_errors(modality: str) -> dict[str, str]:
    if modality in Modality.values:
        return {}
    return {"modality": "Choose in person, virtual or hybrid."}


def _local(program: Program, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=clock.zone(program))


@transaction.atomic
def schedule_generate_week(
    *, actor: User, schedule: GroupSchedule, week_start: date
) -> Session | None:
    """The week's session of a recurring group (idempotent), bound to the next plan of its
    rotation: groups are open, so the rotation simply cycles week by week."""
    day = week_start + timedelta(days=schedule.weekday)
    if day < schedule.active_from or (schedule.active_until and day > schedule.active_until):
        return None
    program = schedule.program
    starts_at = _local(program, day, schedule.start_time)
    existing = Session.objects.filter(schedule=schedule, starts_at=starts_at).first()
    if existing is not None:
        return existing
    weeks_in = (day - schedule.active_from).days // 7
    plan_code = schedule.plan_rotation[weeks_in % len(schedule.plan_rotation)]
    return session_create(
        actor=actor,
        program=program,
        kind=SessionKind.GROUP,
        title=schedule.title,
        starts_at=starts_at,
        ends_at=_local(program, day, schedule.end_time),
        facilitator=schedule.facilitator,
        co_facilitator=schedule.co_facilitator,
        track=schedule.track,
        plan_code=plan_code,
        room=schedule.room,
        video_link=schedule.video_link,
        modality=schedule.modality,
        capacity=schedule.capacity,
        schedule=schedule,
    )


@transaction.atomic
def session_agenda_toggle(
    *, actor: User, session: Session, block_index: int, done: bool
) -> Session:
    plan = library().plan(session.plan_code) if session.plan_code else None
    if plan is None or not 0 <= block_index < len(plan.agenda):
        raise ActionError({"block_index": "That agenda block is not part of this session's plan."})
    marked = set(session.agenda_done)
    marked.add(block_index) if done else marked.discard(block_index)
    session.agenda_done = sorted(marked)
    session.save(update_fields=["agenda_done", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=session,
        detail={"agenda_block": block_index, "done": done},
    )
    return session


@transaction.atomic
def session_set_status(*, actor: User, session: Session, status: str) -> Session:
    if status not in SessionStatus.values:
        raise ActionError({"status": f"Choose one of: {', '.join(SessionStatus.values)}."})
    session.status = status
    session.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="update", obj=session, detail={"status": status})
    return session


def roster_peers(session: Session) -> list[Peer]:
    """Everyone on the roster, as the guard sees them (names and record numbers)."""
    rows = session.attendance.filter(removed=False).select_related("participant")
    return [
        Peer(
            a.participant.legal_first_name,
            a.participant.legal_last_name,
            a.participant.preferred_name,
            a.participant.record_number,
        )
        for a in rows
    ]


@transaction.atomic
def session_shared_note_save(
    *, actor: User, session: Session, topic: str, interventions: str, process: str
) -> Session:
    """The shared group section carries no participant identifiers at all (clinical.md 7)."""
    peers = roster_peers(session)
    errors = {
        name: "Names a group member; the shared section must not identify anyone."
        for name, text in (
            ("shared_topic", topic),
            ("shared_interventions", interventions),
            ("shared_process", process),
        )
        if find_peer_mentions(text, peers)
    }
    if errors:
        raise ActionError(errors)
    session.shared_topic = topic.strip()
    session.shared_interventions = interventions.strip()
    session.shared_process = process.strip()
    session.save(
        update_fields=["shared_topic", "shared_interventions", "shared_process", "updated_at"]
    )
    audit_record(actor=actor, action="update", obj=session, detail={"section": "shared"})
    return session
