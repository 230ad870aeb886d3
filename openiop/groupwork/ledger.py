"""The weekly hours ledger: attended minutes per participant per ISO week, by modality,
checked against the program's rule pack (clinical.md section 1)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from openiop.core import clock
from openiop.groupwork.models import Attendance, AttendanceStatus, SessionKind, SessionStatus
from openiop.participants.models import Participant
from openiop.programs.models import Program

MODALITIES = (SessionKind.GROUP, SessionKind.INDIVIDUAL, SessionKind.FAMILY)


def iso_week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(program: Program, week_start: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the program's own time zone."""
    tz = clock.zone(program)
    start = datetime.combine(week_start, time.min, tzinfo=tz)
    return start, start + timedelta(days=7)


@dataclass
class LedgerRow:
    participant_id: int
    minutes: dict[str, int] = field(default_factory=lambda: {m.value: 0 for m in MODALITIES})
    scheduled_remaining: int = 0
    required: int = 0
    scheduled: dict[str, int] = field(default_factory=lambda: {m.value: 0 for m in MODALITIES})

    @property
    def planned(self) -> dict[str, int]:
        """Attended plus still booked, by modality: the week as it stands."""
        return {kind: self.minutes[kind] + self.scheduled[kind] for kind in self.minutes}

    @property
    def total(self) -> int:
        return sum(self.minutes.values())

    @property
    def shortfall(self) -> int:
        return max(self.required - self.total, 0)

    @property
    def booked_shortfall(self) -> int:
        """Minutes still missing even if everything booked this week is attended."""
        return max(self.required - self.total - self.scheduled_remaining, 0)

    @property
    def meets_minimum(self) -> bool:
        return self.total >= self.required

    @property
    def at_risk(self) -> bool:
        """Even attending everything still scheduled this week would not close the gap."""
        return not self.meets_minimum and self.total + self.scheduled_remaining < self.required


def weekly_ledger(
    *,
    program: Program,
    week_start: date,
    participant_ids: list[int] | None = None,
    now: datetime | None = None,
) -> dict[int, LedgerRow]:
    """Two grouped queries, however many participants or sessions."""
    start, end = week_bounds(program, week_start)
    now = now or timezone.now()
    required = program.rules.min_weekly_minutes(program.population)
    rows: dict[int, LedgerRow] = defaultdict(lambda: LedgerRow(0, required=required))
    week = Attendance.objects.filter(
        program=program, session__starts_at__gte=start, session__starts_at__lt=end, removed=False
    )
    if participant_ids is not None:
        week = week.filter(participant_id__in=participant_ids)
    attended = week.filter(status=AttendanceStatus.PRESENT).values(
        "participant_id", "session__kind"
    )
    for item in attended.annotate(total=Sum("minutes")):
        row = rows[item["participant_id"]]
        row.participant_id = item["participant_id"]
        row.minutes[item["session__kind"]] += item["total"] or 0
    # Still booked: sessions ahead, and those under way or over whose attendance nobody has
    # recorded yet (a closed session has no expected rows left: they became absences).
    upcoming = (
        week.filter(status=AttendanceStatus.EXPECTED)
        .filter(Q(session__starts_at__gte=now) | ~Q(session__status=SessionStatus.COMPLETED))
        .exclude(session__status=SessionStatus.CANCELLED)
        .values_list("participant_id", "session__kind", "session__starts_at", "session__ends_at")
    )
    for participant_id, kind, starts_at, ends_at in upcoming:
        row = rows[participant_id]
        row.participant_id = participant_id
        length = int((ends_at - starts_at).total_seconds() // 60)
        row.scheduled_remaining += length
        row.scheduled[kind] += length
    return dict(rows)


@dataclass(frozen=True)
class UnderMinimum:
    participant: Participant
    row: LedgerRow


def under_minimum(
    *, program: Program, week_start: date, now: datetime | None = None
) -> list[UnderMinimum]:
    """Active participants under the weekly minimum, biggest shortfall first."""
    active = list(
        Participant.objects.filter(
            program=program, enrollments__discharged_on__isnull=True
        ).distinct()
    )
    ledger = weekly_ledger(program=program, week_start=week_start, now=now)
    required = program.rules.min_weekly_minutes(program.population)
    result = []
    for participant in active:
        row = ledger.get(participant.pk) or LedgerRow(participant.pk, required=required)
        if not row.meets_minimum:
            result.append(UnderMinimum(participant, row))
    return sorted(result, key=lambda u: (-u.row.shortfall, u.participant.legal_last_name))


@dataclass(frozen=True)
class WeekHours:
    """One active participant's week: met, on track (attended plus still booked reaches the
    minimum) or at risk (even attending everything booked leaves a gap)."""

    participant: Participant
    row: LedgerRow

    @property
    def status(self) -> str:
        if self.row.meets_minimum:
            return "met"
        return "at_risk" if self.row.at_risk else "on_track"


def week_hours(
    *, program: Program, week_start: date, now: datetime | None = None
) -> list[WeekHours]:
    """Every active participant's week, at risk first (biggest gap first), then on track, then
    those who have already reached the minimum."""
    active = list(
        Participant.objects.filter(
            program=program, enrollments__discharged_on__isnull=True
        ).distinct()
    )
    ledger = weekly_ledger(program=program, week_start=week_start, now=now)
    required = program.rules.min_weekly_minutes(program.population)
    rows = [WeekHours(p, ledger.get(p.pk) or LedgerRow(p.pk, required=required)) for p in active]
    order = {"at_risk": 0, "on_track": 1, "met": 2}
    return sorted(
        rows,
        key=lambda w: (
            order[w.status],
            -w.row.booked_shortfall,
            w.participant.legal_last_name,
            w.participant.pk,
        ),
    )


def participant_weeks(
    *, participant: Participant, weeks: int = 6, today: date | None = None
) -> list[tuple[date, LedgerRow]]:
    """The last few ISO weeks of one participant, newest first (for the chart), from one
    query over those weeks' attendance plus the current week's remaining schedule."""
    program = participant.program
    tz = clock.zone(program)
    current = iso_week_start(today or timezone.now().astimezone(tz).date())
    oldest = current - timedelta(weeks=weeks - 1)
    start, _ = week_bounds(program, oldest)
    _, end = week_bounds(program, current)
    required = program.rules.min_weekly_minutes(program.population)
    rows = {
        current - timedelta(weeks=back): LedgerRow(participant.pk, required=required)
        for back in range(weeks)
    }
    attended = Attendance.objects.filter(
        participant=participant,
        status=AttendanceStatus.PRESENT,
        removed=False,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    ).values_list("session__starts_at", "session__kind", "minutes")
    for starts_at, kind, minutes in attended:
        rows[iso_week_start(starts_at.astimezone(tz).date())].minutes[kind] += minutes
    this_week = weekly_ledger(program=program, week_start=current, participant_ids=[participant.pk])
    if participant.pk in this_week:
        rows[current].scheduled_remaining = this_week[participant.pk].scheduled_remaining
    return sorted(rows.items(), key=lambda item: item[0], reverse=True)
