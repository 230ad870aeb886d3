"""Generated weeks: every plan passes the independent checker; CP-SAT never loses to greedy."""

from __future__ import annotations

import pytest

from openiop.planner import check_plan, greedy_plan, parse_input, solve
from openiop.planner.candidates import Candidates
from openiop.planner.generate import generate_instance
from openiop.planner.greedy import fill_up
from openiop.planner.result import build_result
from openiop.planner.warmstart import warm_start

INSTANCES = [
    # (participants, clinicians, groups, availability, seed): small enough to stay fast
    (12, 2, 6, "loose", 1),
    (16, 2, 6, "tight", 2),
    (24, 3, 8, "loose", 3),
    (24, 3, 8, "tight", 4),
    (36, 3, 10, "loose", 5),
    (36, 4, 12, "tight", 6),
]


@pytest.mark.parametrize(("n", "clinicians", "groups", "availability", "seed"), INSTANCES)
def test_generated_plans_are_valid_and_beat_greedy(
    n: int, clinicians: int, groups: int, availability: str, seed: int
) -> None:
    doc = generate_instance(n, clinicians, groups, availability=availability, seed=seed)
    plan_input = parse_input(doc)
    cp = solve(plan_input, time_limit=6, seed=seed).to_json()
    greedy = greedy_plan(plan_input).to_json()
    assert check_plan(doc, cp) == []
    assert check_plan(doc, greedy) == []
    assert cp["objective"]["meeting_minimum"] >= greedy["objective"]["meeting_minimum"]
    assert cp["objective"]["bound_meeting_minimum"] >= cp["objective"]["meeting_minimum"]
    # The greedy's bound comes from the data alone, so it can never be below a proven bound.
    assert greedy["objective"]["bound_meeting_minimum"] >= cp["objective"]["bound_meeting_minimum"]
    for entry in cp["participants"]:
        assert entry["meets_minimum"] or entry["reasons"]


def test_generator_is_deterministic() -> None:
    assert generate_instance(30, availability="tight", seed=9) == generate_instance(
        30, availability="tight", seed=9
    )
    assert generate_instance(30, seed=9) != generate_instance(30, seed=10)
    parse_input(generate_instance(30, seed=9))  # generated input is always valid


@pytest.mark.parametrize("availability", ["loose", "tight"])
def test_mixed_length_groups(availability: str) -> None:
    """90-120 minute groups alongside 3-hour blocks (minutes no longer come in equal steps)."""
    doc = generate_instance(30, 3, 10, availability=availability, seed=8, block_share=0.5)
    plan_input = parse_input(doc)
    cp = solve(plan_input, time_limit=6, seed=1).to_json()
    greedy = greedy_plan(plan_input).to_json()
    assert check_plan(doc, cp) == []
    assert check_plan(doc, greedy) == []
    assert cp["objective"]["meeting_minimum"] >= greedy["objective"]["meeting_minimum"]


@pytest.mark.parametrize("cheap_first", [True, False])
@pytest.mark.parametrize(("n", "clinicians", "groups", "availability", "seed"), INSTANCES[2:])
def test_heuristic_starting_plans_are_valid(
    n: int, clinicians: int, groups: int, availability: str, seed: int, cheap_first: bool
) -> None:
    """The capacity-aware heuristic moves people between groups: its plans must stay valid."""
    doc = generate_instance(n, clinicians, groups, availability=availability, seed=seed)
    plan_input = parse_input(doc)
    candidates = Candidates(plan_input)
    plan = fill_up(plan_input, candidates, warm_start(plan_input, candidates, cheap_first))
    result = build_result(plan_input, candidates, plan, "FEASIBLE", len(plan_input.participants))
    assert check_plan(doc, result.to_json()) == []
