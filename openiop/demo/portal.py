"""Demo portal activity: a few participants of today's group have portal accounts and a
week of check-ins, diary cards, a weekly goal, homework and a safety plan, so the session
runner's attention list and accountability round have something real to show.

Written through the portal actions (validated and audited like a participant's own
submissions), then back-dated, since those actions stamp the current time.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from openiop.accounts.actions import user_create
from openiop.accounts.models import User, UserKind
from openiop.core import clock
from openiop.demo.constants import DEMO_PARTICIPANT, DEMO_PASSWORD
from openiop.groupwork.models import Attendance, AttendanceStatus, Session
from openiop.participants.models import Participant
from openiop.portal import actions
from openiop.portal.models import DIARY_EMOTIONS, CheckIn, DiaryCard
from openiop.programs.models import Program

PORTAL_USERS = 5
DAYS_OF_HISTORY = 5
DEMO_SKILLS = ["TIPP", "urge surfing", "wise mind", "opposite action", "DEAR MAN"]


def _at(program: Program, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=clock.zone(program))


def _todays_group(program: Program, today: date) -> Session | None:
    return (
        Session.objects.filter(
            program=program,
            kind="group",
            starts_at__gte=_at(program, today, 0),
            starts_at__lt=_at(program, today + timedelta(days=1), 0),
        )
        .order_by("starts_at")
        .first()
    )


def _account(participant: Participant, username: str) -> User:
    user = user_create(
        actor=None,
        username=username,
        password=DEMO_PASSWORD,
        kind=UserKind.PARTICIPANT,
        first_name=participant.preferred_name or participant.legal_first_name,
    )
    participant.user = user
    participant.save(update_fields=["user"])
    return user


def _skills(rng: random.Random) -> list[str]:
    known = set(actions.all_skills())
    return sorted(s for s in rng.sample(DEMO_SKILLS, 2) if s in known)


def _checkins(
    program: Program, user: User, me: Participant, today: date, rng: random.Random
) -> None:
    for back in range(DAYS_OF_HISTORY, 0, -1):
        checkin = actions.checkin_submit(
            actor=user,
            participant=me,
            data=actions.CheckInInput(
                kind="daily",
                mood=rng.randint(3, 8),
                craving=rng.randint(0, 6),
                used_since_last=False,
                sleep_hours=rng.choice([5, 6, 6.5, 7, 8]),
                medication=rng.choice(["taken", "taken", "partly", "none"]),
                safety_concern=False,
                skills_used=_skills(rng),
            ),
        )
        CheckIn.objects.filter(pk=checkin.pk).update(
            created_at=_at(program, today - timedelta(days=back), 9)
        )


def _diary(program: Program, user: User, me: Participant, today: date, rng: random.Random) -> None:
    for back in range(DAYS_OF_HISTORY, 0, -1):
        day = today - timedelta(days=back)
        card = actions.diary_save(
            actor=user,
            participant=me,
            data=actions.DiaryInput(
                day=day,
                emotions={name: rng.randint(0, 4) for name, _ in DIARY_EMOTIONS},
                urge_use=rng.randint(0, 3),
                urge_self_harm=0,
                suicidal_ideation=0,
                skills_used=_skills(rng),
            ),
        )
        DiaryCard.objects.filter(pk=card.pk).update(
            created_at=_at(program, day, 21), entered_late=False
        )


def _goal(user: User, me: Participant, rng: random.Random, setback: bool) -> None:
    objectives = actions.active_objectives(me)
    goal = actions.weekly_goal_create(
        actor=user,
        participant=me,
        text=rng.choice(
            ["Go to two support meetings", "Walk 20 minutes on three days", "Call my sponsor twice"]
        ),
        objective_id=objectives[0].external_id if objectives else None,
    )
    status = "setback" if setback else rng.choice(["done", "partial"])
    note = "Skipped the second one after a rough day at work" if setback else ""
    actions.goal_update_add(actor=user, goal=goal, status=status, note=note)


def _homework(user: User, me: Participant) -> None:
    from openiop.portal.selectors import homework_assignments

    for assignment in homework_assignments(me)[:1]:
        fields = {f.name: f for f in assignment.plan.homework.fields}
        answers = {name: "Practised after group" for name, f in fields.items() if f.type == "text"}
        actions.homework_submit(
            actor=user,
            participant=me,
            plan_code=assignment.plan.code,
            answers=dict(list(answers.items())[:3]),
            session=assignment.session,
        )


def _before_group(user: User, me: Participant) -> None:
    """Today's pre-session check-in: high craving and something to bring to group."""
    actions.checkin_submit(
        actor=user,
        participant=me,
        data=actions.CheckInInput(
            kind="session",
            mood=4,
            craving=7,
            used_since_last=False,
            sleep_hours=5,
            medication="taken",
            safety_concern=False,
            skills_used=[s for s in ["urge surfing"] if s in actions.all_skills()],
            bring_to_group="How to say no at my brother's party this weekend",
        ),
    )


def _safety_plan(user: User, me: Participant) -> None:
    actions.safety_plan_save(
        actor=user,
        participant=me,
        version=0,
        steps={
            "warning_signs": "Not sleeping, skipping meals, pulling away from friends",
            "coping_strategies": "Cold water on my face, a long walk, music",
            "distractions": "Coffee with my cousin; the library",
            "help_contacts": "My sister; my sponsor",
            "professionals": "My clinician at the program; 988",
            "environment_safety": "Keep medication with my sister this month",
            "reasons_for_living": "My daughter; finishing my course",
        },
    )


def seed_portal(*, program: Program, rng: random.Random, today: date) -> int:
    """Portal accounts and activity for up to PORTAL_USERS members of today's group; the
    first is the demo login. Returns how many participants were given accounts."""
    from openiop.core.clock import program_today

    if today != program_today(program):
        return 0  # the portal's own checks (e.g. diary days) work from the real date
    session = _todays_group(program, today)
    if session is None:
        return 0
    rows = (
        Attendance.objects.filter(session=session, removed=False, status=AttendanceStatus.EXPECTED)
        .select_related("participant")
        .order_by("participant__record_number")[:PORTAL_USERS]
    )
    people = [row.participant for row in rows if row.participant.user_id is None]
    for index, me in enumerate(people):
        username = (
            DEMO_PARTICIPANT if index == 0 and not _taken() else f"p.{me.record_number.lower()}"
        )
        user = _account(me, username)
        _checkins(program, user, me, today, rng)
        _diary(program, user, me, today, rng)
        _goal(user, me, rng, setback=index == 0)
        _homework(user, me)
        if index % 2 == 0:
            _safety_plan(user, me)
        if index == 0:
            _before_group(user, me)
    return len(people)


def _taken() -> bool:
    return User.objects.filter(username=DEMO_PARTICIPANT).exists()
