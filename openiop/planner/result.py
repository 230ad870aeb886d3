"""Turn a chosen Plan into the `openiop.plan-week-result/1` result."""

from __future__ import annotations

from openiop.planner.candidates import Candidates
from openiop.planner.plan import Plan, meets_minimum, total_minutes
from openiop.planner.reasons import explain
from openiop.planner.schema import (
    Assignment,
    Objective,
    ParticipantResult,
    PlanInput,
    PlanResult,
    Session,
)


def bound_from_data(plan_input: PlanInput, candidates: Candidates) -> int:
    """Participants who could reach the minimum if nobody else were in the program."""
    return sum(candidates.can_possibly_meet(p) for p in plan_input.participants)


def build_result(
    plan_input: PlanInput,
    candidates: Candidates,
    plan: Plan,
    status: str,
    bound_meeting_minimum: int,
    incomplete_meeting: str | None = None,
    incomplete_sessions: str | None = None,
) -> PlanResult:
    """Assemble the result.

    `incomplete_meeting` / `incomplete_sessions` say why the plan may fall short of the best
    possible on objective 1 / objective 2 (e.g. the time limit); None when proven optimal.
    """
    reasons = explain(plan_input, candidates, plan, incomplete_meeting, incomplete_sessions)
    assignments: list[Assignment] = []
    sessions: list[Session] = []
    participants: list[ParticipantResult] = []
    for participant in plan_input.participants:
        groups = sorted(plan.groups_of(participant.id), key=lambda g: (g.week_start, g.id))
        assignments.extend(Assignment(participant.id, g.id) for g in groups)
        sessions.extend(sorted(plan.sessions_of(participant.id), key=lambda s: s.week_start))
        participants.append(
            ParticipantResult(
                id=participant.id,
                required_minutes=plan_input.required_minutes(participant),
                total_minutes=total_minutes(plan, participant),
                meets_minimum=meets_minimum(plan_input, plan, participant),
                reasons=tuple(reasons.get(participant.id, ())),
            )
        )
    meeting = sum(p.meets_minimum for p in participants)
    objective = Objective(
        meeting_minimum=meeting,
        sessions_placed=len(sessions),
        planned_minutes=sum(plan.planned_minutes(p.id) for p in plan_input.participants),
        # A proven bound can never be below a value we actually reached; the max only guards
        # against a planner passing a weaker number.
        bound_meeting_minimum=max(meeting, bound_meeting_minimum),
    )
    return PlanResult(
        status=status,
        assignments=tuple(assignments),
        sessions=tuple(sessions),
        participants=tuple(participants),
        objective=objective,
    )
