"""What the record already says about one participant, for their individual note draft.

A draft that only says "Attended 90 of 90 minutes. Topic: …" is the same for everyone, and
identical notes are a payer denial reason. The draft therefore gathers what is already on
file for *this* participant: the latest check-in from the day before up to the session
(mood, craving, use), the diary cards of the week before it (urge to use, days with use), a
weekly goal marked as a setback, an open safety event, lateness or early departure, and the
facilitator's quick participation and affect choices from the roster row. Everything is read
through the portal and safety selectors, for the whole roster at once (a constant number of
queries), and only ever from the participant's own records: nothing about another member
enters the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openiop.core import clock
from openiop.groupwork.models import Affect, Attendance, Participation, Session
from openiop.portal.models import CheckIn, DiaryCard, GoalStatus, WeeklyGoal
from openiop.portal.selectors import HIGH_CRAVING, runner_portal
from openiop.safety.selectors import open_events

# Urge to use on the diary card is 0-5; at or above this it is mentioned as a risk indicator.
HIGH_DIARY_URGE = 4


@dataclass
class RecordFacts:
    """One participant's own record around a session, as the draft uses it."""

    checkin: CheckIn | None = None
    diary: list[DiaryCard] = field(default_factory=list)
    setbacks: list[WeeklyGoal] = field(default_factory=list)
    safety_open: bool = False


def record_facts(*, session: Session, participant_ids: list[int]) -> dict[int, RecordFacts]:
    """The facts for everyone in `participant_ids`: the portal's three queries plus one."""
    portal = runner_portal(session=session, participant_ids=participant_ids)
    open_ids = set(
        open_events(program=session.program)
        .filter(participant_id__in=participant_ids)
        .values_list("participant_id", flat=True)
    )
    facts: dict[int, RecordFacts] = {}
    for pid in participant_ids:
        entry = portal[pid]
        checkin = entry.checkin
        facts[pid] = RecordFacts(
            # A check-in made after the session ended says nothing about this session.
            checkin=checkin if checkin and checkin.created_at <= session.ends_at else None,
            diary=list(entry.diary),
            setbacks=[g for g in entry.goals if g.status == GoalStatus.SETBACK],
            safety_open=pid in open_ids,
        )
    return facts


def observation_sentence(attendance: Attendance) -> str:
    """The roster row's quick choices as an observation: "Observed: mostly listened; affect
    anxious." (empty when nothing was chosen)."""
    parts = []
    if attendance.participation:
        parts.append(Participation(attendance.participation).label.lower())
    if attendance.affect:
        parts.append(f"affect {Affect(attendance.affect).label.lower()}")
    return f"Observed: {'; '.join(parts)}." if parts else ""


def observation_assessment(attendance: Attendance) -> str:
    """The same choices as the start of an assessment: "Participated when prompted, with an
    anxious affect." """
    participation = (
        Participation(attendance.participation).label if attendance.participation else ""
    )
    affect = Affect(attendance.affect).label.lower() if attendance.affect else ""
    if participation and affect:
        article = "an" if affect[0] in "aeiou" else "a"
        return f"{participation}, with {article} {affect} affect."
    if participation:
        return f"{participation}."
    if affect:
        return f"Presented with {'an' if affect[0] in 'aeiou' else 'a'} {affect} affect."
    return ""


def record_sentences(facts: RecordFacts, session: Session) -> list[str]:
    """Data-section sentences from the participant's own portal and safety record."""
    lines: list[str] = []
    if facts.checkin is not None:
        c = facts.checkin
        at = clock.local_time(c.created_at, session.program)
        line = f"Check-in ({at:%a %H:%M}): mood {c.mood}/10, craving {c.craving}/10"
        if c.used_since_last:
            line += "; reported use since the last check-in"
            if c.use_what.strip():
                line += f" ({c.use_what.strip()})"
        lines.append(line + ".")
    if facts.diary:
        top = max(card.urge_use for card in facts.diary)
        used = [f"{card.day:%a}" for card in facts.diary if card.used_substance]
        line = f"Diary card on {len(facts.diary)} of the past 7 days: urge to use up to {top}/5"
        if used:
            line += f"; used on {', '.join(used)}"
        lines.append(line + ".")
    for goal in facts.setbacks:
        lines.append(f"Weekly goal marked as a setback: {goal.text.strip().rstrip('.')}.")
    if facts.safety_open:
        lines.append("An open safety event is on record.")
    return lines


def risk_sentence(facts: RecordFacts) -> str:
    """Assessment prompt from the same facts: what the clinician should weigh, not a verdict."""
    signs: list[str] = []
    c = facts.checkin
    if c is not None and c.craving >= HIGH_CRAVING:
        signs.append(f"craving {c.craving}/10 at check-in")
    if c is not None and c.used_since_last:
        signs.append("use reported at check-in")
    diary_used = [card for card in facts.diary if card.used_substance]
    if diary_used:
        signs.append(f"use on {len(diary_used)} diary day{'s' if len(diary_used) > 1 else ''}")
    elif any(card.urge_use >= HIGH_DIARY_URGE for card in facts.diary):
        signs.append("strong urges to use on the diary card")
    if facts.setbacks:
        signs.append("a goal setback this week")
    parts = []
    if signs:
        parts.append(f"Relapse-risk indicators to address: {', '.join(signs)}.")
    if facts.safety_open:
        parts.append("Open safety event: review risk and the safety plan.")
    return " ".join(parts)
