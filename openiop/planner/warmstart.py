"""A capacity-aware starting plan for CP-SAT (not the benchmark baseline; see greedy.py).

CP-SAT proves the bound on objective 1 quickly when group places are the bottleneck (the LP
relaxation is tight), but finding a plan that reaches that bound can take it a long time from a
poor start. This heuristic gets close to it cheaply by avoiding the two mistakes first-fit makes:

* it serves first those who need the fewest group minutes (everyone counts the same in
  objective 1, so cheap participants first maximises the count, as in a knapsack with equal
  values), and among them the least flexible, since flexible people can go elsewhere later
  (`cheap_first=False` swaps the two keys, which does better when availability rather than
  places is the bottleneck; the solver tries both);
* it gives a participant places only if they then reach the minimum, so places are not spent on
  someone who would fall short anyway; and among the groups that fit, it prefers those with the
  least demand per place, leaving contested groups to people with no alternative;
* for someone still short, it frees a place in a full group by moving its members to other
  groups that suit them (a short chain of moves, found breadth-first, as in augmenting paths
  for matchings), never taking anyone below their own minimum.

Places left over are handed out in a final top-up pass (objective 3).
"""

from __future__ import annotations

from collections import deque

from openiop.planner.candidates import Candidates, overlaps
from openiop.planner.greedy import Booker
from openiop.planner.plan import Plan
from openiop.planner.schema import Group, Participant, PlanInput


def _contention(plan_input: PlanInput, candidates: Candidates) -> dict[str, float]:
    """Participants who could use a group, per place in it."""
    demand: dict[str, int] = {g.id: 0 for g in plan_input.groups}
    for participant in plan_input.participants:
        for group in candidates.eligible_groups(participant):
            demand[group.id] += 1
    return {g.id: demand[g.id] / max(1, plan_input.seats(g)) for g in plan_input.groups}


def _pick_groups(
    booker: Booker,
    participant: Participant,
    groups: list[Group],
    target: int,
) -> list[Group]:
    """Non-clashing groups with free places reaching `target` minutes, or [] if impossible."""
    chosen: list[Group] = []
    minutes = booker.planned(participant)
    busy = list(booker.busy.get(participant.id, []))
    for group in groups:
        if minutes >= target:
            break
        if booker.places[group.id] <= 0:
            continue
        if any(overlaps(group.week_start, group.week_end, a, b) for a, b in busy):
            continue
        chosen.append(group)
        busy.append((group.week_start, group.week_end))
        minutes += group.minutes
    return chosen if minutes >= target else []


# Moves per freed place. Longer chains, more passes and other group orders were tried: on the
# benchmark instances they found almost nothing more and took several times longer.
_MAX_CHAIN = 3

_Move = tuple[Participant, Group, Group]  # who moves, from which group, to which group


def _clashes(busy: list[tuple[int, int]], group: Group) -> bool:
    return any(overlaps(group.week_start, group.week_end, a, b) for a, b in busy)


def _free_a_place(
    booker: Booker, target: Group, blocked: str, dead_ends: set[str]
) -> list[_Move] | None:
    """Moves that free one place in the full group `target` (breadth-first over groups).

    `dead_ends` collects groups in which no place could be freed; the caller keeps it while
    nothing has changed, since the search would fail there again.
    """
    plan_input, candidates = booker.plan_input, booker.candidates
    if target.id in dead_ends:
        return None
    parent: dict[str, tuple[str, Participant]] = {}
    depth = {target.id: 0}
    queue = deque([target])
    while queue:
        current = queue.popleft()
        for mover in booker.members[current.id]:
            if mover.id == blocked:
                continue
            own = {g.id for g in booker.plan.groups_of(mover.id)}
            busy = list(booker.busy[mover.id])
            busy.remove((current.week_start, current.week_end))
            before = booker.planned(mover)
            needed = plan_input.still_needed(mover)
            room = plan_input.planning_room(mover)
            for alternative in candidates.eligible_groups(mover):
                if alternative.id in depth or alternative.id in own:
                    continue
                after = before - current.minutes + alternative.minutes
                if after > room or (before >= needed > after) or _clashes(busy, alternative):
                    continue
                depth[alternative.id] = depth[current.id] + 1
                parent[alternative.id] = (current.id, mover)
                if booker.places[alternative.id] > 0:
                    return _chain(plan_input, parent, alternative.id, target.id)
                if depth[alternative.id] < _MAX_CHAIN:
                    queue.append(alternative)
    dead_ends.add(target.id)
    return None


def _chain(
    plan_input: PlanInput, parent: dict[str, tuple[str, Participant]], end: str, start: str
) -> list[_Move] | None:
    """Moves to apply, last link first (it goes into a free place and frees the next one)."""
    moves: list[_Move] = []
    node = end
    while node != start:
        previous, mover = parent[node]
        moves.append((mover, plan_input.group_by_id[previous], plan_input.group_by_id[node]))
        node = previous
    # Each move was checked against the mover's bookings before any move: only valid if
    # nobody moves twice.
    return moves if len({m[0].id for m in moves}) == len(moves) else None


