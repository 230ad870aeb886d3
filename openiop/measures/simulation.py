"""Simulated programs for validating the not-on-track flag (issue 16; bench/outcomes_validation.py,
bench/not_on_track_signals.py and the suite's check of the default).

Each participant follows one of four courses: responders (an exponential drop to 20–50 % of
intake, time constant 1.5–3 weeks), slow responders (to 45–70 %, 4–8 weeks), non-responders
(flat, a small drift either way) and deteriorators (a steady rise). Every administration, the
intake included, carries the instrument's measurement error SE = threshold / (1.96 * sqrt 2)
from its published reliable-change threshold (outcomes.measurement_error); scores are rounded
and clipped to the scale; 10 % of weekly administrations are missing and the rest come up to a
day early or late. Mixes vary the share of each course. The truth the flag should find:
non-responders and deteriorators are positives; responders and slow responders negatives.

These are assumptions (docs/outcomes-validation.md, Limitations), not clinical data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from openiop.measures import outcomes

COURSES = ("responder", "slow", "non_responder", "deteriorator")
POSITIVE = frozenset({"non_responder", "deteriorator"})
MISSING_RATE = 0.10

# (label, shares of responder, slow, non-responder, deteriorator): 15, 30 and 45 % positives,
# with more or fewer slow responders (the negatives most like a non-responder).
MIXES: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("15% positive, mostly responders", (0.55, 0.30, 0.10, 0.05)),
    ("15% positive, many slow", (0.35, 0.50, 0.10, 0.05)),
    ("30% positive (the demo's mix)", (0.40, 0.30, 0.20, 0.10)),
    ("30% positive, many slow", (0.25, 0.45, 0.20, 0.10)),
    ("45% positive, mostly responders", (0.35, 0.20, 0.30, 0.15)),
    ("45% positive, many slow", (0.20, 0.35, 0.30, 0.15)),
    ("45% positive, nearly all non-responders", (0.30, 0.25, 0.40, 0.05)),
)


@dataclass(frozen=True)
class Scale:
    """What the simulation needs of an instrument (all three: lower is better)."""

    code: str
    best: float
    worst: float
    threshold: float  # published reliable-change threshold
    intake_mean: float
    intake_sd: float
    intake_low: float  # intake clipped to [intake_low, worst]: people admitted with symptoms

    @property
    def se(self) -> float:
        return outcomes.measurement_error(self.threshold)

    @property
    def points_per_phq9_point(self) -> float:
        """Additive courses (drift, deterioration) scaled to the range relative to the PHQ-9."""
        return (self.worst - self.best) / 27.0


SCALES = {
    "phq9": Scale("phq9", 0, 27, 6, 17.0, 3.5, 10),
    "gad7": Scale("gad7", 0, 21, 4, 14.0, 3.0, 8),
    "core10": Scale("core10", 0, 40, 6, 22.0, 5.0, 11),
}


def simulate_program(
    scale: Scale,
    shares: tuple[float, ...],
    seed: int,
    *,
    participants: int = 300,
    weeks: int = 12,
    missing_rate: float = MISSING_RATE,
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Rows (participant, week, score, intake) with week 0 the (noisy) intake, time order
    within each participant; and each participant's course."""
    rng = np.random.default_rng(seed)
    p = np.asarray(shares, dtype=float)
    course_of = rng.choice(len(COURSES), size=participants, p=p / p.sum())
    true_intake = np.clip(
        rng.normal(scale.intake_mean, scale.intake_sd, participants),
        scale.intake_low,
        scale.worst,
    )
    w = np.arange(weeks, dtype=float)
    rows = []
    courses: dict[int, str] = {}
    for pid in range(participants):
        course = COURSES[int(course_of[pid])]
        courses[pid] = course
        mean = _course_mean(course, float(true_intake[pid]), w, scale, rng)
        noisy = mean + rng.normal(0, scale.se, weeks)
        scores = np.clip(np.round(noisy), scale.best, scale.worst)
        intake = float(scores[0])
        for k in range(weeks):
            if k > 0 and rng.random() < missing_rate:
                continue
            jitter = rng.integers(-1, 2) / 7 if k > 0 else 0.0  # a day early or late
            rows.append((pid, k + jitter, float(scores[k]), intake))
    frame = pd.DataFrame(rows, columns=["participant", "week", "score", "intake"])
    return frame, courses


def _course_mean(
    course: str, intake: float, w: np.ndarray, scale: Scale, rng: np.random.Generator
) -> np.ndarray:
    if course == "responder":
        floor, tau = rng.uniform(0.2, 0.5), rng.uniform(1.5, 3.0)
        return np.asarray(intake * (floor + (1 - floor) * np.exp(-w / tau)))
    if course == "slow":
        floor, tau = rng.uniform(0.45, 0.7), rng.uniform(4.0, 8.0)
        return np.asarray(intake * (floor + (1 - floor) * np.exp(-w / tau)))
    if course == "deteriorator":
        return np.asarray(intake + rng.uniform(0.6, 1.5) * scale.points_per_phq9_point * w)
    return np.asarray(intake + rng.normal(0.0, 0.15) * scale.points_per_phq9_point * w)


def up_to_week(frame: pd.DataFrame, week: int) -> pd.DataFrame:
    """Each participant's rows as they stood at `week` (rounded week <= week): what the team
    would have seen then."""
    return frame[frame["week"].round() <= week]
