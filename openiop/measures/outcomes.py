"""Expected recovery curves and not-on-track alerts (clinical.md section 5).

Lambert-style feedback: a program's own history defines how participants with a given intake
score usually move week by week; a participant whose latest score is worse than the upper edge
of that band is flagged **not on track** so the team looks at them first.

Model (one instrument at a time, PHQ-9 by default), fitted with statsmodels MixedLM:

    score_ij = b0 + b1*L_ij + b2*intake_i + b3*L_ij*intake_i + u0_i + u1_i*L_ij + e_ij
    L_ij = log(week_ij + 1),  (u0_i, u1_i) ~ N(0, G),  e_ij ~ N(0, sigma^2)

with week = weeks (days / 7, fractional) since the episode's first valid administration of the
instrument (the intake). The intake row itself is not a response row: its score *is* the intake
covariate, so including it would add observations with zero residual and shrink sigma^2.

Prediction band for a *new* participant with intake s at week w (their random effects unknown):

    x = [1, L, s, L*s],  z = [1, L],  L = log(w + 1)
    mean   = x' b
    var    = x' V_b x      (uncertainty of the fixed effects: V_b = their covariance matrix)
           + z' G z        (between-participant spread of intercepts and slopes at that week)
           + sigma^2       (within-participant, week-to-week noise)
    edge   = mean + z_p * sqrt(var)   for a score where higher is worse (PHQ-9)
           = mean - z_p * sqrt(var)   where higher is better

z_p is the standard normal quantile of the configured percentile (default 90th: z = 1.2816), so
about 10 % of participants who follow the program's usual course land above the edge in any one
week by chance. These percentiles are derived locally from the program's own data; Lambert's
published OQ-45 band percentiles are proprietary and not used (see docs/outcomes-validation.md).

With thin history (fewer than MIN_PARTICIPANTS episodes with a post-intake score or fewer than
MIN_ASSESSMENTS post-intake scores) the mixed model is not fitted and a documented rule is used
instead (`RuleBasedExpectation`); its flags say "rule-based: thin history".

A score at the instrument's best possible value (the floor, 0 on the PHQ-9; the ceiling where
higher is better) is never not on track, by either method: it cannot be better, so "no better than
intake" (intake 0, now 0) says nothing about the course of treatment.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.stats import norm

from openiop.measures.instruments import all_instruments, get_instrument, is_enabled

DEFAULT_INSTRUMENT = "phq9"
# The instruments with expected-recovery corridors and not-on-track flags: those with published
# reliable-change data in clinical.md section 3 that a program gives repeatedly in treatment.
TRACKED_INSTRUMENTS = ("phq9", "gad7", "core10")
DEFAULT_PERCENTILE = 90.0
MIN_PARTICIPANTS = 20
MIN_ASSESSMENTS = 100
SECONDS_PER_WEEK = 7 * 24 * 3600

# Fallback rule (thin history). Published IOP/outpatient courses show most of the PHQ-9 drop in
# the first 4 weeks (clinical.md section 5; seeding.py models the same shape), so:
RULE_NO_CHANGE_WEEK = 3  # from week 3, a score at or above intake is not on track
RULE_IMPROVEMENT_WEEK = 4  # from week 4, less than RULE_MIN_IMPROVEMENT of the intake gone ...
RULE_MIN_IMPROVEMENT = 0.20  # ... is not on track
# At any week, a reliable deterioration (the instrument's published reliable-change threshold,
# 6 points for PHQ-9) is not on track.

FE_NAMES = ("Intercept", "np.log1p(week)", "intake", "np.log1p(week):intake")
FORMULA = "score ~ np.log1p(week) * intake"


@dataclass(frozen=True)
class Verdict:
    """How one observed score compares with its expectation."""

    week: float
    score: float
    intake: float
    expected: float
    edge: float  # the worse edge of the band (or the rule's limit)
    not_on_track: bool
    method: str  # "model" | "rule-based: <why>"
    reason: str = ""

    def flag_text(self, instrument_name: str) -> str:
        week = round(self.week)
        if self.method == "model":
            # The edge is the worst score still on track: round it toward "better".
            if self.edge < self.expected:
                limit = f"≥ {math.ceil(self.edge)}"
            else:
                limit = f"≤ {math.floor(self.edge)}"
            return f"{instrument_name} not on track (week {week}: {self.score:g}, expected {limit})"
        return (
            f"{instrument_name} not on track ({self.method}; week {week}: "
            f"{self.score:g}, {self.reason})"
        )


@dataclass(frozen=True)
class CorridorPoint:
    """The expected-recovery corridor at one week: where a participant with this intake who
    follows the program's usual course is expected to score. `lower`/`upper` are the band's
    edges in score units (None where the rule defines no edge on that side)."""

    week: float
    lower: float | None
    expected: float
    upper: float | None


class Expectation(Protocol):
    @property
    def method(self) -> str: ...

    def judge(
        self, *, intake: float, week: float, score: float, percentile: float = ...
    ) -> Verdict: ...

    def corridor(
        self, *, intake: float, weeks: Sequence[float], percentile: float = ...
    ) -> list[CorridorPoint]: ...


# --------------------------------------------------------------------------- the mixed model


@dataclass(frozen=True)
class ExpectedRecovery:
    """A fitted expected-recovery model, reduced to plain arrays (cheap to cache)."""

    fe: np.ndarray  # b0..b3 in FE_NAMES order
    cov_fe: np.ndarray  # 4 x 4 covariance of the fixed effects
    cov_re: np.ndarray  # 2 x 2 (random slope) or 1 x 1 (random intercept only)
    scale: float  # residual variance sigma^2
    random_slope: bool
    higher_is_better: bool
    n_participants: int
    n_observations: int
    converged: bool
    notes: tuple[str, ...] = field(default=())
    method: str = "model"
    best: float | None = None  # the instrument's best possible score: never flagged

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(FE_NAMES, (float(v) for v in self.fe), strict=True))

    def moments(self, intake: float, weeks: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and SD at each of `weeks` for a new participant with this intake
        (the variance terms of the module docstring), vectorised over weeks."""
        lw = np.log1p(np.maximum(np.asarray(weeks, dtype=float), 0.0))
        x = np.column_stack([np.ones_like(lw), lw, np.full_like(lw, intake), lw * intake])
        z = np.column_stack([np.ones_like(lw), lw]) if self.random_slope else x[:, :1]
        var = (
            np.einsum("ij,jk,ik->i", x, self.cov_fe, x)
            + np.einsum("ij,jk,ik->i", z, self.cov_re, z)
            + self.scale
        )
        return x @ self.fe, np.sqrt(np.maximum(var, 0.0))

    def expected(self, intake: float, week: float) -> float:
        return float(self.moments(intake, [week])[0][0])

    def predictive_sd(self, intake: float, week: float) -> float:
        return float(self.moments(intake, [week])[1][0])

    def band(
        self, intake: float, week: float, percentile: float = DEFAULT_PERCENTILE
    ) -> tuple[float, float]:
        """(expected, worse edge) at `percentile` of the predictive distribution."""
        means, sds = self.moments(intake, [week])
        mean, sd = float(means[0]), float(sds[0])
        zp = float(norm.ppf(percentile / 100.0))
        return mean, (mean - zp * sd) if self.higher_is_better else (mean + zp * sd)

    def judge(
        self, *, intake: float, week: float, score: float, percentile: float = DEFAULT_PERCENTILE
    ) -> Verdict:
        mean, edge = self.band(intake, week, percentile)
        worse = score < edge if self.higher_is_better else score > edge
        flagged = worse and week > 0 and not at_best(score, self.best, self.higher_is_better)
        return Verdict(week, score, intake, mean, edge, flagged, "model")

    def corridor(
        self, *, intake: float, weeks: Sequence[float], percentile: float = DEFAULT_PERCENTILE
    ) -> list[CorridorPoint]:
        """The two-sided band whose worse edge is the one `judge` flags against: at the 90th
        percentile, from the 10th to the 90th percentile of the predictive distribution."""
        mean, sd = self.moments(intake, weeks)
        half = float(norm.ppf(percentile / 100.0)) * sd
        return [
            CorridorPoint(float(w), float(m - h), float(m), float(m + h))
            for w, m, h in zip(weeks, mean, half, strict=True)
        ]


