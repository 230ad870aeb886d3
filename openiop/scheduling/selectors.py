"""Reads for the weekly board and planner runs."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.http import Http404

from openiop.accounts.models import User
from openiop.core import clock
from openiop.groupwork.ledger import LedgerRow, week_bounds, weekly_ledger
from openiop.groupwork.models import Attendance, Session, SessionStatus
from openiop.participants.models import Participant
from openiop.programs.models import Program, Track
from openiop.scheduling.models import PlanRun, PlanRunKind

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass
class BoardCell:
    sessions: list[Session] = field(default_factory=list)


@dataclass
class Board:
    week_start: date
    days: list[date]
    rows: list[tuple[Track, list[BoardCell]]]
    under: list[tuple[Participant, LedgerRow]]
    conflicts: list[tuple[Participant, Session, Session]]
    runs: list[PlanRun]


def weekly_board(*, program: Program, week_start: date) -> Board:
    tz = clock.zone(program)
    start, end = week_bounds(program, week_start)
    sessions = list(
        Session.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("track", "facilitator")
        .order_by("starts_at")
    )
    booked: dict[int, int] = {}
    rows = Attendance.objects.filter(session__in=sessions, removed=False).select_related(
        "participant"
    )
    by_participant: dict[int, list[tuple[Participant, Session]]] = {}
    session_by_id = {s.pk: s for s in sessions}
    for row in rows:
        booked[row.session_id] = booked.get(row.session_id, 0) + 1
        by_participant.setdefault(row.participant_id, []).append(
            (row.participant, session_by_id[row.session_id])
        )
    for s in sessions:
        s.booked = booked.get(s.pk, 0)  # type: ignore[attr-defined]
    tracks = list(program.tracks.filter(is_active=True).order_by("name"))
    grid = []
    for track in tracks:
        cells = [BoardCell() for _ in range(7)]
        for s in sessions:
            if s.track_id == track.pk:
                cells[s.starts_at.astimezone(tz).weekday()].sessions.append(s)
        grid.append((track, cells))
    return Board(
        week_start=week_start,
        days=[week_start + timedelta(days=i) for i in range(7)],
        rows=grid,
        under=_under(program, week_start),
        conflicts=_conflicts(by_participant),
        runs=list(PlanRun.objects.filter(program=program, week_start=week_start)[:5]),
    )


def _under(program: Program, week_start: date) -> list[tuple[Participant, LedgerRow]]:
    """Active participants whose attended plus booked minutes fall short of the minimum."""
    ledger = weekly_ledger(program=program, week_start=week_start)
    required = program.rules.min_weekly_minutes(program.population)
    active = (
        Participant.objects.filter(program=program, enrollments__discharged_on__isnull=True)
        .distinct()
        .order_by("legal_last_name")
    )
    result = []
    for p in active:
        row = ledger.get(p.pk) or LedgerRow(p.pk, required=required)
        if row.total + row.scheduled_remaining < required:
            result.append((p, row))
    return result


def _conflicts(
    by_participant: dict[int, list[tuple[Participant, Session]]],
) -> list[tuple[Participant, Session, Session]]:
    found = []
    for items in by_participant.values():
        items.sort(key=lambda item: item[1].starts_at)
        for (person, first), (_, second) in itertools.pairwise(items):
            if second.starts_at < first.ends_at:
                found.append((person, first, second))
    return found


def plan_run_get(*, program: Program, run_id: UUID | str) -> PlanRun:
    try:
        return PlanRun.objects.get(program=program, external_id=run_id)
    except (PlanRun.DoesNotExist, ValueError):
        raise Http404("plan run not found") from None


@dataclass(frozen=True)
class Comparison:
    participant: Participant
    current: int
    planned: int
    meets: bool
    reasons: list[str]


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def group_label(day: int, start: str, track: str) -> str:
    """A group as people know it: "Tue 9:00 AM-track group"."""
    hour, minute = start.split(":")[:2]
    kind = f"{track}-track group" if track else "group"
    return f"{DAYS[day]} {int(hour)}:{minute} {kind}"


def run_names(run: PlanRun) -> dict[str, str]:
    """What each id in a run's documents is called on a page: groups by day, time and track
    (with the room when two groups share them), clinicians by name. The stored documents keep
    the ids (the planner's machine contract); pages show these names instead."""
    groups = run.input_doc.get("groups", [])
    rooms = {
        str(external_id): room
        for external_id, room in Session.objects.filter(
            program=run.program, external_id__in=[g["id"] for g in groups]
        ).values_list("external_id", "room")
    }
    labels = {g["id"]: group_label(g["day"], g["start"], g.get("track", "")) for g in groups}
    counts = Counter(labels.values())
    names = {
        gid: f"{label} ({rooms[gid]})" if counts[label] > 1 and rooms.get(gid) else label
        for gid, label in labels.items()
    }
    clinician_ids = [c["id"] for c in run.input_doc.get("clinicians", [])]
    for user in User.objects.filter(external_id__in=clinician_ids):
        names[str(user.external_id)] = user.get_full_name() or user.username
    return names


def readable(text: str, names: dict[str, str], *, makeup: bool = False) -> str:
    """A planner reason with every id replaced by its name (never a raw id on a page). A
    make-up run counts what is booked ahead as already done, and says so."""
    if makeup:
        text = text.replace(" min already attended", " min already attended or booked")
    return _UUID.sub(lambda m: names.get(m.group(0).lower(), "another session"), text)


def plan_reasons(*, program: Program, week_start: date) -> dict[UUID, list[str]] | None:
    """The reasons of the week's most recently applied plan, by participant, in words; None
    when no plan has been applied to the week."""
    run = (
        PlanRun.objects.filter(program=program, week_start=week_start, applied_at__isnull=False)
        .order_by("-applied_at")
        .first()
    )
    if run is None:
        return None
    names = run_names(run)
    makeup = run.kind == PlanRunKind.MAKEUP
    return {
        UUID(item["id"]): [readable(r, names, makeup=makeup) for r in item["reasons"]]
        for item in run.output_doc["participants"]
        if item["reasons"]
    }


def compare(run: PlanRun) -> list[Comparison]:
    """The proposed plan beside the current one, participant by participant."""
    names = run_names(run)
    ledger = weekly_ledger(program=run.program, week_start=run.week_start)
    ids = [p["id"] for p in run.output_doc["participants"]]
    people = {
        str(p.external_id): p
        for p in Participant.objects.filter(program=run.program, external_id__in=ids)
    }
    result = []
    for item in run.output_doc["participants"]:
        person = people.get(item["id"])
        if person is None:
            continue
        row = ledger.get(person.pk)
        current = (row.total + row.scheduled_remaining) if row else 0
        result.append(
            Comparison(
                person,
                current,
                item["total_minutes"],
                item["meets_minimum"],
                [
                    readable(r, names, makeup=run.kind == PlanRunKind.MAKEUP)
                    for r in item["reasons"]
                ],
            )
        )
    return sorted(result, key=lambda c: (c.meets, c.participant.legal_last_name))


def session_labels(run: PlanRun) -> dict[str, Any]:
    ids = [a["group"] for a in run.output_doc["assignments"]]
    return {
        str(s.external_id): s
        for s in Session.objects.filter(program=run.program, external_id__in=ids)
    }
