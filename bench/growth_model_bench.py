"""Benchmark of the expected-recovery growth model (openiop.measures.outcomes) at scale.

Simulates one program of 5,000 participants x 12 weekly PHQ-9 scores (week 0 = intake) with
the course mix of bench/outcomes_validation.py (responders, slow responders, non-responders,
deteriorators; fixed seed), then times, on that in-memory frame, exactly what the app runs
for a program:

1. the fit: `expectation_for` (thin-history check, then `fit_expected_recovery`: MixedLM,
   REML, random intercept and slope on log(week + 1));
2. prediction bands: each participant's expected-recovery corridor at weeks 1-11
   (`Expectation.corridor`, as the trajectory chart draws it);
3. not-on-track flags for all participants (`judge_latest`, as the session runner and the
   chart header call it through `not_on_track_ids`).

    .venv/bin/python bench/growth_model_bench.py            # 3 runs, writes the report
    .venv/bin/python bench/growth_model_bench.py --runs 1 --participants 1000
    .venv/bin/python bench/growth_model_bench.py --output /tmp/report.md
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openiop_bench_load \
        .venv/bin/python bench/growth_model_bench.py --runs 1 --page

4. with --page, in the database DATABASE_URL names (bench/load.py sets one up: 5,000
   participants x 12 weekly PHQ-9 in Riverside Adult IOP): the measures page's time with a
   *stale* stored fit, in-process through Django's test client. The page must not fit (the
   fit function is replaced by one that counts calls) and must queue exactly one refit; the
   refit is then run (as the worker would) and the page timed again.

Single process, one fit at a time (the machine it is meant for has 2 cores).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from openiop.core.clock import utc_today

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")

import django  # noqa: E402

django.setup()

from openiop.measures.outcomes import (  # noqa: E402
    DEFAULT_REQUIRED_IMPROVEMENT,
    ExpectedRecovery,
    expectation_for,
    judge_latest,
    signal_for,
)
from openiop.measures.simulation import MIXES, SCALES, simulate_program  # noqa: E402

DEFAULT_OUTPUT = REPO / "docs" / "benchmarks-growth-model.md"
TARGET_SECONDS = 60.0
HEARTBEAT_SECONDS = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    fit: float
    bands: float
    flags: float
    model: ExpectedRecovery
    flagged: int


@contextmanager
def heartbeat(label: str) -> Iterator[None]:
    """Print a line every HEARTBEAT_SECONDS while a long step runs (MixedLM has no callback)."""
    done = threading.Event()
    started = time.perf_counter()

    def beat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            print(f"    ... {label}: {time.perf_counter() - started:.0f} s", flush=True)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def timed(label: str, step: Callable[[], T]) -> tuple[T, float]:
    with heartbeat(label):
        started = time.perf_counter()
        result = step()
        return result, time.perf_counter() - started


def simulate(args: argparse.Namespace) -> pd.DataFrame:
    frame, _ = simulate_program(
        SCALES["phq9"],
        dict(MIXES)["30% positive (the demo's mix)"],
        args.seed,
        participants=args.participants,
        weeks=args.weeks,
        missing_rate=args.missing,
    )
    # One episode per person, as episodes_frame() gives the app: `person` = `participant`.
    return frame.assign(person=frame["participant"])


def all_corridors(model: ExpectedRecovery, frame: pd.DataFrame, weeks: int) -> int:
    intakes = frame.groupby("participant", sort=False)["intake"].first()
    span = [float(w) for w in range(1, weeks)]
    points = 0
    for intake in intakes:
        points += len(model.corridor(intake=float(intake), weeks=span))
    return points


def one_run(number: int, frame: pd.DataFrame, args: argparse.Namespace) -> Run:
    print(f"run {number}: fitting on {len(frame):,} rows ...", flush=True)
    model, fit_s = timed("fitting", lambda: expectation_for(frame, instrument="phq9"))
    if not isinstance(model, ExpectedRecovery):
        raise SystemExit(f"expected the mixed model, got {model.method}")
    notes = f", notes: {'; '.join(model.notes)}" if model.notes else ""
    print(
        f"run {number}: fitted in {fit_s:.1f} s (random slope {model.random_slope}, "
        f"converged {model.converged}{notes})",
        flush=True,
    )
    points, bands_s = timed("bands", lambda: all_corridors(model, frame, args.weeks))
    print(f"run {number}: {points:,} corridor points in {bands_s:.2f} s", flush=True)
    ids = set(frame["person"].unique().tolist())
    flags, flags_s = timed(
        "flags",
        lambda: judge_latest(
            frame, ids, model, "PHQ-9", signal_for("phq9", args.required_improvement)
        ),
    )
    print(f"run {number}: {len(flags):,} of {len(ids):,} flagged in {flags_s:.2f} s", flush=True)
    return Run(fit=fit_s, bands=bands_s, flags=flags_s, model=model, flagged=len(flags))


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("statsmodels", "numpy", "scipy", "pandas")
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cores} cores (`nproc`), {platform.processor() or platform.machine()}, "
        f"Linux {platform.release()}, Python {platform.python_version()}, {versions}; "
        f"load average at start {load}"
    )


def _stats(values: list[float]) -> str:
    return (
        f"{statistics.median(values):.2f} s | {min(values):.2f} s | {max(values):.2f} s | "
        + ", ".join(f"{v:.2f}" for v in values)
    )


def render(args: argparse.Namespace, rows: int, runs: list[Run], notes: str) -> str:
    m = runs[-1].model
    fits = [r.fit for r in runs]
    verdict = "met" if max(fits) < TARGET_SECONDS else "NOT met"
    sd = np.sqrt(np.diag(m.cov_re))
    command = " ".join(["bench/growth_model_bench.py", *sys.argv[1:]])
    lines = [
        f"# Growth model benchmark: {args.participants:,} participants x {args.weeks} weeks\n",
        f"- Date: {utc_today().isoformat()} (UTC)",
        f"- Machine: {notes}",
        f"- Command: `.venv/bin/python {command}`",
        f"- Data: {args.participants:,} participants x {args.weeks} weekly PHQ-9 administrations "
        f"(seed {args.seed}, missing rate {args.missing:.0%}): {rows:,} rows, "
        f"{m.n_observations:,} of them after intake (the rows the model is fitted on). Courses "
        "as in [outcomes-validation.md](outcomes-validation.md): 40 % responders, 30 % slow, "
        "20 % non-responders, 10 % deteriorators; noise N(0, 2.5); a day early or late.",
        f"- Code path: `expectation_for` -> `fit_expected_recovery` (statsmodels MixedLM, REML, "
        f"random intercept and slope), `ExpectedRecovery.corridor` at weeks 1-{args.weeks - 1} "
        f"per participant, `judge_latest` for everyone at a required improvement of "
        f"{args.required_improvement:.0%}.",
        f"- Target: fit under {TARGET_SECONDS:.0f} s: **{verdict}**.\n",
        "| step | median | min | max | runs |",
        "|---|---|---|---|---|",
        f"| fit | {_stats(fits)} |",
        f"| prediction bands ({args.participants:,} x {args.weeks - 1} weeks) | "
        f"{_stats([r.bands for r in runs])} |",
        f"| not-on-track flags ({args.participants:,}) | {_stats([r.flags for r in runs])} |\n",
        f"Fitted (last run): b = {', '.join(f'{b:.3f}' for b in m.fe)}; random-effect SDs "
        f"{', '.join(f'{v:.2f}' for v in sd)}; residual SD {np.sqrt(m.scale):.2f}; random slope "
        f"{m.random_slope}; converged {m.converged}; flagged {runs[-1].flagged:,}.\n",
    ]
    return "\n".join(lines)


def page_step() -> str:
    """Measures page at the database's size with a stale fit: no fit in the request."""
    from django.test.utils import override_settings
    from django_tasks_db.models import DBTaskResult

    from openiop.accounts.models import User
    from openiop.bulkworld import bulk_admit
    from openiop.core import clock
    from openiop.measures import outcomes
    from openiop.measures.actions import growth_refit_run
    from openiop.measures.models import Assessment
    from openiop.participants.models import Participant
    from openiop.programs.models import Program
    from openiop.testing import verified_client

    program = Program.objects.get(name="Riverside Adult IOP")
    people = Participant.objects.filter(program=program).count()
    scores = Assessment.objects.filter(program=program, instrument="phq9").count()
    fit, fit_s = timed(
        "fitting (as the worker)",
        lambda: growth_refit_run(program_id=program.pk, instrument="phq9"),
    )
    assert fit is not None
    person = Participant.objects.filter(program=program, assessments__isnull=False).first()
    assert person is not None
    staff = User.objects.get(username="casey.clinician")
    bulk_admit(  # one more scored participant: the stored fit is stale from here on
        program=program,
        track=person.enrollments.get(discharged_on__isnull=True).track,
        clinician=staff,
        count=1,
        start=800000 + int(time.time()) % 100000,
        admitted_on=clock.program_today(program),
        phq9_weekly=1,
        first_at=clock.now(),
    )
    DBTaskResult.objects.filter(task_path__endswith="growth_refit").delete()
    type(fit).objects.filter(pk=fit.pk).update(refit_queued_at=None)
    calls: list[int] = []
    real = outcomes.expectation_for

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    outcomes.expectation_for = counting  # type: ignore[assignment]
    client = verified_client(staff)
    path = f"/p/{program.external_id}/participants/{person.external_id}/measures/"
    stale: list[float] = []
    fresh: list[float] = []
    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
        for _ in range(10):
            started = time.perf_counter()
            response = client.get(path, secure=True)
            stale.append(time.perf_counter() - started)
            assert response.status_code == 200
        in_request = len(calls)
        queued = DBTaskResult.objects.filter(task_path__endswith="growth_refit").count()
        said = "fitted" if b"Newer scores since; a refit is queued." in response.content else "?"
        outcomes.expectation_for = real
        _, refit_s = timed(
            "refitting (as the worker)",
            lambda: growth_refit_run(program_id=program.pk, instrument="phq9"),
        )
        for _ in range(10):
            started = time.perf_counter()
            client.get(path, secure=True)
            fresh.append(time.perf_counter() - started)
    ms = [1000 * v for v in stale]
    ms2 = [1000 * v for v in fresh]
    return "\n".join(
        [
            f"## The page with a stale fit ({people:,} participants, {scores:,} PHQ-9 scores)\n",
            "Measured in-process (Django test client, PostgreSQL, a verified clinician session), "
            "10 views each; the fit function counted its calls during the stale views.\n",
            "| measures page | median | max | fits in the request | refits queued |",
            "|---|---|---|---|---|",
            f"| stale fit (before the worker's refit) | {statistics.median(ms):.0f} ms | "
            f"{max(ms):.0f} ms | {in_request} | {queued} ({said}: page says a refit is queued) |",
            f"| current fit (after it) | {statistics.median(ms2):.0f} ms | {max(ms2):.0f} ms | "
            "0 | 0 |\n",
            f"The refit, run in the benchmark process as the worker runs it: {refit_s:.1f} s, the "
            "time a page used to wait once per change (the first fit, if the database had "
            f"none current: {fit_s:.1f} s).\n",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--missing", type=float, default=0.0, help="share of weeks missed")
    parser.add_argument("--required-improvement", type=float, default=DEFAULT_REQUIRED_IMPROVEMENT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--page", action="store_true", help="also time the page with a stale fit (DATABASE_URL)"
    )
    args = parser.parse_args(argv)

    notes = machine()
    print(f"machine: {notes}", flush=True)
    frame = simulate(args)
    print(f"simulated {args.participants:,} participants: {len(frame):,} rows", flush=True)
    runs = [one_run(n, frame, args) for n in range(1, args.runs + 1)]
    report = render(args, len(frame), runs, notes)
    if args.page:
        page = page_step()
        print(page, flush=True)
        report += "\n" + page
    args.output.write_text(report)
    fits = [r.fit for r in runs]
    print(
        f"fit median {statistics.median(fits):.1f} s (min {min(fits):.1f}, max {max(fits):.1f}); "
        f"wrote {args.output}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
