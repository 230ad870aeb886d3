"""What each participant could possibly attend, derived from the input alone.

Shared by the CP-SAT model, the greedy baseline and the reasons: all three must agree on which
groups a participant may join (hard constraint 1) and where a session may start (hard
constraint 4, except for clashes that depend on the plan itself). The independent checker does
NOT use this module, so a mistake here cannot hide itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from openiop.planner.schema import (
    SESSION_KINDS,
    SLOT_MINUTES,
    Group,
    Participant,
    PlanInput,
    Window,
)


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Half-open intervals [a_start, a_end) and [b_start, b_end) share some time."""
    return a_start < b_end and b_start < a_end


def inside_one(windows: Iterable[Window], start: int, end: int) -> bool:
    return any(window.contains(start, end) for window in windows)


def max_non_overlapping_minutes(intervals: Sequence[tuple[int, int]]) -> int:
    """Most minutes coverable by pairwise non-overlapping intervals (weighted interval scheduling).

    Exact, O(n log n). Used as an upper bound that ignores capacity: no plan can give a
    participant more group minutes than this.
    """
    ordered = sorted(intervals, key=lambda iv: iv[1])
    ends = [end for _, end in ordered]
    best = [0] * (len(ordered) + 1)  # best[i]: using the first i intervals
    for i, (start, end) in enumerate(ordered):
        compatible = bisect.bisect_right(ends, start, 0, i)  # intervals ending by `start`
        best[i + 1] = max(best[i], best[compatible] + (end - start))
    return best[-1]


@dataclass(frozen=True)
class SessionRequest:
    """One individual or family session a participant asked for."""

    participant: Participant
    kind: str
    minutes: int
    clinician: str
    starts: tuple[int, ...]  # week-minute starts allowed by the data (constraint 4 minus clashes)


class Candidates:
    """Per-participant eligible groups and session start options for one PlanInput."""

    def __init__(self, plan_input: PlanInput) -> None:
        self.plan_input = plan_input

    @cached_property
    def facilitated(self) -> dict[str, tuple[Group, ...]]:
        """Groups each clinician runs: their sessions can never overlap these."""
        by_clinician: dict[str, list[Group]] = {c.id: [] for c in self.plan_input.clinicians}
        for group in self.plan_input.groups:
            by_clinician[group.facilitator].append(group)
        return {cid: tuple(groups) for cid, groups in by_clinician.items()}

    def track_groups(self, participant: Participant) -> list[Group]:
        return [g for g in self.plan_input.groups if g.track in participant.tracks]

    @cached_property
    def _eligible(self) -> dict[str, tuple[Group, ...]]:
        result = {}
        for participant in self.plan_input.participants:
            result[participant.id] = tuple(
                g
                for g in self.track_groups(participant)
                if self.plan_input.seats(g) > 0
                and inside_one(participant.available, g.week_start, g.week_end)
            )
        return result

    def eligible_groups(self, participant: Participant) -> tuple[Group, ...]:
        """Groups of the participant's tracks lying inside one of their windows (constraint 1)."""
        return self._eligible[participant.id]

    def slot_starts(self, participant: Participant, clinician_id: str, minutes: int) -> list[int]:
        """Quarter-hour starts where a session fits one participant and one clinician window."""
        clinician = self.plan_input.clinician_by_id[clinician_id]
        starts: list[int] = []
        for own in participant.available:
            for theirs in clinician.available:
                low = max(own.week_start, theirs.week_start)
                high = min(own.week_end, theirs.week_end)
                first = -(-low // SLOT_MINUTES) * SLOT_MINUTES  # round up to a quarter hour
                starts.extend(range(first, high - minutes + 1, SLOT_MINUTES))
        return sorted(set(starts))

    def free_starts(self, clinician_id: str, starts: Iterable[int], minutes: int) -> list[int]:
        """The starts that do not clash with a group the clinician facilitates."""
        busy = [(g.week_start, g.week_end) for g in self.facilitated[clinician_id]]
        return [s for s in starts if not any(overlaps(s, s + minutes, b0, b1) for b0, b1 in busy)]

    @cached_property
    def _requests(self) -> dict[str, tuple[SessionRequest, ...]]:
        result = {}
        for participant in self.plan_input.participants:
            requests = []
            for kind in SESSION_KINDS:
                minutes = participant.session_minutes(kind)
                if minutes <= 0:
                    continue
                clinician = participant.primary_clinician
                assert clinician is not None  # parse_input guarantees it when minutes > 0
                starts = self.free_starts(
                    clinician, self.slot_starts(participant, clinician, minutes), minutes
                )
                requests.append(
                    SessionRequest(participant, kind, minutes, clinician, tuple(starts))
                )
            result[participant.id] = tuple(requests)
        return result

    def session_requests(self, participant: Participant) -> tuple[SessionRequest, ...]:
        return self._requests[participant.id]

    def group_minutes_bound(self, participant: Participant) -> int:
        """Most group minutes the participant could attend if every group had room."""
        return max_non_overlapping_minutes(
            [(g.week_start, g.week_end) for g in self.eligible_groups(participant)]
        )

    def minutes_bound(self, participant: Participant) -> int:
        """Upper bound on what a plan can add for the participant, ignoring other people.

        Groups that fit (no clashes among them) plus every session that has any possible slot,
        capped by the weekly maximum. Participants whose bound is below what they still need
        cannot reach the minimum in any plan.
        """
        sessions = sum(r.minutes for r in self.session_requests(participant) if r.starts)
        bound = self.group_minutes_bound(participant) + sessions
        return min(bound, self.plan_input.planning_room(participant))

    def can_possibly_meet(self, participant: Participant) -> bool:
        return self.minutes_bound(participant) >= self.plan_input.still_needed(participant)
