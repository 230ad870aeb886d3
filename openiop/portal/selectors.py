"""Reads for the portal (a participant's own records only) and for staff who look at what
participants recorded between sessions (chart panel, session runner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from openiop.accounts.models import User, UserKind
from openiop.core import clock
from openiop.curriculum.library import library
from openiop.curriculum.schema import SessionPlan
from openiop.groupwork.ledger import LedgerRow, iso_week_start, weekly_ledger
from openiop.groupwork.models import Attendance, AttendanceStatus, Session
from openiop.measures import selectors as measure_selectors
from openiop.measures.models import Assessment
from openiop.measures.selectors import DueItem
from openiop.participants.models import Enrollment, Participant
from openiop.participants.selectors import latest_episode
from openiop.portal.models import (
    CheckIn,
    DiaryCard,
    GoalStatus,
    GoalUpdate,
    HomeworkSubmission,
    SafetyPlan,
    WeeklyGoal,
)

HOMEWORK_LOOKBACK = timedelta(days=14)
UPCOMING_DAYS = 7
# Thresholds for the runner's attention list; documented in docs/portal.md.
HIGH_CRAVING = 7
LOW_MOOD = 2
HIGH_URGE = 4


def participant_for(user: User) -> Participant:
    """The participant record of a signed-in participant account; 404 for anyone else, so
    staff and system accounts never reach the portal (AUTH-01)."""
    if not user.is_authenticated or user.kind != UserKind.PARTICIPANT or not user.is_active:
        raise Http404("not a participant account")
    try:
        me = Participant.objects.select_related("program").get(user=user)
    except Participant.DoesNotExist:
        raise Http404("no participant record") from None
    clock.use_program_zone(me.program)
    return me


def today_for(participant: Participant) -> date:
    return clock.program_today(participant.program)


# --- my week -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWeek:
    week_start: date
    row: LedgerRow
    upcoming: list[Session]

    @property
    def attended_hours(self) -> float:
        return round(self.row.total / 60, 1)

    @property
    def required_hours(self) -> float:
        return round(self.row.required / 60, 1)

    @property
    def percent(self) -> int:
        return (
            min(100, round(100 * self.row.total / self.row.required)) if self.row.required else 100
        )


def my_week(participant: Participant) -> MyWeek:
    week_start = iso_week_start(today_for(participant))
    rows = weekly_ledger(
        program=participant.program, week_start=week_start, participant_ids=[participant.pk]
    )
    required = participant.program.rules.min_weekly_minutes(participant.program.population)
    row = rows.get(participant.pk) or LedgerRow(participant.pk, required=required)
    return MyWeek(week_start=week_start, row=row, upcoming=upcoming_sessions(participant))


def upcoming_sessions(participant: Participant) -> list[Session]:
    """The participant's own booked sessions in the next week. Never anyone else's roster
    (GRP-02): only the session itself, facilitator and place."""
    now = timezone.now()
    return list(
        Session.objects.filter(
            program=participant.program,
            attendance__participant=participant,
            attendance__removed=False,
            ends_at__gte=now,
            starts_at__lt=now + timedelta(days=UPCOMING_DAYS),
        )
        .exclude(status="cancelled")
        .select_related("facilitator")
        .order_by("starts_at")
    )


# --- goals, check-ins, diary -------------------------------------------------------------


def my_goal(participant: Participant, goal_id: UUID | str) -> WeeklyGoal:
    try:
        return WeeklyGoal.objects.select_related("objective", "participant", "program").get(
            participant=participant, external_id=goal_id
        )
    except (WeeklyGoal.DoesNotExist, ValueError):
        raise Http404("goal not found") from None


def goals_with_updates(participant: Participant, *, weeks: int = 4) -> list[WeeklyGoal]:
    since = iso_week_start(today_for(participant)) - timedelta(weeks=weeks - 1)
    goals = list(
        WeeklyGoal.objects.filter(participant=participant, week_start__gte=since)
        .select_related("objective")
        .prefetch_related("updates")
        .order_by("-week_start", "created_at", "id")
    )
    return goals


def recent_checkins(participant: Participant, *, limit: int = 10) -> list[CheckIn]:
    return list(
        CheckIn.objects.filter(participant=participant).order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class DiaryWeek:
    week_start: date
    days: list[tuple[date, DiaryCard | None]]

    @property
    def previous(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.week_start + timedelta(days=7)


def diary_week(participant: Participant, week_start: date | None = None) -> DiaryWeek:
    start = iso_week_start(week_start or today_for(participant))
    cards = {
        c.day: c
        for c in DiaryCard.objects.filter(
            participant=participant, day__gte=start, day__lt=start + timedelta(days=7)
        )
    }
    days = [(start + timedelta(days=i), cards.get(start + timedelta(days=i))) for i in range(7)]
    return DiaryWeek(week_start=start, days=days)


def diary_card(participant: Participant, day: date) -> DiaryCard | None:
    return DiaryCard.objects.filter(participant=participant, day=day).first()


# --- homework ----------------------------------------------------------------------------


@dataclass
class Assignment:
    session: Session
    plan: SessionPlan
    submitted: int = 0


def homework_assignments(participant: Participant) -> list[Assignment]:
    """Worksheets from the plans of sessions the participant attended in the last two
    weeks (rolling groups: each person's homework follows the sessions they were at)."""
    since = timezone.now() - HOMEWORK_LOOKBACK
    rows = (
        Attendance.objects.filter(
            participant=participant,
            status=AttendanceStatus.PRESENT,
            removed=False,
            session__starts_at__gte=since,
        )
        .exclude(session__plan_code="")
        .select_related("session")
        .order_by("-session__starts_at")
    )
    counts: dict[str, int] = {}
    for plan_code in HomeworkSubmission.objects.filter(
        participant=participant, created_at__gte=since
    ).values_list("plan_code", flat=True):
        counts[plan_code] = counts.get(plan_code, 0) + 1
    assignments = []
    seen: set[str] = set()
    for row in rows:
        code = row.session.plan_code
        if code in seen:
            continue
        seen.add(code)
        try:
            plan = library().plan(code)
        except KeyError:
            continue
        if plan.homework.kind != "none":
            assignments.append(Assignment(row.session, plan, counts.get(code, 0)))
    return assignments


def assignment_for(participant: Participant, session_id: UUID | str) -> Assignment:
    for assignment in homework_assignments(participant):
        if str(assignment.session.external_id) == str(session_id):
            return assignment
    raise Http404("no such homework")


def my_submission(participant: Participant, submission_id: UUID | str) -> HomeworkSubmission:
    try:
        return HomeworkSubmission.objects.get(participant=participant, external_id=submission_id)
    except (HomeworkSubmission.DoesNotExist, ValueError):
        raise Http404("submission not found") from None


def submissions(participant: Participant, *, limit: int = 20) -> QuerySet[HomeworkSubmission]:
    return HomeworkSubmission.objects.filter(participant=participant).order_by(
        "-created_at", "-id"
    )[:limit]


def safety_plan(participant: Participant) -> SafetyPlan | None:
    return (
        SafetyPlan.objects.filter(participant=participant)
        .select_related("reviewed_by", "last_edited_by")
        .first()
    )


# --- staff: session runner ---------------------------------------------------------------


@dataclass
class RunnerPortal:
    """What the runner shows about one attendee from the portal."""

    flags: list[str] = field(default_factory=list)
    checkin: CheckIn | None = None
    updates: list[GoalUpdate] = field(default_factory=list)
    goals: list[WeeklyGoal] = field(default_factory=list)
    # Diary cards of the week before the session, oldest first (the note draft reads them).
    diary: list[DiaryCard] = field(default_factory=list)


def _checkin_flags(checkin: CheckIn) -> list[str]:
    flags = []
    if checkin.used_since_last:
        flags.append("check-in: reported use")
    if checkin.craving >= HIGH_CRAVING:
        flags.append(f"check-in: craving {checkin.craving}/10")
    if checkin.mood <= LOW_MOOD:
        flags.append(f"check-in: mood {checkin.mood}/10")
    return flags


def _diary_flags(card: DiaryCard) -> list[str]:
    flags = []
    if card.self_harm_action:
        flags.append(f"diary {card.day:%a}: self-harm")
    elif card.urge_self_harm >= HIGH_URGE:
        flags.append(f"diary {card.day:%a}: self-harm urge {card.urge_self_harm}/5")
    if card.suicidal_ideation:
        flags.append(f"diary {card.day:%a}: thoughts of suicide {card.suicidal_ideation}/5")
    if card.used_substance:
        flags.append(f"diary {card.day:%a}: used")
    return flags


def runner_portal(*, session: Session, participant_ids: list[int]) -> dict[int, RunnerPortal]:
    """Check-ins since the day before the session, diary cards of the past week and this
    week's goals with their updates, for everyone on the roster: three queries."""
    out: dict[int, RunnerPortal] = {pid: RunnerPortal() for pid in participant_ids}
    since = session.starts_at - timedelta(hours=24)
    for checkin in CheckIn.objects.filter(
        participant_id__in=participant_ids, created_at__gte=since, created_at__lte=session.ends_at
    ).order_by("created_at", "id"):
        out[checkin.participant_id].checkin = checkin  # the latest wins
    for entry in out.values():
        if entry.checkin:
            entry.flags.extend(_checkin_flags(entry.checkin))
    local_day = _local_day(session)
    for card in DiaryCard.objects.filter(
        participant_id__in=participant_ids,
        day__gte=local_day - timedelta(days=7),
        day__lte=local_day,
    ).order_by("day"):
        out[card.participant_id].flags.extend(_diary_flags(card))
        out[card.participant_id].diary.append(card)
    goals = WeeklyGoal.objects.filter(
        participant_id__in=participant_ids,
        week_start__gte=iso_week_start(local_day) - timedelta(days=7),
    ).prefetch_related("updates")
    for goal in goals.order_by("week_start", "created_at"):
        entry = out[goal.participant_id]
        entry.goals.append(goal)
        entry.updates.extend(goal.updates.all())
        if goal.status == GoalStatus.SETBACK:
            entry.flags.append("goal setback")
    return out


def _local_day(session: Session) -> date:
    return session.starts_at.astimezone(clock.zone(session.program)).date()


# --- staff: chart ------------------------------------------------------------------------


@dataclass(frozen=True)
class BetweenSessions:
    checkins: list[CheckIn]
    diary: DiaryWeek
    goals: list[WeeklyGoal]
    homework: list[HomeworkSubmission]
    plan: SafetyPlan | None


def between_sessions(participant: Participant, week_start: date | None = None) -> BetweenSessions:
    return BetweenSessions(
        checkins=recent_checkins(participant, limit=14),
        diary=diary_week(participant, week_start),
        goals=goals_with_updates(participant),
        homework=list(submissions(participant)),
        plan=safety_plan(participant),
    )


def local_time(participant: Participant, moment: datetime) -> datetime:
    return moment.astimezone(clock.zone(participant.program))


# --- outcome measures --------------------------------------------------------------------


def my_due_measures(participant: Participant) -> list[DueItem]:
    """The measures this participant may complete now: due or overdue, enabled instruments."""
    return measure_selectors.due_for_self(participant=participant, today=today_for(participant))


def my_due_measure(participant: Participant, code: str) -> DueItem:
    """One of them by instrument code; 404 for any instrument not currently due."""
    item = next((i for i in my_due_measures(participant) if i.instrument == code), None)
    if item is None:
        raise Http404("measure not due")
    return item


def my_score_history(participant: Participant) -> tuple[Enrollment | None, list[Assessment]]:
    """The participant's latest episode and its valid administrations, oldest first. Earlier
    episodes are left out: the trend compares with the first score of this stay, and a
    score from a stay months ago is no baseline for it (two queries, whatever the count)."""
    episode = latest_episode(participant)
    if episode is None:
        return None, []
    rows = (
        Assessment.objects.valid()
        .filter(program=participant.program, participant=participant, enrollment=episode)
        .order_by("administered_at", "id")
    )
    return episode, list(rows)
