"""Weekly planner for an Intensive Outpatient Program (`openiop plan-week`).

Places participants into the week's group sessions and books their individual and family
sessions so that as many participants as possible reach their weekly minimum dose. The
contract is docs/design `planner.md`; this package is pure Python (plus OR-Tools) and must
never import Django, so the command runs quickly without a database.

Public entry points:
    parse_input(data) -> PlanInput          validate an `openiop.plan-week/1` document
    solve(plan_input, ...) -> PlanResult    CP-SAT planner
    greedy_plan(plan_input) -> PlanResult   first-fit baseline
    check_plan(input_doc, output_doc)       independent validator of a result document
"""

from __future__ import annotations

from openiop.planner.checker import check_plan
from openiop.planner.greedy import greedy_plan
from openiop.planner.schema import PlanInput, PlanInputError, PlanResult, parse_input
from openiop.planner.solver import solve

__all__ = [
    "PlanInput",
    "PlanInputError",
    "PlanResult",
    "check_plan",
    "greedy_plan",
    "parse_input",
    "solve",
]
