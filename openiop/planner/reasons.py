"""Plain-language reasons for participants under the minimum and sessions left out.

The audience is a program director, so every sentence states a fact about the schedule that
they can act on (widen a window, add a group, free a clinician's hour), with the numbers
computed from the data: e.g. "available windows hold only 360 min of AM-track groups (needs
540 min)". The checks go from the most basic cause to the most plan-specific one and stop at
the first that explains the shortfall:

1. nothing in the data could ever work (no tracks, no group of their tracks, no group inside
   their windows, too few group minutes even if every group were empty, groups that clash);
2. the plan's other bookings are in the way (groups full, clinician's time booked);
3. otherwise the search was cut short, or the remaining options clash with one another.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.planner.candidates import (
    Candidates,
    SessionRequest,
    inside_one,
    max_non_overlapping_minutes,
    overlaps,
)
from openiop.planner.plan import Plan
from openiop.planner.schema import (
    DAY_NAMES,
    MINUTES_PER_DAY,
    Group,
    Participant,
    PlanInput,
    Session,
    format_time,
)

_MAX_NAMED = 4  # name at most this many groups, then "and N more"


def explain(
    plan_input: PlanInput,
    candidates: Candidates,
    plan: Plan,
    incomplete_meeting: str | None = None,
    incomplete_sessions: str | None = None,
) -> dict[str, list[str]]:
    """Reasons per participant id (participants with nothing to explain are omitted).

    `incomplete_meeting` / `incomplete_sessions` describe why the plan may not be the best
    possible for objective 1 / 2 (e.g. "the planner reached its time limit"); None when that
    objective was proven optimal, in which case the remaining causes are stated as facts.
    """
    occupancy = plan.occupancy()
    clinician_sessions = plan.sessions_by_clinician()
    result: dict[str, list[str]] = {}
    for participant in plan_input.participants:
        reasons: list[str] = []
        if participant.attended_minutes > plan_input.max_minutes(participant):
            reasons.append(
                f"already attended {participant.attended_minutes} min this week, above the "
                f"{plan_input.max_minutes(participant)}-min maximum, so nothing more was planned"
            )
        planned = plan.planned_minutes(participant.id)
        if participant.attended_minutes + planned < plan_input.required_minutes(participant):
            reasons.append(
                _shortfall(
                    plan_input,
                    candidates,
                    plan,
                    participant,
                    occupancy,
                    clinician_sessions,
                    incomplete_meeting,
                )
            )
        booked = {s.kind for s in plan.sessions_of(participant.id)}
        for request in candidates.session_requests(participant):
            if request.kind not in booked:
                reasons.append(
                    _session_left_out(
                        plan_input,
                        candidates,
                        plan,
                        request,
                        clinician_sessions,
                        incomplete_sessions,
                    )
                )
        if reasons:
            result[participant.id] = reasons
    return result


# ------------------------------------------------------------------------------- wording


def _tracks_label(tracks: Sequence[str]) -> str:
    """Label such as: AM-track, AM- or PM-track, AM-, PM- or EVE-track."""
    if len(tracks) == 1:
        return f"{tracks[0]}-track"
    head = ", ".join(f"{t}-" for t in tracks[:-1])
    return f"{head} or {tracks[-1]}-track"


def _names(groups: Sequence[Group]) -> str:
    names = [g.id for g in sorted(groups, key=lambda g: (g.week_start, g.id))]
    if len(names) <= _MAX_NAMED:
        return ", ".join(names)
    return f"{', '.join(names[:_MAX_NAMED])} and {len(names) - _MAX_NAMED} more"


def _when(week_minute: int) -> str:
    day, minute = divmod(week_minute, MINUTES_PER_DAY)
    return f"{DAY_NAMES[day]} {format_time(minute)}"


# --------------------------------------------------------------- participant under minimum


def _shortfall(
    plan_input: PlanInput,
    candidates: Candidates,
    plan: Plan,
    participant: Participant,
    occupancy: dict[str, int],
    clinician_sessions: dict[str, list[Session]],
    incomplete: str | None,
) -> str:
    required = plan_input.required_minutes(participant)
    needed = plan_input.still_needed(participant)
    already = (
        f"after the {participant.attended_minutes} min already attended, "
        if participant.attended_minutes
        else ""
    )
    if not participant.tracks:
        return "no group tracks are listed for them, so no group can be offered"
    label = _tracks_label(participant.tracks)
    if not candidates.track_groups(participant):
        return f"no {label} group is scheduled this week"
    eligible = candidates.eligible_groups(participant)
    if not eligible:
        inside = [
            g
            for g in candidates.track_groups(participant)
            if inside_one(participant.available, g.week_start, g.week_end)
        ]
        if inside:  # they fit, but a capacity or max_group_size of 0 leaves no place
            return f"{already}the {label} groups inside their windows have no places"
        return f"{already}no {label} group lies inside their available windows"

    requests = candidates.session_requests(participant)
    session_minutes = sum(r.minutes for r in requests if r.starts)
    group_need = needed - session_minutes  # what groups would have to supply
    group_bound = candidates.group_minutes_bound(participant)
    if group_bound < group_need:
        fitting_total = sum(g.minutes for g in eligible)
        if fitting_total >= group_need:
            return (
                f"{already}reaching {required} min would need overlapping groups: the "
                f"{label} groups inside their windows add up to {fitting_total} min, but only "
                f"{group_bound} min of them can be attended without clashes"
            )
        needs = (
            f"needs {group_need} min from groups, after {session_minutes} min of "
            "individual/family sessions"
            if session_minutes
            else f"needs {group_need} min"
        )
        return f"{already}available windows hold only {group_bound} min of {label} groups ({needs})"

    # The data allows it; something in this plan is in the way.
    own = {g.id for g in plan.groups_of(participant.id)}
    full = [
        g for g in eligible if g.id not in own and occupancy.get(g.id, 0) >= plan_input.seats(g)
    ]
    open_groups = [g for g in eligible if g not in full]
    open_bound = max_non_overlapping_minutes([(g.week_start, g.week_end) for g in open_groups])
    blocked_requests = [
        r
        for r in requests
        if r.starts and not _clinician_has_time(clinician_sessions, r, participant.id)
    ]
    open_sessions = session_minutes - sum(r.minutes for r in blocked_requests)
    if open_bound + open_sessions < needed:
        parts = []
        if full and open_bound < group_bound:
            if not open_groups:
                parts.append(f"all {label} groups that fit their windows are full ({_names(full)})")
            else:
                parts.append(
                    f"the {label} groups that fit their windows and still have places hold only "
                    f"{open_bound} min (full: {_names(full)})"
                )
        for request in blocked_requests:
            parts.append(
                f"clinician {request.clinician}'s free time inside their windows is booked "
                f"with other participants, so the {request.kind} session cannot count"
            )
        if parts:
            # Other people's bookings are in the way; without an optimality proof a better
            # arrangement may exist, and the director should know that.
            maybe = f" ({incomplete}, so a better arrangement may exist)" if incomplete else ""
            return f"{already}{'; '.join(parts)}{maybe}"
    if incomplete:
        return f"{incomplete} before a plan reaching {required} min was found for them"
    return (
        f"{already}the open groups and the clinician's free time inside their windows clash "
        f"with one another, so they cannot be combined to reach {required} min"
    )


def _clinician_has_time(
    clinician_sessions: dict[str, list[Session]], request: SessionRequest, participant_id: str
) -> bool:
    """Some allowed start is not taken by the clinician's sessions with other participants."""
    others = [
        s for s in clinician_sessions.get(request.clinician, []) if s.participant != participant_id
    ]
    return any(
        not any(overlaps(t, t + request.minutes, s.week_start, s.week_end) for s in others)
        for t in request.starts
    )


