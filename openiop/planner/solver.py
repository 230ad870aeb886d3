"""CP-SAT model of the weekly plan and its lexicographic solve.

Model (one week, times in minutes after Monday 00:00):

* join[p, g] (bool): participant p joins group g. Only created for groups of p's tracks lying
  inside one of p's windows, so hard constraint 1 holds by construction.
* Each requested individual/family session is an optional interval: a presence literal and a
  start variable whose domain is exactly the allowed starts (quarter hours inside a participant
  window and a clinician window, clear of the groups the clinician leads: hard constraint 4).
* Per group: sum of joins <= min(capacity, max_group_size) (hard constraint 3).
* Per participant: AtMostOne over each maximal set of their groups running at a common instant
  (the maximal cliques of an interval graph: exact, and the tightest linear form of "no two
  overlap"), plus AddNoOverlap over their session intervals and the groups those could hit
  (hard constraint 2). Per clinician: AddNoOverlap over their session intervals (4).
* Per participant: planned minutes <= max_minutes - attended (hard constraint 5), and a literal
  meet[p] that forces planned minutes >= what is still needed. Participants who cannot reach
  the minimum even with the program to themselves get no literal at all.

With `slots=True` each session additionally gets one literal per allowed start (a time-indexed
encoding, linked to the interval), and the clash rules for participants and clinicians become
AtMostOne cliques over groups and start literals. That model is larger but its LP relaxation
is much tighter on sessions: on 50 participants it proves the session/minutes stage optimal in
seconds where the interval-only model does not in a minute. The interval-only model is much
faster for objective 1, so each stage uses the model that suits it.

Lexicographic objective, in two stages:

1. maximise the number meeting the minimum (interval model), hinted with the better of the
   first-fit and a capacity-aware heuristic plan (warmstart.py). Because this stage optimises
   objective 1 alone, CP-SAT's best bound is exactly the proven `bound_meeting_minimum`.
2. fix that count (== when proven optimal, >= the value found otherwise) and maximise
   W * sessions + minutes (time-indexed model) with W = 1 + the total room for minutes, which is
   strictly lexicographic: one more session outweighs any possible change in minutes. The hint
   is stage 1's plan plus every session and place that still fits (stage 1 ignores sessions).

Objective 1 gets its own stage because it matters most and is the one with a reported bound;
objectives 2 and 3 share one weighted stage because a separate stage each would spend time on
presolve twice for no gain in correctness. Every stage is hinted with a feasible plan at least
as good as the previous one, so no stage can make the plan worse. The status is OPTIMAL only
when both stages were proven optimal.

Determinism: CP-SAT's default parallel portfolio is not reproducible, so we use
`interleave_search`, which runs the workers in deterministic batches (documented as independent
of num_workers), with the seed as `random_seed`, and we budget the stages in *deterministic*
time (CP-SAT's work counter), giving stage 2 what stage 1 did not use. The wall-clock limit is
a hard cap; as long as it does not fire before the deterministic budget (sized so that it
normally does not), the same input and seed give the same plan. Instances solved to optimality
within the limit always reproduce.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from openiop.planner.candidates import Candidates, SessionRequest
from openiop.planner.greedy import fill_up, greedy_choice
from openiop.planner.plan import Plan, count_meeting
from openiop.planner.result import bound_from_data, build_result
from openiop.planner.schema import MINUTES_PER_DAY, PlanInput, PlanResult, Session
from openiop.planner.warmstart import warm_start

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_WORKERS = 2
# Deterministic time units granted per second of --time-limit. CP-SAT's unit is meant to be
# "about a second" of one core, but with interleaved search on a shared 2-core machine we
# measured 0.1-0.55 (typically 0.3) units per wall second; we grant little enough that the
# deterministic budget, not the wall clock, normally ends the search (keeps runs reproducible).
DTIME_PER_SECOND = 0.2
# Share of the time limit stage 1 (objective 1, the priority) may use; stage 2 gets the rest.
STAGE1_SHARE = 0.6

_TIME_LIMIT_NOTE = "the planner reached its time limit"


@dataclass
class _SessionVars:
    """Decision variables of one requested session.

    `slots` maps each allowed start to a literal "the session starts here" (time-indexed
    encoding); `present` is true iff one of them is. `start`/`interval` are the optional
    interval view of the same decision, linked to the slots.
    """

    request: SessionRequest
    present: cp_model.IntVar
    slots: dict[int, cp_model.IntVar]  # empty with the interval-only encoding
    start: cp_model.IntVar
    interval: cp_model.IntervalVar


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


# An item on someone's timeline: fixed [start, end) occupied when `literal` is true.
_Item = tuple[int, int, cp_model.IntVar]


def _add_timeline(model: cp_model.CpModel, items: Sequence[_Item]) -> None:
    """At most one item at any instant, as AtMostOne over the maximal cliques.

    All items have fixed times, so "no two overlap" is an interval graph, whose maximal cliques
    are the sets of items running at some item's start. One AtMostOne per distinct clique is
    exact and is the strongest linear form (LP relaxation) of pairwise non-overlap.
    """
    if len(items) < 2:
        return
    ordered = sorted(items, key=lambda item: item[0])
    points = sorted({item[0] for item in items})
    active: list[_Item] = []
    nxt = 0
    previous: frozenset[int] = frozenset()
    for point in points:
        while nxt < len(ordered) and ordered[nxt][0] <= point:
            active.append(ordered[nxt])
            nxt += 1
        active = [item for item in active if item[1] > point]
        key = frozenset(item[2].index for item in active)
        if len(active) > 1 and not key <= previous:
            model.add_at_most_one(item[2] for item in active)
        previous = key


def _session_vars(model: cp_model.CpModel, request: SessionRequest, slots: bool) -> _SessionVars:
    """Variables of one session: start literals (if `slots`) and the optional interval."""
    name = f"{request.kind}[{request.participant.id}]"
    present = model.new_bool_var(name)
    start = model.new_int_var_from_domain(
        cp_model.Domain.from_values(request.starts), f"{name}.start"
    )
    interval = model.new_optional_fixed_size_interval_var(
        start, request.minutes, present, f"{name}.interval"
    )
    svars = _SessionVars(request, present, {}, start, interval)
    if slots:
        svars.slots = {t: model.new_bool_var(f"{name}@{t}") for t in request.starts}
        model.add(sum(svars.slots.values()) == present)
        model.add(start == sum(t * lit for t, lit in svars.slots.items())).only_enforce_if(present)
    return svars


def _session_clashes_group(svars: _SessionVars, start: int, end: int) -> bool:
    minutes = svars.request.minutes
    return any(t < end and start < t + minutes for t in svars.request.starts)


def build_model(plan_input: PlanInput, candidates: Candidates, slots: bool = True) -> _Model:
    """The CP-SAT model; `slots` selects the time-indexed session encoding (see docstring)."""
    m = _Model(cp_model.CpModel())
    model = m.model
    clinician_items: dict[str, list[_Item]] = {}
    clinician_sessions: dict[str, list[_SessionVars]] = {}
    members: dict[str, list[cp_model.IntVar]] = {g.id: [] for g in plan_input.groups}

    for participant in plan_input.participants:
        items: list[_Item] = []
        group_minutes = []
        for group in candidates.eligible_groups(participant):
            join = model.new_bool_var(f"join[{participant.id},{group.id}]")
            m.joins[(participant.id, group.id)] = join
            members[group.id].append(join)
            items.append((group.week_start, group.week_end, join))
            group_minutes.append(group.minutes * join)
        group_items = list(items)

        own_sessions = []
        for request in candidates.session_requests(participant):
            if not request.starts:
                continue  # no slot exists at all; the reasons will say so
            svars = _session_vars(model, request, slots)
            for t, lit in svars.slots.items():
                items.append((t, t + request.minutes, lit))
                clinician_items.setdefault(request.clinician, []).append(
                    (t, t + request.minutes, lit)
                )
            clinician_sessions.setdefault(request.clinician, []).append(svars)
            own_sessions.append(svars)
            m.sessions.append(svars)
        _add_timeline(model, items)
        if own_sessions and not slots:
            # Sessions vs groups and vs each other; only groups a session could hit matter.
            intervals = [s.interval for s in own_sessions]
            for start, end, join in group_items:
                if any(_session_clashes_group(s, start, end) for s in own_sessions):
                    intervals.append(
                        model.new_optional_fixed_size_interval_var(start, end - start, join, "")
                    )
            model.add_no_overlap(intervals)

        planned = sum(group_minutes) + sum(s.request.minutes * s.present for s in own_sessions)
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
    for items in clinician_items.values():
        _add_timeline(model, items)
    for svars_list in clinician_sessions.values():
        if len(svars_list) > 1:
            model.add_no_overlap(s.interval for s in svars_list)
    return m


# -------------------------------------------------------------------------------- solving


def _hint(m: _Model, plan: Plan) -> None:
    """Hint a complete solution so every stage starts from a plan at least as good as `plan`."""
    m.model.clear_hints()  # type: ignore[no-untyped-call]  # unannotated in OR-Tools
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
        for t, slot in svars.slots.items():
            m.model.add_hint(slot, t == start)
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
            day, minute = divmod(solver.value(svars.start), MINUTES_PER_DAY)
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


# Stage 1 subsolvers left out of the interleaved portfolio. On objective 1 the bound comes from
# the LP-based workers and improvements from LP-guided search and LNS; these five found nothing
# there but took their turn in every batch. Measured on eight 200-participant instances, the
# slowest proofs went from 13-38 s to 2-16 s without them.
_STAGE1_SKIPPED_SUBSOLVERS = ("fixed", "quick_restart", "quick_restart_no_lp", "no_lp", "core")


def _parameters(
    seed: int,
    workers: int,
    dtime: float,
    wall: float,
    log: bool,
    skip: tuple[str, ...] = (),
) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.ignore_subsolvers.extend(skip)
    params.num_workers = workers
    params.random_seed = seed
    params.interleave_search = True  # deterministic multi-worker search (see module docstring)
    params.max_deterministic_time = max(dtime, 0.01)
    params.max_time_in_seconds = max(wall, 0.01)
    params.log_search_progress = log
    return solver


def _starting_plan(plan_input: PlanInput, candidates: Candidates) -> Plan:
    """The best (lexicographically) of the first-fit and the two capacity-aware heuristic plans.

    Serving cheap participants first is usually best when places are the bottleneck, serving
    the least flexible first when availability is; both are cheap, so we try both.
    """

    def key(plan: Plan) -> tuple[int, int, int]:
        return (
            count_meeting(plan_input, plan),
            sum(len(s) for s in plan.sessions.values()),
            sum(plan.planned_minutes(p.id) for p in plan_input.participants),
        )

    plans = [
        warm_start(plan_input, candidates, cheap_first=True),
        warm_start(plan_input, candidates, cheap_first=False),
        greedy_choice(plan_input, candidates),
    ]
    return max(plans, key=key)  # max() keeps the first of equals: deterministic


def _stopped_by_wall(solver: cp_model.CpSolver, wall_limit: float, optimal: bool) -> bool:
    # CP-SAT may also stop a little before its deterministic budget (it does not start a batch
    # that would overrun it), so only a stage that ran to its wall-clock cap counts as cut.
    return not optimal and solver.wall_time >= 0.97 * wall_limit


@dataclass
class _Stage:
    plan: Plan
    value: int
    optimal: bool
    bound: float | None = None  # proven upper bound on this stage's objective


def _run_stage(
    m: _Model,
    objective: cp_model.LinearExprT,
    start: Plan,
    solver: cp_model.CpSolver,
    plan_input: PlanInput,
) -> _Stage:
    _hint(m, start)
    m.model.maximize(objective)
    status = solver.solve(m.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Stage(
            plan=_read_plan(m, solver, plan_input),
            value=round(solver.objective_value),
            optimal=status == cp_model.OPTIMAL,
            bound=solver.best_objective_bound,
        )
    if status == cp_model.UNKNOWN:  # no solution in time: keep the (feasible) start plan
        return _Stage(plan=start, value=-1, optimal=False)
    # INFEASIBLE or MODEL_INVALID cannot happen for a correct model: fail loudly.
    raise RuntimeError(f"planner model is {solver.status_name(status)}")


@dataclass(frozen=True)
class SolveStats:
    """Measurements for the benchmark (seconds are wall clock)."""

    start_meeting: int  # participants meeting the minimum in the heuristic starting plan
    stage1_seconds: float  # until objective 1 was proven optimal or the stage stopped
    stage1_optimal: bool
    stage2_seconds: float
    stage2_optimal: bool
    deterministic_time: float
    # True if the wall clock, not the deterministic budget or a proof, ended a stage: such a
    # run is not guaranteed to reproduce (typically on an overloaded machine).
    stopped_by_wall_clock: bool


def solve(
    plan_input: PlanInput,
    time_limit: float = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    workers: int = DEFAULT_WORKERS,
    log: bool = False,
) -> PlanResult:
    """Plan the week with CP-SAT (lexicographic stages, see module docstring)."""
    return solve_with_stats(plan_input, time_limit, seed, workers, log)[0]


def solve_with_stats(
    plan_input: PlanInput,
    time_limit: float = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    workers: int = DEFAULT_WORKERS,
    log: bool = False,
) -> tuple[PlanResult, SolveStats]:
    """`solve` plus timings of the stages."""
    started = time.monotonic()
    candidates = Candidates(plan_input)
    dtime_budget = time_limit * DTIME_PER_SECOND

    # Stage 1: objective 1 alone, on the compact interval model.
    start = _starting_plan(plan_input, candidates)
    first_model = build_model(plan_input, candidates, slots=False)
    first_wall = (time_limit - (time.monotonic() - started)) * STAGE1_SHARE
    first_solver = _parameters(
        seed,
        workers,
        dtime_budget * STAGE1_SHARE,
        first_wall,
        log,
        skip=_STAGE1_SKIPPED_SUBSOLVERS,
    )
    first = _run_stage(first_model, first_model.meeting_expr(), start, first_solver, plan_input)
    stage1_end = time.monotonic()
    by_wall = _stopped_by_wall(first_solver, first_wall, first.optimal)
    bound = bound_from_data(plan_input, candidates)
    if first.bound is not None:
        bound = min(bound, math.floor(first.bound + 1e-6))
    meeting = count_meeting(plan_input, first.plan)

    # Stage 2: objectives 2 and 3 with objective 1 held, on the time-indexed model. Stage 1
    # ignores sessions, so first put back every session/place that fits without moving anyone.
    plan = fill_up(plan_input, candidates, first.plan)
    second_model = build_model(plan_input, candidates, slots=True)
    held = second_model.meeting_expr()
    second_model.model.add(held == meeting if first.optimal else held >= meeting)
    # Weight making sessions strictly dominate minutes: one more session is worth more than any
    # possible difference in planned minutes (total room is an upper bound on planned minutes).
    weight = 1 + sum(plan_input.planning_room(p) for p in plan_input.participants)
    objective = cp_model.LinearExpr.weighted_sum(
        [second_model.sessions_expr(), second_model.minutes_expr()], [weight, 1]
    )
    wall_left = time_limit - (time.monotonic() - started)
    second = _Stage(plan=plan, value=-1, optimal=False)
    dtime_used = first_solver.deterministic_time
    if wall_left > 0:
        second_solver = _parameters(
            seed, workers, max(0.0, dtime_budget - dtime_used), wall_left, log
        )
        second = _run_stage(second_model, objective, plan, second_solver, plan_input)
        dtime_used += second_solver.deterministic_time
        by_wall = by_wall or _stopped_by_wall(second_solver, wall_left, second.optimal)
    else:
        by_wall = True

    optimal = first.optimal and second.optimal
    stats = SolveStats(
        start_meeting=count_meeting(plan_input, start),
        stage1_seconds=stage1_end - started,
        stage1_optimal=first.optimal,
        stage2_seconds=time.monotonic() - stage1_end,
        stage2_optimal=second.optimal,
        deterministic_time=dtime_used,
        stopped_by_wall_clock=by_wall,
    )
    result = build_result(
        plan_input,
        candidates,
        second.plan,
        status="OPTIMAL" if optimal else "FEASIBLE",
        bound_meeting_minimum=max(bound, count_meeting(plan_input, second.plan)),
        incomplete_meeting=None if first.optimal else _TIME_LIMIT_NOTE,
        incomplete_sessions=None if optimal else _TIME_LIMIT_NOTE,
    )
    return result, stats
