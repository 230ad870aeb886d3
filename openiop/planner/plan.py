"""A plan under construction: which groups and session slots each participant gets.

Both planners (CP-SAT and greedy) only make this choice; `result.build_result` derives totals,
`meets_minimum`, objective counts and reasons from it, so the two planners report in exactly
the same way and can be compared fairly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openiop.planner.schema import Group, Participant, PlanInput, Session


@dataclass
class Plan:
    """Groups joined and sessions booked, keyed by participant id."""

    groups: dict[str, list[Group]] = field(default_factory=dict)
    sessions: dict[str, list[Session]] = field(default_factory=dict)

    def groups_of(self, participant_id: str) -> list[Group]:
        return self.groups.get(participant_id, [])

    def sessions_of(self, participant_id: str) -> list[Session]:
        return self.sessions.get(participant_id, [])

    def planned_minutes(self, participant_id: str) -> int:
        return sum(g.minutes for g in self.groups_of(participant_id)) + sum(
            s.end - s.start for s in self.sessions_of(participant_id)
        )

    def occupancy(self) -> dict[str, int]:
        """Participants per group id."""
        counts: dict[str, int] = {}
        for groups in self.groups.values():
            for group in groups:
                counts[group.id] = counts.get(group.id, 0) + 1
        return counts

    def sessions_by_clinician(self) -> dict[str, list[Session]]:
        result: dict[str, list[Session]] = {}
        for sessions in self.sessions.values():
            for session in sessions:
                result.setdefault(session.clinician, []).append(session)
        return result


def total_minutes(plan: Plan, participant: Participant) -> int:
    """Attended plus planned minutes (what `total_minutes` in the result reports)."""
    return participant.attended_minutes + plan.planned_minutes(participant.id)


def meets_minimum(plan_input: PlanInput, plan: Plan, participant: Participant) -> bool:
    return total_minutes(plan, participant) >= plan_input.required_minutes(participant)


def count_meeting(plan_input: PlanInput, plan: Plan) -> int:
    return sum(meets_minimum(plan_input, plan, p) for p in plan_input.participants)
