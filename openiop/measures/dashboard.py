"""The program outcome dashboard: program metrics and outcome models (clinical.md section 5).

Everything is computed in Python from three bulk reads (episodes, valid scored assessments of
one instrument, attended minutes), so the number of queries does not grow with the data.

* Outcomes use the **end-of-episode score**: the latest valid score of a *discharged* episode
  taken in the END_WINDOW_DAYS before (or on) its discharge date. Active episodes have no end
  yet and are left out, so a participant one week in does not count as a non-responder, and a
  score long before discharge does not stand in for the end.
* Program metrics (response, remission, reliable improvement, reliable recovery,
  deterioration, retention) each come with n and a 95% Wilson interval. Response and remission
  count only episodes whose intake was at or above the instrument's caseness cutoff (its
  positive-screen threshold): someone who starts in the healthy range cannot "remit".
  Retention counts discharged episodes only; an active episode is neither retained nor lost.
* Mean change by track, group, facilitator and dose band is adjusted for intake severity:
  one OLS of change on the comparison's indicators plus the centred intake score, so each
  cell is the mean change expected at the average intake. Intervals are cluster-robust
  (statsmodels, `cov_type="cluster"`, t with G - 1 degrees of freedom). Participants are
  nested in rolling groups whose membership changes weekly, so their outcomes are not
  independent; an interval that ignores that overstates certainty. The cluster is the group
  schedule the episode attended most (by minutes); an episode with no group attendance is its
  own cluster. The dose slope is adjusted for intake the same way.
* Small-cell rule: a mean-change cell with n below MIN_CELL, and a rate whose numerator or
  whose complement (n - numerator) is below MIN_CELL, is shown as "too few to show".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import statsmodels.api as sm

from openiop.groupwork.models import Attendance, AttendanceStatus, SessionKind
from openiop.measures.change import instrument_change, on_clinical_side
from openiop.measures.instruments import Instrument, Rule, get_instrument
from openiop.measures.models import Assessment
from openiop.measures.selectors import local_date
from openiop.participants.models import DischargeReason, Enrollment
from openiop.programs.models import Program

# Instruments the dashboard supports, with their remission threshold (score below it).
REMISSION_BELOW: dict[str, float] = {"phq9": 5, "gad7": 5}
DEFAULT_INSTRUMENT = "phq9"
MIN_CELL = 5  # privacy: cells with fewer episodes are not shown
# The end-of-episode score must fall within this many days before (or on) the discharge date.
END_WINDOW_DAYS = 14
Z95 = 1.959963984540054
NOT_RETAINED = frozenset({DischargeReason.LEFT_AGAINST_ADVICE, DischargeReason.LOST_CONTACT})
IMPROVED = frozenset({"improved", "recovered"})
# Hours-per-week bands for the dose-response chart: (label, lower bound inclusive, upper).
DOSE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("under 6", 0.0, 6.0),
    ("6 to under 9", 6.0, 9.0),
    ("9 to under 12", 9.0, 12.0),
    ("12 or more", 12.0, math.inf),
)


# --------------------------------------------------------------------------- statistics


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for x successes out of n (n > 0)."""
    if n <= 0 or not 0 <= x <= n:
        raise ValueError("need 0 <= x <= n and n > 0")
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Fit:
    """An OLS estimate with its 95% interval; low/high are None when there is none."""

    n: int
    clusters: int
    estimate: float
    low: float | None
    high: float | None


def _interval(result: Any) -> tuple[float | None, float | None]:
    low, high = (float(v) for v in result.conf_int(alpha=0.05)[-1])
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, None
    return low, high


def _codes(clusters: Sequence[object]) -> np.ndarray:
    index: dict[object, int] = {}
    return np.array([index.setdefault(c, len(index)) for c in clusters])


def clustered_fit(x: np.ndarray, y: Sequence[float], clusters: Sequence[object]) -> Fit:
    """OLS of y on design x; the last coefficient with a cluster-robust 95% interval
    (t with G - 1 degrees of freedom). With fewer than two clusters there is no interval."""
    codes = _codes(clusters)
    groups = len(set(codes.tolist()))
    model = sm.OLS(np.asarray(y, dtype=float), x)
    if groups < 2:
        estimate = float(model.fit().params[-1])
        return Fit(n=len(y), clusters=groups, estimate=estimate, low=None, high=None)
    result = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    low, high = _interval(result)
    return Fit(len(y), groups, float(result.params[-1]), low, high)


