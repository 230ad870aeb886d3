"""Greedy first-fit baseline planner.

What a coordinator might do by hand: take participants in file order, give each the earliest
groups that fit until their minimum is covered (counting the sessions they will get), book each
session in the earliest slot where participant and clinician are both free, then, in a second
pass, top everyone up with any groups that still have places. It never revisits a decision.

It serves two purposes: a comparison point for the benchmark, and one of the feasible starting
plans the CP-SAT planner is hinted with (so CP-SAT can only do better, never worse). `Booker`
also does the bookkeeping for the heuristic in warmstart.py.
"""

from __future__ import annotations

from openiop.planner.candidates import Candidates, SessionRequest, overlaps
from openiop.planner.plan import Plan
from openiop.planner.result import bound_from_data, build_result
from openiop.planner.schema import (
    MINUTES_PER_DAY,
    Group,
    Participant,
    PlanInput,
    PlanResult,
    Session,
)

_GREEDY_NOTE = "the first-fit (greedy) planner gave up"


class Booker:
    """Books groups and sessions one by one, checking every hard constraint as it goes.

    Tracks free places, group members and busy times of participants and clinicians, so a
    plan built only through it is feasible by construction.
    """

    def __init__(self, plan_input: PlanInput, candidates: Candidates) -> None:
        self.plan_input = plan_input
        self.candidates = candidates
        self.plan = Plan()
        self.places = {g.id: plan_input.seats(g) for g in plan_input.groups}
        self.members: dict[str, list[Participant]] = {g.id: [] for g in plan_input.groups}
        self.busy: dict[str, list[tuple[int, int]]] = {}
        # A clinician is busy during the groups they lead and the sessions booked so far.
        self.clinician_busy: dict[str, list[tuple[int, int]]] = {
            cid: [(g.week_start, g.week_end) for g in groups]
            for cid, groups in candidates.facilitated.items()
        }

    @classmethod
    def from_plan(cls, plan_input: PlanInput, candidates: Candidates, plan: Plan) -> Booker:
        """A booker that continues from an existing (valid) plan."""
        booker = cls(plan_input, candidates)
        for participant in plan_input.participants:
            busy = booker.busy.setdefault(participant.id, [])
            for group in plan.groups_of(participant.id):
                booker.places[group.id] -= 1
                booker.members[group.id].append(participant)
                busy.append((group.week_start, group.week_end))
                booker.plan.groups.setdefault(participant.id, []).append(group)
            for session in plan.sessions_of(participant.id):
                busy.append((session.week_start, session.week_end))
                booker.clinician_busy.setdefault(session.clinician, []).append(
                    (session.week_start, session.week_end)
                )
                booker.plan.sessions.setdefault(participant.id, []).append(session)
        return booker

    def fill_up(self) -> None:
        """Book every session that still fits, then top up with groups that have places."""
        for participant in self.plan_input.participants:
            for request in self.candidates.session_requests(participant):
                self.try_session(request)
        position = {g.id: i for i, g in enumerate(self.plan_input.groups)}
        for participant in self.plan_input.participants:
            groups = self.candidates.eligible_groups(participant)
            for group in sorted(groups, key=lambda g: (g.week_start, position[g.id])):
                self.try_group(participant, group)

    def planned(self, participant: Participant) -> int:
        return self.plan.planned_minutes(participant.id)

    def _free(self, who: list[tuple[int, int]], start: int, end: int) -> bool:
        return not any(overlaps(start, end, a, b) for a, b in who)

    def try_group(self, participant: Participant, group: Group) -> bool:
        room = self.plan_input.planning_room(participant)
        busy = self.busy.setdefault(participant.id, [])
        if (
            self.places[group.id] <= 0
            or self.planned(participant) + group.minutes > room
            or not self._free(busy, group.week_start, group.week_end)
        ):
            return False
        self.places[group.id] -= 1
        self.members[group.id].append(participant)
        busy.append((group.week_start, group.week_end))
        self.plan.groups.setdefault(participant.id, []).append(group)
        return True

    def drop_group(self, participant: Participant, group: Group) -> None:
        self.places[group.id] += 1
        self.members[group.id].remove(participant)
        self.busy[participant.id].remove((group.week_start, group.week_end))
        self.plan.groups[participant.id].remove(group)

    def release(self, participant: Participant) -> None:
        """Undo every booking of one participant."""
        for group in self.plan.groups.pop(participant.id, []):
            self.places[group.id] += 1
            self.members[group.id].remove(participant)
        self.release_sessions(participant)
        self.busy[participant.id] = []

    def release_sessions(self, participant: Participant) -> None:
        for session in self.plan.sessions.pop(participant.id, []):
            self.clinician_busy[session.clinician].remove((session.week_start, session.week_end))
            busy = self.busy.get(participant.id, [])
            if (session.week_start, session.week_end) in busy:
                busy.remove((session.week_start, session.week_end))

    def try_session(self, request: SessionRequest) -> bool:
        participant = request.participant
        if any(s.kind == request.kind for s in self.plan.sessions_of(participant.id)):
            return False  # already booked
        if self.planned(participant) + request.minutes > self.plan_input.planning_room(participant):
            return False
        busy = self.busy.setdefault(participant.id, [])
        clinician_busy = self.clinician_busy.setdefault(request.clinician, [])
        for start in request.starts:  # earliest first
            end = start + request.minutes
            if self._free(busy, start, end) and self._free(clinician_busy, start, end):
                busy.append((start, end))
                clinician_busy.append((start, end))
                day, minute = divmod(start, MINUTES_PER_DAY)
                self.plan.sessions.setdefault(participant.id, []).append(
                    Session(
                        participant.id,
                        request.clinician,
                        request.kind,
                        day,
                        minute,
                        minute + request.minutes,
                    )
                )
                return True
        return False


def fill_up(plan_input: PlanInput, candidates: Candidates, plan: Plan) -> Plan:
    """The plan plus every session and group place that can still be added without moving
    anything (never lowers any objective)."""
    booker = Booker.from_plan(plan_input, candidates, plan)
    booker.fill_up()
    return booker.plan


def greedy_choice(plan_input: PlanInput, candidates: Candidates) -> Plan:
    """The greedy plan (feasible for every hard constraint by construction)."""
    booker = Booker(plan_input, candidates)
    for participant in plan_input.participants:
        needed = plan_input.still_needed(participant)
        requests = candidates.session_requests(participant)
        expected_sessions = sum(r.minutes for r in requests if r.starts)
        groups = sorted(candidates.eligible_groups(participant), key=lambda g: g.week_start)
        for group in groups:
            if booker.planned(participant) + expected_sessions >= needed:
                break
            booker.try_group(participant, group)
        for request in requests:
            booker.try_session(request)
        for group in groups:  # a session may have failed: cover the gap with more groups
            if booker.planned(participant) >= needed:
                break
            booker.try_group(participant, group)
    for participant in plan_input.participants:  # second pass: use the places left over
        for group in sorted(candidates.eligible_groups(participant), key=lambda g: g.week_start):
            booker.try_group(participant, group)
    return booker.plan


def greedy_plan(plan_input: PlanInput) -> PlanResult:
    """Greedy plan as a result document (status FEASIBLE: nothing is proven)."""
    candidates = Candidates(plan_input)
    plan = greedy_choice(plan_input, candidates)
    return build_result(
        plan_input,
        candidates,
        plan,
        status="FEASIBLE",
        bound_meeting_minimum=bound_from_data(plan_input, candidates),
        incomplete_meeting=_GREEDY_NOTE,
        incomplete_sessions=_GREEDY_NOTE,
    )
