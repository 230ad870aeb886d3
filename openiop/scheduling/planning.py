"""Build the planner's input document (openiop.plan-week/1) from the database, and read the
result back in terms of sessions and participants."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from openiop.accounts.models import User
from openiop.accounts.selectors import clinicians_for_program
from openiop.core import clock
from openiop.groupwork.ledger import week_bounds, weekly_ledger
from openiop.groupwork.models import Attendance, Session, SessionKind, SessionStatus
from openiop.participants.models import Enrollment
from openiop.programs.models import Program
from openiop.scheduling.models import AvailabilityWindow, PlanningProfile

# Clinicians without recorded availability are assumed to work program hours on weekdays.
DEFAULT_CLINICIAN_HOURS = (time(8, 0), time(21, 30))
MINUTES_PER_DAY = 24 * 60


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _merge(windows: list[tuple[int, time, time]]) -> list[dict[str, Any]]:
    """Overlapping or touching windows on the same day become one (the contract forbids
    overlaps within a list)."""
    by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for day, start, end in windows:
        by_day[day].append((start, end))
    merged = []
    for day in sorted(by_day):
        spans = sorted(by_day[day])
        current_start, current_end = spans[0]
        for start, end in spans[1:]:
            if start <= current_end:
                current_end = max(current_end, end)
            else:
                merged.append(
                    {"day": day, "start": _hhmm(current_start), "end": _hhmm(current_end)}
                )
                current_start, current_end = start, end
        merged.append({"day": day, "start": _hhmm(current_start), "end": _hhmm(current_end)})
    return merged


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _subtract(
    windows: list[dict[str, Any]], busy: list[tuple[int, int, int]]
) -> list[dict[str, Any]]:
    """Windows minus busy (day, start, end) minute intervals: time already booked this week
    is no longer free for a make-up session."""
    result: list[dict[str, Any]] = []
    for w in windows:
        spans = [(_minutes(time.fromisoformat(w["start"])), _minutes(time.fromisoformat(w["end"])))]
        for day, b_start, b_end in busy:
            if day != w["day"]:
                continue
            spans = [
                piece
                for s, e in spans
                for piece in ((s, min(e, b_start)), (max(s, b_end), e))
                if piece[1] > piece[0]
            ]
        result.extend(
            {
                "day": w["day"],
                "start": f"{s // 60:02d}:{s % 60:02d}",
                "end": f"{e // 60:02d}:{e % 60:02d}",
            }
            for s, e in spans
        )
    return result


def _future_bookings(program: Program, groups: list[Session]) -> dict[int, list[Session]]:
    """Who is already expected at the groups still ahead (a make-up run keeps them)."""
    rows = Attendance.objects.filter(
        session__in=groups, removed=False, status="expected"
    ).values_list("participant_id", "session_id")
    by_id = {s.pk: s for s in groups}
    booked: dict[int, list[Session]] = defaultdict(list)
    for participant_id, session_id in rows:
        booked[participant_id].append(by_id[session_id])
    return booked


def _sessions_ahead(
    program: Program, week_start: date, after: datetime
) -> dict[int, list[Session]]:
    """Individual and family sessions booked later this week: a make-up run counts them and
    plans around them."""
    _, end = week_bounds(program, week_start)
    rows = (
        Attendance.objects.filter(
            program=program,
            removed=False,
            status="expected",
            session__starts_at__gte=after,
            session__starts_at__lt=end,
            session__kind__in=[SessionKind.INDIVIDUAL, SessionKind.FAMILY],
        )
        .exclude(session__status=SessionStatus.CANCELLED)
        .select_related("session")
    )
    booked: dict[int, list[Session]] = defaultdict(list)
    for row in rows:
        booked[row.participant_id].append(row.session)
    return booked


def _local(dt: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    return dt.astimezone(tz)


def _busy(session: Session, tz: zoneinfo.ZoneInfo) -> tuple[int, int, int]:
    start, end = _local(session.starts_at, tz), _local(session.ends_at, tz)
    return start.weekday(), _minutes(start.time()), _minutes(end.time())


def _length(session: Session) -> int:
    return int((session.ends_at - session.starts_at).total_seconds() // 60)


def week_groups(
    program: Program, week_start: date, *, after: datetime | None = None
) -> list[Session]:
    start, end = week_bounds(program, week_start)
    sessions = (
        Session.objects.filter(
            program=program,
            kind=SessionKind.GROUP,
            starts_at__gte=max(start, after) if after else start,
            starts_at__lt=end,
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("track", "facilitator")
    )
    return list(sessions.order_by("starts_at", "pk"))


def _clinicians(
    program: Program, groups: list[Session]
) -> tuple[list[dict[str, Any]], dict[int, User]]:
    staff = {u.pk: u for u in clinicians_for_program(program=program)}
    for session in groups:  # a facilitator must be listed even without a caseload role
        staff.setdefault(session.facilitator_id, session.facilitator)
    windows: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for w in AvailabilityWindow.objects.filter(program=program, user_id__in=list(staff)):
        if w.user_id is not None:
            windows[w.user_id].append((w.weekday, w.start_time, w.end_time))
    default = [(day, *DEFAULT_CLINICIAN_HOURS) for day in range(5)]
    docs = [
        {"id": str(user.external_id), "available": _merge(windows.get(pk) or default)}
        for pk, user in staff.items()
    ]
    return docs, staff


def _booked_individual(program: Program, week_start: date) -> set[tuple[int, str]]:
    start, end = week_bounds(program, week_start)
    rows = (
        Attendance.objects.filter(
            program=program,
            removed=False,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
            session__kind__in=[SessionKind.INDIVIDUAL, SessionKind.FAMILY],
        )
        .exclude(session__status=SessionStatus.CANCELLED)
        .values_list("participant_id", "session__kind")
    )
    return set(rows)


def _already_past(
    week_start: date, after: datetime, tz: zoneinfo.ZoneInfo
) -> list[tuple[int, int, int]]:
    """(day, start, end) spans of the week before `after`, rounded up to the next quarter
    hour: a make-up run books nothing in the past."""
    local = after.astimezone(tz)
    days = (local.date() - week_start).days
    if days < 0:
        return []
    if days > 6:
        return [(day, 0, MINUTES_PER_DAY) for day in range(7)]
    minute = min(-(-(_minutes(local.time()) + (local.second > 0)) // 15) * 15, MINUTES_PER_DAY)
    return [(day, 0, MINUTES_PER_DAY) for day in range(days)] + [(days, 0, minute)]


def _in_care(
    windows: list[tuple[int, time, time]], episodes: list[Enrollment], week_start: date
) -> list[tuple[int, time, time]]:
    """Only the days of the week an episode of care covers: someone admitted on Wednesday
    cannot be placed in Monday's group, nor someone discharged on Tuesday in Thursday's.
    With two episodes in one week (discharged and re-admitted) the days of either count."""
    return [
        (day, start, end)
        for day, start, end in windows
        if any(
            episode.admitted_on <= week_start + timedelta(days=day)
            and (
                episode.discharged_on is None
                or week_start + timedelta(days=day) <= episode.discharged_on
            )
            for episode in episodes
        )
    ]


def _one_per_participant(episodes: list[Enrollment]) -> dict[int, list[Enrollment]]:
    """A participant's episodes in the week, the current one first: the open episode, else
    the latest admitted. A same-day discharge and re-admission gives one person two episodes
    this week, and the planner needs each person once (its ids must be unique)."""
    by_person: dict[int, list[Enrollment]] = defaultdict(list)
    for e in episodes:
        by_person[e.participant_id].append(e)
    for mine in by_person.values():
        mine.sort(key=lambda e: (e.discharged_on is None, e.admitted_on, e.pk), reverse=True)
    return dict(by_person)


def build_input(
    *, program: Program, week_start: date, makeup_after: datetime | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The planner input, and an index from the document's ids back to database rows."""
    groups = week_groups(program, week_start, after=makeup_after)
    clinicians, staff = _clinicians(program, groups)
    tz = clock.zone(program)
    episodes = list(
        Enrollment.objects.filter(program=program, admitted_on__lte=week_start + timedelta(days=6))
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=week_start))
        .select_related("participant", "track", "primary_clinician")
    )
    ids = [e.participant_id for e in episodes]
    profiles = {
        p.participant_id: p
        for p in PlanningProfile.objects.filter(participant_id__in=ids).prefetch_related("tracks")
    }
    windows: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for w in AvailabilityWindow.objects.filter(program=program, participant_id__in=ids):
        if w.participant_id is not None:
            windows[w.participant_id].append((w.weekday, w.start_time, w.end_time))
    attended = (
        weekly_ledger(program=program, week_start=week_start, participant_ids=ids)
        if makeup_after
        else {}
    )
    booked = _booked_individual(program, week_start)
    ahead = _future_bookings(program, groups) if makeup_after else {}
    taken: dict[int, int] = defaultdict(int)
    for sessions in ahead.values():
        for session in sessions:
            taken[session.pk] += 1
    past = _already_past(week_start, makeup_after, tz) if makeup_after else []
    own_ahead = _sessions_ahead(program, week_start, makeup_after) if makeup_after else {}
    participants = []
    for mine in _one_per_participant(episodes).values():
        e = mine[0]
        profile = profiles.get(e.participant_id)
        tracks = sorted({t.code for t in profile.tracks.all()} if profile else set()) or [
            e.track.code
        ]
        clinician_ok = e.primary_clinician_id in staff
        individual = profile.individual_minutes if profile else 60
        family = profile.family_minutes if profile else 0
        participants.append(
            {
                "id": str(e.participant.external_id),
                "population": program.population,
                "tracks": tracks,
                "available": _subtract(
                    _merge(_in_care(windows.get(e.participant_id, []), mine, week_start)),
                    [_busy(s, tz) for s in ahead.get(e.participant_id, [])]
                    + [_busy(s, tz) for s in own_ahead.get(e.participant_id, [])]
                    + past,
                ),
                # Already attended, plus already booked ahead, count toward the minimum.
                "attended_minutes": (
                    attended[e.participant_id].total if e.participant_id in attended else 0
                )
                + sum(_length(s) for s in ahead.get(e.participant_id, []))
                + sum(_length(s) for s in own_ahead.get(e.participant_id, [])),
                "individual_minutes": 0
                if (e.participant_id, "individual") in booked or not clinician_ok
                else individual,
                "family_minutes": 0
                if (e.participant_id, "family") in booked or not clinician_ok
                else family,
                **(
                    {"primary_clinician": str(e.primary_clinician.external_id)}
                    if clinician_ok
                    else {}
                ),
            }
        )
    rules = program.rules
    doc = {
        "schema": "openiop.plan-week/1",
        "week_start": week_start.isoformat(),
        "rules": {
            "min_minutes": {
                "adult": rules.min_weekly_minutes("adult"),
                "adolescent": rules.min_weekly_minutes("adolescent"),
            },
            "max_minutes": {
                "adult": rules.max_weekly_minutes("adult"),
                "adolescent": rules.max_weekly_minutes("adolescent"),
            },
            "max_group_size": int(rules.rules["max_group_size"].value),  # type: ignore[call-overload]
        },
        "clinicians": clinicians,
        "groups": [
            {
                "id": str(s.external_id),
                "track": s.track.code if s.track else "",
                "day": _local(s.starts_at, tz).weekday(),
                "start": _hhmm(_local(s.starts_at, tz).time()),
                "end": _hhmm(_local(s.ends_at, tz).time()),
                "facilitator": str(s.facilitator.external_id),
                # A full group stays in the document with no places, so the reasons can say
                # "full" rather than "no group is scheduled".
                "capacity": max(s.capacity - taken[s.pk], 0),
            }
            for s in groups
            if s.track is not None
        ],
        "participants": participants,
    }
    index = {
        "sessions": {str(s.external_id): s for s in groups},
        "participants": {str(e.participant.external_id): e.participant for e in episodes},
        "clinicians": {str(u.external_id): u for u in staff.values()},
    }
    return doc, index
