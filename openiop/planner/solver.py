"""CP-SAT model of the weekly plan and its lexicographic solve.

Model (one week, times in minutes after Monday 00:00):

* x[p, g] (bool): participant p joins group g. Only created for groups of p's tracks that lie
  inside one of p's windows (hard constraint 1), so constraint 1 holds by construction.
* For each requested individual/family session: a presence literal, a start variable whose
  domain is exactly the quarter-hour starts inside a participant window and a clinician window
  that avoid the groups the clinician leads, and an optional fixed-size interval (constraint 4).
* Per participant: AtMostOne over every set of their groups covering a common instant (the
  maximal cliques of an interval graph, which is the tightest linear form of "no overlapping
  groups"), plus one NoOverlap over group and session intervals when they have sessions
  (constraint 2). Per clinician: NoOverlap over all their sessions (constraint 4).
* Per group: sum of x <= min(capacity, max_group_size) (constraint 3).
* Per participant: planned minutes <= max_minutes - attended (constraint 5), and a literal
  meet[p] that forces planned minutes >= what is still needed. Participants who cannot reach
  the minimum even with the program to themselves get no literal at all.

Lexicographic objective, solved in three stages rather than with one weighted sum: stage 1
maximises the number meeting the minimum, then that count is fixed (== when proven optimal,
>= the value found otherwise) while stage 2 maximises sessions placed, and then stage 3
maximises planned minutes with both fixed. We chose stages because (a) stage 1 alone is a much
smaller and easier optimisation, so its bound - reported as `bound_meeting_minimum` - is proven
quickly and is exactly the solver's bound on objective 1, whereas a weighted sum mixes
objective 1's bound with the weights of objectives 2-3; (b) each stage is hinted with the
previous solution, so no stage can end worse than the one before. The status is OPTIMAL only
when all three stages were proven optimal.

Determinism: CP-SAT's default parallel portfolio is not reproducible, so we use
`interleave_search`, which runs the workers in deterministic batches (documented as
independent of num_workers), with a fixed seed, and we budget each stage in *deterministic*
time (CP-SAT's work counter), splitting the budget by the deterministic time actually used.
The wall-clock limit is only a safety net; as long as it does not fire before the deterministic
budget (it is sized so that it normally does not), the same input and seed give the same plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from openiop.planner.candidates import Candidates, SessionRequest, overlaps
from openiop.planner.greedy import greedy_choice
from openiop.planner.plan import Plan, count_meeting
from openiop.planner.result import bound_from_data, build_result
from openiop.planner.schema import MINUTES_PER_DAY, Group, PlanInput, PlanResult, Session

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_WORKERS = 2
# Deterministic time units granted per second of --time-limit. CP-SAT's unit is meant to be
# "about a second" on a typical machine; we grant somewhat less so that on a loaded 2-core box
# the deterministic budget, not the wall clock, normally ends the search (keeps it reproducible).
DTIME_PER_SECOND = 0.5
# Share of the remaining budget given to stages 1 and 2 (stage 3 gets all that is left).
STAGE_SHARES = (0.6, 0.5)

_TIME_LIMIT_NOTE = "the planner reached its time limit"


@dataclass
class _SessionVars:
    request: SessionRequest
    present: cp_model.IntVar
    start: cp_model.IntVar


@dataclass
class _Model:
    """The CP-SAT model plus handles to read a plan back from a solution."""

    model: cp_model.CpModel
    joins: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    sessions: list[_SessionVars] = field(default_factory=list)
    meet: dict[str, cp_model.IntVar] = field(default_factory=dict)
    needed: dict[str, int] = field(default_factory=dict)  # minutes still needed, by participant
    already_meeting: int = 0  # participants whose attended minutes already reach the minimum
    planned: list[cp_model.LinearExprT] = field(default_factory=list)

    def meeting_expr(self) -> cp_model.LinearExprT:
        return sum(self.meet.values()) + self.already_meeting

    def sessions_expr(self) -> cp_model.LinearExprT:
        return sum(s.present for s in self.sessions)

    def minutes_expr(self) -> cp_model.LinearExprT:
        return sum(self.planned)


def _cliques(groups: Sequence[Group]) -> list[list[Group]]:
    """Maximal sets of groups sharing an instant (checked at each group start)."""
    cliques: list[list[Group]] = []
    for group in sorted(groups, key=lambda g: (g.week_start, g.id)):
        clique = [
            g for g in groups if g.week_start <= group.week_start < g.week_end
        ]  # all groups running when `group` starts
        if len(clique) > 1 and not any(set(map(id, clique)) <= set(map(id, c)) for c in cliques):
            cliques.append(sorted(clique, key=lambda g: (g.week_start, g.id)))
    return cliques


def build_model(plan_input: PlanInput, candidates: Candidates) -> _Model:
    m = _Model(cp_model.CpModel())
    model = m.model
    by_clinician: dict[str, list[_SessionVars]] = {}
    members: dict[str, list[cp_model.IntVar]] = {g.id: [] for g in plan_input.groups}

    for participant in plan_input.participants:
        groups = candidates.eligible_groups(participant)
        joins = {}
        for group in groups:
            var = model.new_bool_var(f"join[{participant.id},{group.id}]")
            joins[group.id] = var
            m.joins[(participant.id, group.id)] = var
            members[group.id].append(var)
        for clique in _cliques(groups):
            model.add_at_most_one(joins[g.id] for g in clique)

        own_sessions = []
        for request in candidates.session_requests(participant):
            if not request.starts:
                continue  # no slot exists at all; the reasons will say so
            present = model.new_bool_var(f"{request.kind}[{participant.id}]")
            start = model.new_int_var_from_domain(
                cp_model.Domain.from_values(request.starts),
                f"{request.kind}_start[{participant.id}]",
            )
            svars = _SessionVars(request, present, start)
            own_sessions.append(svars)
            m.sessions.append(svars)
            by_clinician.setdefault(request.clinician, []).append(svars)

        if own_sessions:
            _add_participant_no_overlap(model, groups, joins, own_sessions)

        planned = sum(g.minutes * joins[g.id] for g in groups) + sum(
            s.request.minutes * s.present for s in own_sessions
        )
        m.planned.append(planned)
        model.add(planned <= plan_input.planning_room(participant))
        needed = plan_input.still_needed(participant)
        if needed == 0:
            m.already_meeting += 1
        elif candidates.can_possibly_meet(participant):
            meet = model.new_bool_var(f"meet[{participant.id}]")
            model.add(planned >= needed).only_enforce_if(meet)
            m.meet[participant.id] = meet
            m.needed[participant.id] = needed

    for group in plan_input.groups:
        if len(members[group.id]) > plan_input.seats(group):
            model.add(sum(members[group.id]) <= plan_input.seats(group))
    for svars_list in by_clinician.values():
        if len(svars_list) > 1:
            model.add_no_overlap(_interval(model, s) for s in svars_list)
    return m


def _interval(model: cp_model.CpModel, svars: _SessionVars) -> cp_model.IntervalVar:
    # One interval object per NoOverlap is fine: CP-SAT links them through the same variables.
    return model.new_optional_fixed_size_interval_var(
        svars.start, svars.request.minutes, svars.present, f"iv_{svars.start.name}"
    )


def _add_participant_no_overlap(
    model: cp_model.CpModel,
    groups: Sequence[Group],
    joins: dict[str, cp_model.IntVar],
    sessions: Sequence[_SessionVars],
) -> None:
    """Sessions vs groups and vs each other (groups vs groups is covered by the cliques)."""
    intervals = [_interval(model, s) for s in sessions]
    for group in groups:
        # Only groups that some session start could actually hit need to be in the constraint.
        if any(
            overlaps(t, t + s.request.minutes, group.week_start, group.week_end)
            for s in sessions
            for t in s.request.starts
        ):
            intervals.append(
                model.new_optional_fixed_size_interval_var(
                    group.week_start, group.minutes, joins[group.id], f"iv_{group.id}"
                )
            )
    if len(intervals) > 1:
        model.add_no_overlap(intervals)


# -------------------------------------------------------------------------------- solving


def _hint(m: _Model, plan: Plan) -> None:
    """Hint a complete solution so every stage starts from a plan at least as good as `plan`."""
    m.model.clear_hints()
    chosen = {(pid, g.id) for pid, groups in plan.groups.items() for g in groups}
    for key, var in m.joins.items():
        m.model.add_hint(var, key in chosen)
    booked = {
        (s.participant, s.kind): s.week_start
        for sessions in plan.sessions.values()
        for s in sessions
    }
    for svars in m.sessions:
        start = booked.get((svars.request.participant.id, svars.request.kind))
        m.model.add_hint(svars.present, start is not None)
        m.model.add_hint(svars.start, start if start is not None else svars.request.starts[0])
    for participant_id, meet in m.meet.items():
        m.model.add_hint(meet, plan.planned_minutes(participant_id) >= m.needed[participant_id])


def _read_plan(m: _Model, solver: cp_model.CpSolver, plan_input: PlanInput) -> Plan:
    plan = Plan()
    for (participant_id, group_id), var in m.joins.items():
        if solver.boolean_value(var):
            plan.groups.setdefault(participant_id, []).append(plan_input.group_by_id[group_id])
    for svars in m.sessions:
        if solver.boolean_value(svars.present):
            start = solver.value(svars.start)
            day, minute = divmod(start, MINUTES_PER_DAY)
            request = svars.request
            plan.sessions.setdefault(request.participant.id, []).append(
                Session(
                    participant=request.participant.id,
                    clinician=request.clinician,
                    kind=request.kind,
                    day=day,
                    start=minute,
                    end=minute + request.minutes,
                )
            )
    return plan


def _parameters(seed: int, workers: int, dtime: float, wall: float, log: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = workers
    params.random_seed = seed
    params.interleave_search = True  # deterministic multi-worker search (see module docstring)
    params.max_deterministic_time = max(dtime, 0.01)
    params.max_time_in_seconds = max(wall, 0.01)
    params.log_search_progress = log
    return solver


def _evaluate(m: _Model, plan: Plan, index: int) -> int:
    """Objective `index` (0 meeting, 1 sessions, 2 minutes) of a plan, for the hinted fallback."""
    if index == 0:
        return m.already_meeting + sum(
            plan.planned_minutes(pid) >= needed for pid, needed in m.needed.items()
        )
    if index == 1:
        return sum(len(sessions) for sessions in plan.sessions.values())
    return sum(plan.planned_minutes(pid) for pid in plan.groups.keys() | plan.sessions.keys())


def solve(
    plan_input: PlanInput,
    time_limit: float = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    workers: int = DEFAULT_WORKERS,
    log: bool = False,
) -> PlanResult:
    """Plan the week with CP-SAT (three lexicographic stages, see module docstring)."""
    started = time.monotonic()
    candidates = Candidates(plan_input)
    plan = greedy_choice(plan_input, candidates)  # always-feasible starting point and fallback
    bound = bound_from_data(plan_input, candidates)
    m = build_model(plan_input, candidates)
    objectives = (m.meeting_expr(), m.sessions_expr(), m.minutes_expr())
    dtime_left = time_limit * DTIME_PER_SECOND
    optimal = [False, False, False]
    for index, objective in enumerate(objectives):
        wall_left = time_limit - (time.monotonic() - started)
        if wall_left <= 0:
            break
        share = STAGE_SHARES[index] if index < len(STAGE_SHARES) else 1.0
        _hint(m, plan)
        m.model.maximize(objective)
        solver = _parameters(seed, workers, dtime_left * share, wall_left, log)
        status = solver.solve(m.model)
        dtime_left = max(0.0, dtime_left - solver.deterministic_time)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            plan = _read_plan(m, solver, plan_input)
            value = round(solver.objective_value)
            if index == 0:
                # best_objective_bound is a proven upper bound on objective 1 only because
                # stage 1 optimises objective 1 alone.
                bound = min(bound, math.floor(solver.best_objective_bound + 1e-6))
        elif status == cp_model.UNKNOWN:
            value = _evaluate(m, plan, index)  # keep the hinted plan (feasible by construction)
        else:  # INFEASIBLE or MODEL_INVALID cannot happen for a correct model: fail loudly
            raise RuntimeError(
                f"planner model is {solver.status_name(status)} at stage {index + 1}"
            )
        optimal[index] = status == cp_model.OPTIMAL
        # Keep what this stage achieved while optimising the next, lower-priority objective.
        m.model.add(objective == value if optimal[index] else objective >= value)
    note = None if all(optimal) else _TIME_LIMIT_NOTE
    return build_result(
        plan_input,
        candidates,
        plan,
        status="OPTIMAL" if all(optimal) else "FEASIBLE",
        bound_meeting_minimum=max(bound, count_meeting(plan_input, plan)),
        incomplete_meeting=None if optimal[0] else note,
        incomplete_sessions=None if optimal[1] and optimal[0] else note,
    )