# ---------------------------------------------------------------------- session left out


def _session_left_out(
    plan_input: PlanInput,
    candidates: Candidates,
    plan: Plan,
    request: SessionRequest,
    clinician_sessions: dict[str, list[Session]],
    incomplete: str | None,
) -> str:
    participant = request.participant
    clinician = request.clinician
    head = f"{request.kind} session ({request.minutes} min) with {clinician} left out: "
    shared = candidates.slot_starts(participant, clinician, request.minutes)
    if not shared:
        return head + (
            f"clinician {clinician} has no free {request.minutes}-min slot inside the "
            "participant's windows (their available hours never overlap for that long)"
        )
    if not request.starts:
        return head + (
            f"clinician {clinician} has no free {request.minutes}-min slot inside the "
            f"participant's windows (the shared hours are taken by groups {clinician} leads)"
        )
    total = participant.attended_minutes + plan.planned_minutes(participant.id)
    maximum = plan_input.max_minutes(participant)
    if total + request.minutes > maximum:
        return head + (
            f"booking it would take their week to {total + request.minutes} min, above the "
            f"{maximum}-min maximum"
        )
    own = [(g.week_start, g.week_end) for g in plan.groups_of(participant.id)]
    own += [(s.week_start, s.week_end) for s in plan.sessions_of(participant.id)]
    others = [
        (s.week_start, s.week_end)
        for s in clinician_sessions.get(clinician, [])
        if s.participant != participant.id
    ]
    clash_own = clash_others = False
    for start in request.starts:
        end = start + request.minutes
        hits_own = any(overlaps(start, end, a, b) for a, b in own)
        hits_others = any(overlaps(start, end, a, b) for a, b in others)
        if not hits_own and not hits_others:
            if incomplete:
                return head + (
                    f"{incomplete} before booking it (for example {_when(start)} is still free)"
                )
            return head + f"it was not booked although {_when(start)} is free"
        clash_own |= hits_own
        clash_others |= hits_others
    blockers = []
    if clash_own:
        blockers.append("the participant's own groups and sessions")
    if clash_others:
        blockers.append(f"clinician {clinician}'s sessions with other participants")
    return head + (
        f"every {request.minutes}-min slot where both are free clashes with {' or '.join(blockers)}"
    )
