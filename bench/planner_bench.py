"""Benchmark of the weekly planner: CP-SAT vs the greedy first-fit baseline.

Generates synthetic weeks (openiop.planner.generate) of 50, 200 and 500 participants with tight
and loose availability (200 participants: 15 clinicians and 40 groups; the other sizes scale
in proportion), plans each with CP-SAT and with greedy, validates both plans with the
independent checker, prints a progress line per run and writes a markdown report.

    .venv/bin/python bench/planner_bench.py                  # full run, 60 s per CP-SAT solve
    .venv/bin/python bench/planner_bench.py --time-limit 20 --sizes 50 200
    .venv/bin/python bench/planner_bench.py --output /tmp/report.md

Runs one solver at a time (the machine it is meant for has 2 cores).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from openiop.core.clock import utc_today

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from openiop.planner.checker import check_plan  # noqa: E402
from openiop.planner.generate import generate_instance  # noqa: E402
from openiop.planner.greedy import greedy_plan  # noqa: E402
from openiop.planner.schema import PlanResult, parse_input  # noqa: E402
from openiop.planner.solver import DEFAULT_WORKERS, solve_with_stats  # noqa: E402

DEFAULT_OUTPUT = REPO / "docs" / "benchmarks-planner.md"
TARGET = "200 participants, 15 clinicians, 40 groups: objective 1 proven optimal in under 20 s"


@dataclass(frozen=True)
class Row:
    participants: int
    clinicians: int
    groups: int
    availability: str
    seed: int
    block_share: float
    cp: PlanResult
    cp_seconds: float
    cp_stage1_seconds: float
    cp_stage1_optimal: bool
    cp_start_meeting: int
    cp_violations: int
    cp_wall_cut: bool
    greedy: PlanResult
    greedy_seconds: float
    greedy_violations: int


def _sizes(participants: int) -> tuple[int, int]:
    """Clinicians and groups for a program of this size (15 and 40 per 200 participants)."""
    return max(2, round(participants * 15 / 200)), max(4, round(participants * 40 / 200))


def _run(
    participants: int, availability: str, time_limit: float, seed: int, block_share: float
) -> Row:
    clinicians, groups = _sizes(participants)
    doc = generate_instance(
        participants, clinicians, groups, availability, seed=seed, block_share=block_share
    )
    plan_input = parse_input(doc)
    kind = "" if block_share == 1.0 else f", mixed lengths ({block_share:.0%} 3-hour blocks)"
    label = f"{participants:>3} participants, {availability:<5}{kind}"
    print(f"[{label}] CP-SAT (limit {time_limit:g} s) ...", flush=True)
    started = time.monotonic()
    cp, stats = solve_with_stats(plan_input, time_limit=time_limit, seed=seed)
    cp_seconds = time.monotonic() - started
    cp_violations = len(check_plan(doc, cp.to_json()))
    print(
        f"[{label}] CP-SAT {cp.status}: {cp.objective.meeting_minimum}/{participants} meet the "
        f"minimum (bound {cp.objective.bound_meeting_minimum}), objective 1 "
        f"{'proven' if stats.stage1_optimal else 'not proven'} after "
        f"{stats.stage1_seconds:.1f} s, total {cp_seconds:.1f} s"
        f"{' (cut by the wall clock)' if stats.stopped_by_wall_clock else ''}, "
        f"{cp_violations} checker violations",
        flush=True,
    )
    started = time.monotonic()
    greedy = greedy_plan(plan_input)
    greedy_seconds = time.monotonic() - started
    greedy_violations = len(check_plan(doc, greedy.to_json()))
    print(
        f"[{label}] greedy: {greedy.objective.meeting_minimum}/{participants} meet the minimum "
        f"in {greedy_seconds:.2f} s, {greedy_violations} checker violations",
        flush=True,
    )
    return Row(
        participants=participants,
        clinicians=clinicians,
        groups=groups,
        availability=availability,
        seed=seed,
        block_share=block_share,
        cp=cp,
        cp_seconds=cp_seconds,
        cp_stage1_seconds=stats.stage1_seconds,
        cp_stage1_optimal=stats.stage1_optimal,
        cp_start_meeting=stats.start_meeting,
        cp_violations=cp_violations,
        cp_wall_cut=stats.stopped_by_wall_clock,
        greedy=greedy,
        greedy_seconds=greedy_seconds,
        greedy_violations=greedy_violations,
    )


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, OR-Tools {importlib.metadata.version('ortools')}"
    )


def _seeded(rows: list[Row], seed: int) -> list[Row]:
    return [r for r in rows if r.seed == seed]


def _target_verdict(rows: list[Row], block_share: float) -> str:
    relevant = [r for r in rows if r.participants == 200 and r.block_share == block_share]
    if not relevant:
        return "Not measured in this run (no 200-participant instance)."
    parts = []
    for row in relevant:
        met = row.cp_stage1_optimal and row.cp_stage1_seconds < 20
        parts.append(
            f"{row.availability}: {'met' if met else 'NOT met'} "
            f"(objective 1 {'proven' if row.cp_stage1_optimal else 'not proven'} "
            f"after {row.cp_stage1_seconds:.1f} s)"
        )
    return "; ".join(parts) + "."


def _table(rows: list[Row]) -> list[str]:
    lines = [
        "| participants | clinicians | groups | availability | seed | CP-SAT meeting minimum | "
        "CP-SAT status | bound | objective 1 proven after | CP-SAT seconds | "
        "greedy meeting minimum | greedy seconds | sessions placed (CP-SAT / greedy) | "
        "planned minutes (CP-SAT / greedy) |",
        "|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        proven = f"{r.cp_stage1_seconds:.1f} s" if r.cp_stage1_optimal else "not proven"
        seconds = f"{r.cp_seconds:.1f}{' *' if r.cp_wall_cut else ''}"
        lines.append(
            f"| {r.participants} | {r.clinicians} | {r.groups} | {r.availability} | {r.seed} | "
            f"{r.cp.objective.meeting_minimum} | {r.cp.status} | "
            f"{r.cp.objective.bound_meeting_minimum} | {proven} | {seconds} | "
            f"{r.greedy.objective.meeting_minimum} | {r.greedy_seconds:.2f} | "
            f"{r.cp.objective.sessions_placed} / {r.greedy.objective.sessions_placed} | "
            f"{r.cp.objective.planned_minutes} / {r.greedy.objective.planned_minutes} |"
        )
    return lines


def _report(
    rows: list[Row],
    mixed: list[Row],
    extra: list[Row],
    mixed_share: float,
    time_limit: float,
    seed: int,
    command: str,
) -> str:
    violations = sum(r.cp_violations + r.greedy_violations for r in rows + mixed + extra)
    lines = [
        "# Weekly planner benchmark (`openiop plan-week`)",
        "",
        f"- Date: {utc_today().isoformat()} (UTC)",
        f"- Machine: {_machine()}; CP-SAT with {DEFAULT_WORKERS} workers "
        "(deterministic interleaved search). The machine was shared with other work while "
        "this ran, so wall-clock times are indicative (they vary by up to about 2x between "
        "runs).",
        f"- CP-SAT time limit per instance: {time_limit:g} s; seed {seed}.",
        f"- Command: `{command}`",
        "- Instances: `openiop.planner.generate.generate_instance(participants, clinicians, "
        f"groups, availability, seed={seed}, block_share)`: morning/afternoon/evening tracks "
        "on weekdays, groups of 8-12 places, adults need 540 min and adolescents 360 min, most "
        "participants request a 45-60 min individual session and some a 60-90 min family "
        "session. *tight*: 2-4 days with windows hugging the track hours, a quarter of them "
        "cut short, so availability is the bottleneck; *loose*: wide windows on most "
        "weekdays, so group places are the bottleneck (demand exceeds places by about a "
        "third). Standard instances have only 3-hour program blocks (`block_share=1.0`, the "
        "unit in planner.md's example and clinical.md's typical week); the mixed-length "
        f"instances make {1 - mixed_share:.0%} of the groups 90-120 min long, which is much "
        "harder because minutes no longer come in equal steps.",
        f"- Every plan was validated with the independent checker (`check_plan`): "
        f"{violations} violations in total.",
        "",
        "## Results: standard instances (3-hour program blocks)",
        "",
        *_table(rows),
        "",
        *(
            [
                f"## Results: mixed-length instances ({mixed_share:.0%} 3-hour blocks)",
                "",
                *_table(mixed),
                "",
            ]
            if mixed
            else []
        ),
        "Columns: *meeting minimum* is objective 1 (participants whose week reaches the "
        "minimum); *bound* is `bound_meeting_minimum`, CP-SAT's proven upper bound on it "
        "(equal to the value when proven optimal); *objective 1 proven after* is the wall time "
        "until CP-SAT proved objective 1 optimal (the time limit then goes on to objectives 2 "
        "and 3); *status* is OPTIMAL only when all three objectives were proven optimal; "
        "*CP-SAT seconds* marked * are runs that the wall-clock limit cut before the "
        "deterministic work budget ran out (such runs are not guaranteed to reproduce). "
        "Greedy is the first-fit baseline (`openiop.planner.greedy`): participants in file "
        "order, earliest groups first, no look-ahead.",
        "",
        "## How to read this",
        "",
        "- The CP-SAT planner (`openiop.planner.solver`) solves objective 1 alone first, on a "
        "compact model, starting from the best of the greedy plan and two capacity-aware "
        "heuristic plans; then it holds that count and maximises sessions placed and planned "
        "minutes (one weighted, strictly lexicographic stage) on a time-indexed model. It "
        "budgets its work in CP-SAT *deterministic time* (0.2 units per second of the limit) "
        "so that the same input and seed give the same plan. On an idle 2-core machine that "
        "budget runs out well before the wall-clock limit; on a loaded one the wall clock can "
        "come first (such runs are marked *).",
        "- When objective 1 is not proven, the gap between *meeting minimum* and *bound* is "
        "how many more participants an optimal plan might reach at most.",
        "- *sessions placed* and *planned minutes* can be lower for CP-SAT than for greedy: "
        "they rank below objective 1, so CP-SAT gives them up when that lets more "
        "participants reach the minimum, and on the larger loose instances the session stage "
        "is not solved to optimality within the limit (status FEASIBLE).",
        "- Loose availability makes group places the bottleneck: deciding who gets the last "
        "places is a hard combinatorial problem, and proving that no arrangement serves one "
        "more participant is what takes the time. Mixed group lengths make it harder still, "
        "because minutes no longer add up in equal steps (the LP relaxation is weaker).",
        "",
        "## Target",
        "",
        f"Target: {TARGET}.",
        "",
        f"- Standard instances (seed {seed}): {_target_verdict(rows, 1.0)}",
        *(
            f"- Standard instances, seed {s}: {_target_verdict(_seeded(extra, s), 1.0)}"
            for s in sorted({r.seed for r in extra})
        ),
        *([f"- Mixed-length instances: {_target_verdict(mixed, mixed_share)}"] if mixed else []),
        "",
        *(
            [
                "## Target check on more seeds (standard instances, 200 participants)",
                "",
                *_table(extra),
                "",
            ]
            if extra
            else []
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT seconds (60)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument(
        "--availability", nargs="+", default=["tight", "loose"], choices=["tight", "loose"]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mixed-sizes",
        type=int,
        nargs="*",
        default=[200],
        help="sizes also run with mixed-length groups (default 200; none to skip)",
    )
    parser.add_argument("--mixed-share", type=float, default=0.7, help="3-hour share (0.7)")
    parser.add_argument(
        "--target-seeds",
        type=int,
        nargs="*",
        default=[2, 3, 4],
        help="more seeds for the 200-participant standard instances (target check)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    command = "python bench/planner_bench.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    rows = [
        _run(size, availability, args.time_limit, args.seed, 1.0)
        for size in args.sizes
        for availability in args.availability
    ]
    mixed = [
        _run(size, availability, args.time_limit, args.seed, args.mixed_share)
        for size in args.mixed_sizes
        for availability in args.availability
    ]
    extra = [
        _run(200, availability, args.time_limit, seed, 1.0)
        for seed in args.target_seeds
        for availability in args.availability
    ]
    report = _report(
        rows, mixed, extra, args.mixed_share, args.time_limit, args.seed, command.strip()
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, "utf-8")
    print(f"wrote {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