_Snapshot = tuple[
    dict[str, int],
    dict[str, list[tuple[int, int]]],
    dict[str, list[Group]],
    dict[str, list[Participant]],
]


def _snapshot(booker: Booker) -> _Snapshot:
    """Copies of the group bookings, to roll back a failed attempt."""
    return (
        dict(booker.places),
        {pid: list(busy) for pid, busy in booker.busy.items()},
        {pid: list(groups) for pid, groups in booker.plan.groups.items()},
        {gid: list(members) for gid, members in booker.members.items()},
    )


def _attempt(
    booker: Booker, participant: Participant, groups: list[Group], dead_ends: set[str]
) -> bool:
    """Book sessions and then groups (in this order of preference) up to the minimum, moving
    others where needed; roll everything back if the minimum is not reached."""
    saved = _snapshot(booker)
    for request in booker.candidates.session_requests(participant):
        booker.try_session(request)
    if _complete(booker, participant, groups, dead_ends):
        dead_ends.clear()  # places moved: earlier dead ends may have opened up
        return True
    booker.release_sessions(participant)
    booker.places, booker.busy, booker.plan.groups, booker.members = saved
    return False


def _complete(
    booker: Booker, participant: Participant, groups: list[Group], dead_ends: set[str]
) -> bool:
    """Try to bring a participant to the minimum, freeing places where needed."""
    needed = booker.plan_input.still_needed(participant)
    room = booker.plan_input.planning_room(participant)
    for group in groups:
        planned = booker.planned(participant)
        if planned >= needed:
            break
        busy = booker.busy.setdefault(participant.id, [])
        if group in booker.plan.groups_of(participant.id) or _clashes(busy, group):
            continue
        if planned + group.minutes > room:
            continue
        if booker.places[group.id] <= 0:
            moves = _free_a_place(booker, group, participant.id, dead_ends)
            if moves is None:
                continue
            for mover, old, new in moves:
                booker.drop_group(mover, old)
                booker.try_group(mover, new)
        booker.try_group(participant, group)
    return booker.planned(participant) >= needed


def warm_start(plan_input: PlanInput, candidates: Candidates, cheap_first: bool = True) -> Plan:
    """Feasible plan for every hard constraint (it books through the greedy's checks).

    `cheap_first=False` orders by flexibility first and cost second.
    """
    booker = Booker(plan_input, candidates)
    contention = _contention(plan_input, candidates)
    order = {p.id: i for i, p in enumerate(plan_input.participants)}
    # Ties between groups at the same time (two rooms) go by input order, not by id: ids are
    # arbitrary (UUIDs in the app), so the same week gives the same plan whatever its ids.
    position = {g.id: i for i, g in enumerate(plan_input.groups)}

    def priority(participant: Participant) -> tuple[int, int, int]:
        # Every participant counts the same in objective 1, so serve the cheapest first (fewest
        # group minutes still needed, as in a knapsack with equal values), and among equals the
        # least flexible (fewest spare minutes).
        needed = plan_input.still_needed(participant)
        from_groups = needed - sum(
            r.minutes for r in candidates.session_requests(participant) if r.starts
        )
        spare = candidates.minutes_bound(participant) - needed
        if cheap_first:
            return (from_groups, spare, order[participant.id])
        return (spare, from_groups, order[participant.id])

    hopeful = [p for p in plan_input.participants if candidates.can_possibly_meet(p)]
    short: list[tuple[Participant, list[Group]]] = []
    for participant in sorted(hopeful, key=priority):
        needed = plan_input.still_needed(participant)
        requests = candidates.session_requests(participant)
        from_groups = needed - sum(r.minutes for r in requests if r.starts)
        eligible = candidates.eligible_groups(participant)
        by_contention = sorted(
            eligible, key=lambda g: (contention[g.id], -g.minutes, g.week_start, position[g.id])
        )
        # Contention order can paint itself into a corner; time order packs tighter.
        by_time = sorted(eligible, key=lambda g: (g.week_start, position[g.id]))
        chosen = _pick_groups(booker, participant, by_contention, from_groups) or _pick_groups(
            booker, participant, by_time, from_groups
        )
        for group in chosen:
            booker.try_group(participant, group)
        for request in requests:  # sessions go into the gaps between the chosen groups
            booker.try_session(request)
        if booker.planned(participant) < needed:  # a session did not fit: more groups
            for group in _pick_groups(booker, participant, by_time, needed):
                booker.try_group(participant, group)
        if booker.planned(participant) < needed:
            booker.release(participant)  # do not hold places for someone still short
            short.append((participant, by_contention))
    dead_ends: set[str] = set()
    for participant, groups in short:  # second chance, moving others out of the way
        _attempt(booker, participant, groups, dead_ends)
    booker.fill_up()  # sessions that still fit, then places left over (objectives 2 and 3)
    return booker.plan