def _fit(data: pd.DataFrame, re_formula: str | None) -> Any:
    import statsmodels.formula.api as smf

    model = smf.mixedlm(FORMULA, data, groups=data["participant"], re_formula=re_formula)
    return model.fit(reml=True)


def fit_expected_recovery(df: pd.DataFrame, *, higher_is_better: bool = False) -> ExpectedRecovery:
    """Fit the growth model on post-intake rows of `df` (columns participant, week, score,
    intake; week > 0). Random intercept and slope on log(week + 1); if that fit does not
    converge (ConvergenceWarning, singular matrix), a random intercept only."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    data = df.loc[df["week"] > 0, ["participant", "week", "score", "intake"]].copy()
    data = data.astype({"week": float, "score": float, "intake": float})
    notes: list[str] = []
    result = None
    random_slope = True
    for re_formula in ("~np.log1p(week)", "1"):
        random_slope = re_formula != "1"
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            try:
                result = _fit(data, re_formula)
            except (ConvergenceWarning, np.linalg.LinAlgError, ValueError) as exc:
                notes.append(f"{re_formula}: {type(exc).__name__}: {exc}".strip())
                result = None
                continue
        if result.converged:
            break
        notes.append(f"{re_formula}: did not converge")
        result = None
    if result is None:  # last resort: keep the random-intercept fit even with its warning
        random_slope = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = _fit(data, "1")  # may raise: expectation_for() then uses the rule
    k_fe = len(FE_NAMES)
    fe = np.array([float(result.fe_params[name]) for name in FE_NAMES])
    cov_all = np.asarray(result.cov_params())
    k_re = 2 if random_slope else 1
    return ExpectedRecovery(
        fe=fe,
        cov_fe=np.array(cov_all[:k_fe, :k_fe], dtype=float),
        cov_re=np.array(np.asarray(result.cov_re)[:k_re, :k_re], dtype=float),
        scale=float(result.scale),
        random_slope=random_slope,
        higher_is_better=higher_is_better,
        n_participants=int(data["participant"].nunique()),
        n_observations=len(data),
        converged=bool(result.converged),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- the fallback rule


@dataclass(frozen=True)
class RuleBasedExpectation:
    """Thin-history rule (documented in the module docstring and docs/outcomes-validation.md).

    Not on track when, for a score where higher is worse:
      * score - intake >= the instrument's reliable-change threshold (reliable deterioration), or
      * week >= 3 and score >= intake (no improvement at all), or
      * week >= 4 and score > (1 - 20 %) * intake (less than 20 % improvement),
    unless the score is at the instrument's best possible value (`best`: the floor, 0 on the
    PHQ-9), which cannot improve: intake 0 and still 0 is not "no better than intake".
    The "expected" curve reported is the 20 %-by-week-4 line (linear in between).
    """

    threshold: float = 6.0
    higher_is_better: bool = False
    why: str = "thin history"
    method: str = "rule"
    best: float | None = None

    def expected(self, intake: float, week: float) -> float:
        drop = RULE_MIN_IMPROVEMENT * min(max(week, 0.0), RULE_IMPROVEMENT_WEEK) / 4
        return intake * (1 + drop) if self.higher_is_better else intake * (1 - drop)

    def judge(
        self, *, intake: float, week: float, score: float, percentile: float = DEFAULT_PERCENTILE
    ) -> Verdict:
        sign = -1.0 if self.higher_is_better else 1.0
        worsening = sign * (score - intake)  # > 0: worse than intake
        reason = ""
        # The edge reported is the one that binds at this week (`limit`), flagged or not.
        edge = self.limit(intake, week)
        if edge is None:
            edge = intake + sign * self.threshold
        if week <= 0 or at_best(score, self.best, self.higher_is_better):
            pass
        elif worsening >= self.threshold:
            reason = f"reliable deterioration from intake {intake:g}"
        # Rounded: 20 % of an integer intake is inexact in binary (0.2 * 15 > 3), which would
        # flag a drop of exactly 20 % as "less than 20 %".
        elif (
            week >= RULE_IMPROVEMENT_WEEK
            and round(worsening + RULE_MIN_IMPROVEMENT * intake, 9) > 0
        ):
            reason = f"less than 20% better than intake {intake:g}"
        elif week >= RULE_NO_CHANGE_WEEK and worsening >= 0:
            reason = f"no better than intake {intake:g}"
        expected = self.expected(intake, week)
        return Verdict(
            week, score, intake, expected, edge, bool(reason), f"rule-based: {self.why}", reason
        )

    def limit(self, intake: float, week: float) -> float | None:
        """The edge `judge` flags against at `week` (None at intake). Through week 3 a score
        *at* the limit is already flagged (the rule's >=); from week 4 only one beyond it."""
        if week <= 0:
            return None
        sign = -1.0 if self.higher_is_better else 1.0
        if week >= RULE_IMPROVEMENT_WEEK:
            return intake * (1 - sign * RULE_MIN_IMPROVEMENT)
        if week >= RULE_NO_CHANGE_WEEK:
            return intake
        return intake + sign * self.threshold

    def corridor(
        self, *, intake: float, weeks: Sequence[float], percentile: float = DEFAULT_PERCENTILE
    ) -> list[CorridorPoint]:
        """One-sided: the rule has a limit on the worse side only, no lower edge."""
        points = []
        for week in weeks:
            limit = self.limit(intake, week)
            worse_up = not self.higher_is_better
            points.append(
                CorridorPoint(
                    week=float(week),
                    lower=None if worse_up else limit,
                    expected=self.expected(intake, week),
                    upper=limit if worse_up else None,
                )
            )
        return points


def at_best(score: float, best: float | None, higher_is_better: bool) -> bool:
    """Whether `score` is at (or beyond) the instrument's best possible value."""
    if best is None:
        return False
    return score >= best if higher_is_better else score <= best


def rule_for(instrument: str) -> RuleBasedExpectation:
    inst = get_instrument(instrument)
    rc = inst.reliable_change
    higher_is_better = bool(inst.higher_is_better)
    best = inst.scoring.max if higher_is_better else inst.scoring.min
    return RuleBasedExpectation(
        threshold=float(rc.threshold) if rc else 6.0,
        higher_is_better=higher_is_better,
        best=None if best is None else float(best),
    )


def tracked_instruments() -> list[str]:
    """The tracked instruments this deployment may use (CORE-10 is off where its
    non-commercial licence is switched off)."""
    enabled = {inst.code for inst in all_instruments() if is_enabled(inst)}
    return [code for code in TRACKED_INSTRUMENTS if code in enabled]


def history_is_thin(df: pd.DataFrame) -> bool:
    post = df[df["week"] > 0]
    return post["participant"].nunique() < MIN_PARTICIPANTS or len(post) < MIN_ASSESSMENTS


def expectation_for(df: pd.DataFrame, *, instrument: str = DEFAULT_INSTRUMENT) -> Expectation:
    """The mixed model when the history is rich enough, else the documented rule."""
    rule = rule_for(instrument)
    if history_is_thin(df):
        return rule
    try:
        fitted = fit_expected_recovery(df, higher_is_better=rule.higher_is_better)
        return replace(fitted, best=rule.best)
    except (np.linalg.LinAlgError, ValueError):
        # Neither random-effects structure could be fitted: say so rather than guess.
        return replace(rule, why="model could not be fitted")


# --------------------------------------------------------------------------- episodes

Row = tuple[int, int, Any, Any]  # enrollment id, participant id, administered_at, total


def episodes_frame(rows: list[Row]) -> pd.DataFrame:
    """Rows ordered by time -> one row per administration with participant (the episode),
    person, week since the episode's intake, score and intake score."""
    first: dict[int, tuple[Any, float]] = {}
    records = []
    for enrollment_id, participant_id, at, total in rows:
        score = float(total)
        if enrollment_id not in first:
            first[enrollment_id] = (at, score)
        t0, intake = first[enrollment_id]
        week = (at - t0).total_seconds() / SECONDS_PER_WEEK
        records.append((enrollment_id, participant_id, week, score, intake))
    return pd.DataFrame(
        records, columns=["participant", "person", "week", "score", "intake"]
    ).astype({"week": float, "score": float, "intake": float})


# --------------------------------------------------------------------------- stored fits


def expectation_params(expectation: Expectation) -> dict[str, Any]:
    """A fitted model as plain JSON (GrowthFit.params); {} for the rule."""
    if not isinstance(expectation, ExpectedRecovery):
        return {}
    return {
        "fe": expectation.fe.tolist(),
        "cov_fe": expectation.cov_fe.tolist(),
        "cov_re": expectation.cov_re.tolist(),
        "scale": expectation.scale,
        "random_slope": expectation.random_slope,
        "higher_is_better": expectation.higher_is_better,
        "n_participants": expectation.n_participants,
        "n_observations": expectation.n_observations,
        "converged": expectation.converged,
        "notes": list(expectation.notes),
    }


def expectation_from(
    method: str, why: str, params: dict[str, Any], *, instrument: str
) -> Expectation:
    """The inverse of `expectation_params`: a stored fit back as an Expectation."""
    rule = rule_for(instrument)
    if method != "model" or not params:
        return replace(rule, why=why or "thin history")
    return ExpectedRecovery(
        fe=np.asarray(params["fe"], dtype=float),
        cov_fe=np.asarray(params["cov_fe"], dtype=float),
        cov_re=np.asarray(params["cov_re"], dtype=float),
        scale=float(params["scale"]),
        random_slope=bool(params["random_slope"]),
        higher_is_better=bool(params["higher_is_better"]),
        n_participants=int(params["n_participants"]),
        n_observations=int(params["n_observations"]),
        converged=bool(params["converged"]),
        notes=tuple(params.get("notes", ())),
        best=rule.best,
    )


def latest_episode(rows: pd.DataFrame) -> pd.DataFrame:
    """One person's rows (time order) -> those of their latest episode: the one whose last
    administration came last, i.e. the episode the team is treating now."""
    return rows[rows["participant"] == rows["participant"].iloc[-1]]


def judge_episode(
    rows: pd.DataFrame, expectation: Expectation, percentile: float = DEFAULT_PERCENTILE
) -> Verdict | None:
    """One episode's rows (time order, columns week, score, intake) judged at its latest score:
    the verdict every not-on-track flag comes from (runner, chart, alerts and `openiop
    not-on-track`). None while the episode has only its intake: there is nothing to judge."""
    latest = rows.iloc[-1]
    if latest["week"] <= 0:
        return None
    return expectation.judge(
        intake=float(latest["intake"]),
        week=float(latest["week"]),
        score=float(latest["score"]),
        percentile=percentile,
    )


def judge_latest(
    frame: pd.DataFrame,
    participant_ids: set[int],
    expectation: Expectation,
    name: str,
    percentile: float = DEFAULT_PERCENTILE,
) -> dict[int, str]:
    """Person id -> flag text for those whose latest episode is not on track."""
    flags: dict[int, str] = {}
    mine = frame[frame["person"].isin(participant_ids)]
    if mine.empty:
        return flags
    for person, rows in mine.groupby("person", sort=False):
        verdict = judge_episode(latest_episode(rows), expectation, percentile)
        if verdict is not None and verdict.not_on_track:
            flags[int(person)] = verdict.flag_text(name)
    return flags