def clustered_mean(y: Sequence[float], clusters: Sequence[object]) -> Fit:
    return clustered_fit(np.ones((len(y), 1)), y, clusters)


def naive_mean(y: Sequence[float]) -> Fit:
    """The same mean with the ordinary (independent observations) interval, for comparison."""
    result = sm.OLS(np.asarray(y, dtype=float), np.ones((len(y), 1))).fit()
    low, high = _interval(result) if len(y) > 1 else (None, None)
    return Fit(len(y), len(y), float(result.params[0]), low, high)


def clustered_slope(x: Sequence[float], y: Sequence[float], clusters: Sequence[object]) -> Fit:
    design = sm.add_constant(np.asarray(x, dtype=float), has_constant="add")
    return clustered_fit(design, y, clusters)


# --------------------------------------------------------------------------- episodes


@dataclass
class Episode:
    """One enrollment with an intake and (when `post` is set) its end-of-episode score."""

    enrollment_id: int
    participant_id: int
    track: str
    admitted_on: date
    discharge_reason: str
    pre: float
    discharged_on: date | None = None
    post: float | None = None
    post_on: date | None = None
    category: str = ""
    minutes: int = 0
    group_minutes: dict[object, int] = field(default_factory=lambda: defaultdict(int))
    facilitator_minutes: dict[object, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def paired(self) -> bool:
        return self.post is not None

    @property
    def discharged(self) -> bool:
        return self.discharged_on is not None

    def is_end_score(self, day: date) -> bool:
        """Whether a score on `day` can be this episode's end-of-episode score."""
        end = self.discharged_on
        return end is not None and end - timedelta(days=END_WINDOW_DAYS) <= day <= end

    @property
    def change(self) -> float:
        assert self.post is not None
        return self.post - self.pre

    @property
    def weeks(self) -> float:
        """The exposure window, admission to the later administration, at least one week."""
        assert self.post_on is not None
        return max((self.post_on - self.admitted_on).days, 7) / 7

    @property
    def hours_per_week(self) -> float:
        return self.minutes / 60 / self.weeks

    @property
    def group(self) -> object:
        """The group schedule attended most (by minutes); alone, its own cluster."""
        return _most(self.group_minutes) or ("alone", self.enrollment_id)

    @property
    def facilitator(self) -> object:
        return _most(self.facilitator_minutes)


def _most(minutes: dict[object, int]) -> object:
    if not minutes:
        return None
    # Most minutes wins; ties go to the first key in sort order, so results are stable.
    return min(minutes, key=lambda k: (-minutes[k], str(k)))


def load_episodes(*, program: Program, instrument: Instrument) -> tuple[list[Episode], Labels]:
    """Episodes of `program` with an intake on `instrument`: three queries in all."""
    enrollments = {
        row["id"]: row
        for row in Enrollment.objects.filter(program=program).values(
            "id",
            "participant_id",
            "track__name",
            "admitted_on",
            "discharge_reason",
            "discharged_on",
        )
    }
    scored = (
        Assessment.objects.valid()
        .filter(program=program, instrument=instrument.code, total__isnull=False)
        .order_by("administered_at", "id")
        .values_list("enrollment_id", "total", "administered_at")
    )
    episodes: dict[int, Episode] = {}
    for enrollment_id, total, at in scored:
        row = enrollments.get(enrollment_id)
        if row is None or total is None:
            continue
        episode = episodes.get(enrollment_id)
        if episode is None:
            episodes[enrollment_id] = Episode(
                enrollment_id=enrollment_id,
                participant_id=row["participant_id"],
                track=row["track__name"],
                admitted_on=row["admitted_on"],
                discharge_reason=row["discharge_reason"],
                pre=float(total),
                discharged_on=row["discharged_on"],
            )
        elif episode.is_end_score(day := local_date(program, at)):
            episode.post, episode.post_on = float(total), day
    for episode in episodes.values():
        if episode.post is not None:
            episode.category = instrument_change(
                instrument.code, episode.pre, episode.post
            ).category
    labels = _add_attendance(program, [e for e in episodes.values() if e.paired])
    return list(episodes.values()), labels


@dataclass
class Labels:
    groups: dict[object, str] = field(default_factory=dict)
    facilitators: dict[object, str] = field(default_factory=dict)


def _add_attendance(program: Program, episodes: list[Episode]) -> Labels:
    """Attended minutes inside each episode's window (admission to the later administration)."""
    by_participant: dict[int, list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_participant[episode.participant_id].append(episode)
    rows = Attendance.objects.filter(
        program=program,
        participant_id__in=list(by_participant),
        status=AttendanceStatus.PRESENT,
        removed=False,
        minutes__gt=0,
    ).values_list(
        "participant_id",
        "minutes",
        "session__starts_at",
        "session__kind",
        "session__schedule_id",
        "session__schedule__title",
        "session__facilitator_id",
        "session__facilitator__first_name",
        "session__facilitator__last_name",
    )
    labels = Labels()
    for pid, minutes, starts_at, kind, sched_id, sched_title, fac_id, first, last in rows:
        day = local_date(program, starts_at)
        for episode in by_participant[pid]:
            assert episode.post_on is not None
            if not episode.admitted_on <= day <= episode.post_on:
                continue
            episode.minutes += minutes
            if kind == SessionKind.GROUP:
                key: object = sched_id if sched_id is not None else ("unscheduled", fac_id)
                episode.group_minutes[key] += minutes
                episode.facilitator_minutes[fac_id] += minutes
                labels.groups[key] = sched_title or f"Unscheduled groups ({first} {last})"
                labels.facilitators[fac_id] = f"{first} {last}".strip()
    return labels


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    denominator: str
    x: int
    n: int

    @property
    def shown(self) -> bool:
        """Small numerators are suppressed as well as small denominators: "2 of 40" (or "38 of
        40") would let anyone who knows a few of the 40 work out who they are."""
        return self.n >= MIN_CELL and self.x >= MIN_CELL and self.n - self.x >= MIN_CELL

    @property
    def proportion(self) -> float:
        return self.x / self.n if self.n else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.x, self.n)

    @property
    def percent(self) -> float:
        return round(100 * self.proportion, 1)

    @property
    def low_percent(self) -> float:
        return round(100 * self.interval[0], 1)

    @property
    def high_percent(self) -> float:
        return round(100 * self.interval[1], 1)


@dataclass(frozen=True)
class Cell:
    """Mean change (or a slope) for one track, group, facilitator or dose band."""

    label: str
    fit: Fit | None

    @property
    def n(self) -> int:
        return self.fit.n if self.fit else 0

    @property
    def shown(self) -> bool:
        return self.n >= MIN_CELL

    @property
    def has_interval(self) -> bool:
        return self.fit is not None and self.fit.low is not None

    def rounded(self, name: str) -> float | None:
        value = getattr(self.fit, name, None) if self.fit else None
        return None if value is None else round(value, 2)

    @property
    def estimate(self) -> float | None:
        return self.rounded("estimate")

    @property
    def low(self) -> float | None:
        return self.rounded("low")

    @property
    def high(self) -> float | None:
        return self.rounded("high")

    @property
    def clusters(self) -> int:
        return self.fit.clusters if self.fit else 0


def caseness(instrument: Instrument) -> Rule:
    """The instrument's caseness cutoff: its positive-screen threshold (PHQ-9 and GAD-7 >= 10)."""
    screen = instrument.positive_screen
    assert screen is not None and screen.rule is not None, instrument.code
    return screen.rule


def program_rates(
    instrument: Instrument, episodes: Sequence[Episode], remission_below: float
) -> list[Rate]:
    """The six program metrics; each names its denominator."""
    assert instrument.reliable_change is not None
    cutoff = instrument.reliable_change.cutoff
    case = caseness(instrument)
    paired = [e for e in episodes if e.paired]
    cases = [e for e in paired if case.holds(Fraction(e.pre))]
    clinical = [e for e in paired if on_clinical_side(e.pre, cutoff, False)]

    def rate(key: str, label: str, denom: str, pool: Sequence[Episode], hit: Any) -> Rate:
        return Rate(key, label, denom, sum(1 for e in pool if hit(e)), len(pool))

    follow_up = "discharged episodes with an intake and an end-of-episode score"
    at_caseness = f"{follow_up}, intake {case.op} {float(case.value):g} (caseness)"
    return [
        rate(
            "response",
            "Response (end score down by 50% or more)",
            at_caseness,
            cases,
            lambda e: 2 * e.post <= e.pre,
        ),
        rate(
            "remission",
            f"Remission (end score below {remission_below:g})",
            at_caseness,
            cases,
            lambda e: e.post < remission_below,
        ),
        rate(
            "improvement",
            "Reliable improvement",
            follow_up,
            paired,
            lambda e: e.category in IMPROVED,
        ),
        rate(
            "recovery",
            "Reliable recovery",
            f"{follow_up}, intake at or above the cutoff {float(cutoff):g}",
            clinical,
            lambda e: e.category == "recovered",
        ),
        rate(
            "deterioration",
            "Reliable deterioration",
            follow_up,
            paired,
            lambda e: e.category == "deteriorated",
        ),
        rate(
            "retention",
            "Retention (did not leave against advice or lose contact)",
            "discharged episodes with an intake score (active episodes are not counted)",
            [e for e in episodes if e.discharged],
            lambda e: e.discharge_reason not in NOT_RETAINED,
        ),
    ]


def adjusted_means(
    levels: Sequence[object],
    y: Sequence[float],
    intake: Sequence[float],
    clusters: Sequence[object],
) -> dict[object, Fit]:
    """Mean change per level adjusted for intake severity, with cluster-robust intervals.

    One OLS: change ~ one indicator per level (no common intercept) + (intake - mean intake),
    so each level's coefficient is its expected change at the pool's mean intake. A program
    whose morning track admits more severe participants then does not look better merely
    because severe scores have further to fall. A level backed by one cluster has no interval.
    """
    order = list(dict.fromkeys(levels))
    index = {level: i for i, level in enumerate(order)}
    x = np.zeros((len(y), len(order)))
    x[np.arange(len(y)), [index[level] for level in levels]] = 1.0
    centred = np.asarray(intake, dtype=float) - float(np.mean(intake))
    adjusted = np.column_stack([x, centred])
    # Where intake is fixed by the level (constant, or constant within every level) there is
    # nothing to adjust with: the levels' own means are all the data can say.
    if np.linalg.matrix_rank(adjusted) == adjusted.shape[1]:
        x = adjusted
    codes = _codes(clusters)
    model = sm.OLS(np.asarray(y, dtype=float), x)
    robust = len(set(codes.tolist())) >= 2
    result = (
        model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        if robust
        else model.fit()
    )
    bounds = np.asarray(result.conf_int(alpha=0.05))
    fits = {}
    for level, i in index.items():
        mine = [c for c, lv in zip(codes.tolist(), levels, strict=True) if lv == level]
        groups = len(set(mine))
        low, high = (float(v) for v in bounds[i])
        if robust and groups >= 2 and math.isfinite(low) and math.isfinite(high):
            fits[level] = Fit(len(mine), groups, float(result.params[i]), low, high)
        else:
            fits[level] = Fit(len(mine), groups, float(result.params[i]), None, None)
    return fits


def mean_change_by(
    episodes: Sequence[Episode],
    key: Callable[[Episode], object],
    label: Callable[[object], str],
    cluster: Callable[[Episode], object] = lambda e: e.group,
) -> list[Cell]:
    """Intake-adjusted mean change per value of `key`; by default clusters = each episode's
    most-attended group."""
    if not episodes:
        return []
    fits = adjusted_means(
        [key(e) for e in episodes],
        [e.change for e in episodes],
        [e.pre for e in episodes],
        [cluster(e) for e in episodes],
    )
    return sorted((Cell(label(k), fit) for k, fit in fits.items()), key=lambda c: c.label)


def dose_band(episode: Episode) -> str:
    return next(name for name, low, high in DOSE_BANDS if low <= episode.hours_per_week < high)


def dose_cells(episodes: Sequence[Episode]) -> list[Cell]:
    """Intake-adjusted mean change per band of attended hours a week, in band order."""
    fits = {cell.label: cell.fit for cell in mean_change_by(episodes, dose_band, str)}
    return [Cell(name, fits.get(name)) for name, _, _ in DOSE_BANDS]


@dataclass(frozen=True)
class Dashboard:
    instrument: Instrument
    rates: list[Rate]
    overall: Cell
    overall_naive: Cell
    by_track: list[Cell]
    by_group: list[Cell]
    by_facilitator: list[Cell]
    dose: list[Cell]
    slope: Cell
    paired: int
    active: int = 0  # episodes with an intake still open: no end score yet, not counted
    mean_intake: float | None = None  # the intake the adjusted means are estimated at

    def blocks(self) -> list[dict[str, Any]]:
        """The chart-and-table sections of mean change, in page order."""
        charts = self.charts()
        rows = [
            ("track", "By track", "Track", self.by_track, ""),
            (
                "facilitator",
                "By facilitator",
                "Facilitator",
                self.by_facilitator,
                "Episodes are counted under the facilitator of the group sessions they attended"
                " most.",
            ),
            (
                "group",
                "By group",
                "Group",
                self.by_group,
                "Episodes are counted under the group they attended most. Within one group the"
                " group itself is the cluster, so its interval reflects the spread among its own"
                " members (each counted once).",
            ),
        ]
        return [
            {
                "id": f"{key}-data",
                "title": title,
                "what": what,
                "cells": cells,
                "intro": intro,
                "chart": charts[key],
                "caption": f"Mean change by {what.lower()}, 95% interval",
            }
            for key, title, what, cells, intro in rows
        ]

    def charts(self) -> dict[str, dict[str, Any]]:
        code = self.instrument.code.upper()
        change_axis = f"Mean change in {code} (negative = better)"
        return {
            "rates": {
                "type": "bar",
                "labels": [r.label for r in self.rates],
                "datasets": [
                    {
                        "label": "Percent of episodes",
                        "data": [r.percent if r.shown else None for r in self.rates],
                    }
                ],
                "yMin": 0,
                "yMax": 100,
                "yTitle": "Percent",
                "horizontal": False,
            },
            "track": _change_chart(self.by_track, change_axis),
            "facilitator": _change_chart(self.by_facilitator, change_axis),
            "group": _change_chart(self.by_group, change_axis),
            "dose": {
                **_change_chart(self.dose, change_axis),
                "xTitle": "Attended hours per week",
            },
        }


def _change_chart(cells: Sequence[Cell], axis: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": [c.label for c in cells],
        "datasets": [
            {"label": "Mean change", "data": [c.estimate if c.shown else None for c in cells]}
        ],
        "yTitle": axis,
    }


def outcome_dashboard(*, program: Program, instrument: str) -> Dashboard:
    inst = get_instrument(instrument)
    episodes, labels = load_episodes(program=program, instrument=inst)
    paired = [e for e in episodes if e.paired]
    changes = [e.change for e in paired]

    def fit_or_none(fit: Callable[[], Fit]) -> Fit | None:
        return fit() if paired else None

    with_facilitator = [e for e in paired if e.facilitator is not None]
    return Dashboard(
        active=sum(1 for e in episodes if not e.discharged),
        mean_intake=round(float(np.mean([e.pre for e in paired])), 1) if paired else None,
        instrument=inst,
        rates=program_rates(inst, episodes, REMISSION_BELOW[inst.code]),
        overall=Cell(
            "Cluster-robust (used on this page)",
            fit_or_none(lambda: clustered_mean(changes, [e.group for e in paired])),
        ),
        overall_naive=Cell(
            "Naive, treating participants as independent (for comparison only)",
            fit_or_none(lambda: naive_mean(changes)),
        ),
        by_track=mean_change_by(paired, lambda e: e.track, str),
        # Within one group the group itself is the cluster, so each member counts once.
        by_group=mean_change_by(
            paired,
            _group_key,
            lambda k: _group_label(k, labels),
            cluster=lambda e: e.enrollment_id,
        ),
        by_facilitator=mean_change_by(
            with_facilitator, lambda e: e.facilitator, lambda k: labels.facilitators[k]
        ),
        dose=dose_cells(paired),
        slope=Cell("Slope: change per extra attended hour a week", _dose_slope(paired)),
        paired=len(paired),
    )


def _dose_slope(paired: Sequence[Episode]) -> Fit | None:
    """Change per extra attended hour a week, adjusted for intake (the last coefficient of
    change ~ 1 + intake + hours)."""
    hours = [e.hours_per_week for e in paired]
    if len(set(hours)) < 2:  # no spread in dose: no slope to estimate
        return None
    intake = [e.pre for e in paired]
    design = np.column_stack([np.ones(len(paired)), intake, hours])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return None  # dose moves in lockstep with intake: its own effect cannot be separated
    return clustered_fit(design, [e.change for e in paired], [e.group for e in paired])


def _group_key(episode: Episode) -> object:
    group = episode.group
    return "alone" if isinstance(group, tuple) and group[0] == "alone" else group


def _group_label(key: object, labels: Labels) -> str:
    return labels.groups.get(key, "No group attendance")
