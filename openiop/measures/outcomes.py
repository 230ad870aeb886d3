"""Expected recovery curves and not-on-track alerts (clinical.md section 5).

Lambert-style feedback: a program's own history defines how participants with a given intake
score usually move week by week (the expected-recovery corridor on the chart), and an episode
whose own course falls short of a fixed standard is flagged **not on track** so the team looks
at them first.

**The flag (`TrendSignal`, issue 16).** A least-squares line score = a + b * log(week + 1)
through all of the episode's scores so far, the intake included; not on track when that trend
shows less than the program's required improvement (default 12 %) of the smoothed intake `a`
gone by week 4. It uses every score rather than one noisy point, it needs no model (so it
flags the same way with thin or rich history), and its sensitivity and specificity do not
depend on the program's mix of responders and non-responders, which a band drawn from the
program's own mix cannot promise. The default was chosen by validation on simulated programs
of several mixes (docs/outcomes-validation.md, bench/outcomes_validation.py).

**The expected course (`ExpectedRecovery`)**, fitted with statsmodels MixedLM on one instrument
at a time:

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
    edges  = mean -/+ z_p * sqrt(var)

z_p is the standard normal quantile of the display percentile (90th: the band runs from the
10th to the 90th percentile). These percentiles are derived locally from the program's own
data; Lambert's published OQ-45 band percentiles are proprietary and not used. The band and the
expected score are shown for context; the flag is the trend signal's.

With thin history (fewer than MIN_PARTICIPANTS episodes with a post-intake score or fewer than
MIN_ASSESSMENTS post-intake scores) the mixed model is not fitted and `RuleBasedExpectation`
gives the expected line instead (20 % better by week 4); pages say "rule-based: thin history".
The single-score judgements `ExpectedRecovery.judge` and `RuleBasedExpectation.judge` are the
flags used before issue 16, kept as the comparison in the validation.

A score at the instrument's best possible value (the floor, 0 on the PHQ-9; the ceiling where
higher is better) is never not on track: it cannot be better.
"""

from __future__ import annotations

import functools
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

# The not-on-track signal (issue 16; chosen by validation, docs/outcomes-validation.md): the
# episode's own trend must show at least this share of its (smoothed) intake gone by week 4.
DEFAULT_REQUIRED_IMPROVEMENT = 0.12
TREND_REFERENCE_WEEK = 4.0
# Margin in units of the statistic's measurement-error SD; the validation found 0 (the trend's
# point estimate decides) best at every required improvement it tried.
TREND_MARGIN_Z = 0.0
# The trend is judged from week 2 (the third weekly score; a day early counts): at week 1 it
# would flag about three in ten of the people who are improving (docs/outcomes-validation.md).
# Before then only a reliable deterioration from intake flags.
TREND_FIRST_WEEK = 1.5

FE_NAMES = ("Intercept", "np.log1p(week)", "intake", "np.log1p(week):intake")
FORMULA = "score ~ np.log1p(week) * intake"


@dataclass(frozen=True)
class Verdict:
    """How one observed score compares with its expectation."""

    week: float
    score: float
    intake: float
    expected: float
    edge: float | None  # the worst score still on track (None: no single-score edge)
    not_on_track: bool
    method: str  # "model" | "rule-based: <why>" (what `expected` comes from)
    reason: str = ""
    higher_is_better: bool = False

    def limit_text(self) -> str:
        """The edge rounded toward "better": "≤ 13" (or "≥ 9" where higher is better)."""
        if self.edge is None:
            return ""
        if self.higher_is_better:
            return f"≥ {math.ceil(self.edge)}"
        return f"≤ {math.floor(self.edge)}"

    def flag_text(self, instrument_name: str) -> str:
        week = round(self.week)
        limit = f", on track {self.limit_text()}" if self.edge is not None else ""
        why = f"; {self.reason}" if self.reason else ""
        return f"{instrument_name} not on track (week {week}: {self.score:g}{limit}{why})"


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


@functools.lru_cache(maxsize=64)
def normal_quantile(percentile: float) -> float:
    """The standard normal quantile at `percentile` (cached: scipy's ppf costs far more than
    the rest of a judgement, and pages judge a whole roster per view)."""
    return float(norm.ppf(percentile / 100.0))


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
        zp = normal_quantile(percentile)
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
        half = normal_quantile(percentile) * sd
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
    """The expectation with thin history: the expected line is 20 % better by week 4 (linear in
    between), with no band. `judge` is the flag rule used with thin history before issue 16,
    kept as the comparison in docs/outcomes-validation.md; the flag now comes from TrendSignal.

    The previous rule: not on track when, for a score where higher is worse:
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
        """The expected line only: without the program's history there is no band (the
        not-on-track limit comes from the trend signal, as with the model)."""
        return [
            CorridorPoint(week=float(w), lower=None, expected=self.expected(intake, w), upper=None)
            for w in weeks
        ]


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


# --------------------------------------------------------------------------- the trend signal


def measurement_error(threshold: float) -> float:
    """An instrument's standard error of measurement from its published reliable-change
    threshold (Jacobson & Truax 1991: threshold = 1.96 * sqrt(2) * SE): PHQ-9 and CORE-10
    2.16 points, GAD-7 1.44."""
    return threshold / (1.96 * math.sqrt(2.0))


@dataclass(frozen=True)
class TrendSignal:
    """The not-on-track flag: the episode's whole trajectory so far against a fixed standard.

    Fit a least-squares line  score = a + b * log(week + 1)  through every score of the
    episode, the intake included (each carries the instrument's measurement error, so the
    intake is smoothed like the rest). `a` is the smoothed intake and `b * log(w + 1)` the
    smoothed change by week w. On track means improving by at least `required_improvement`
    of the smoothed intake by week 4 on that curve:  b * log(5) <= -q * a  (higher is worse).
    The statistic

        T = b + q * a / log(5)      (how far the trend falls short of the standard)

    is linear in the scores, T = sum_i w_i * y_i, with SD se * ||w|| under pure measurement
    noise; the episode is not on track when T > z * se * ||w|| (z = TREND_MARGIN_Z). Because T
    is linear, that is the same as the latest score being worse than

        limit = (z * se * ||w|| - sum_{i < latest} w_i * y_i) / w_latest

    with the earlier scores as they are: the "on track ≤ limit" the team sees. The trend is
    judged from week 2 (TREND_FIRST_WEEK); at any week a reliable deterioration from intake
    (the instrument's published threshold) flags too, and the limit shown is the lower of the
    two edges. A score at the instrument's best value is never flagged; an episode with only
    its intake is not judged.

    Why this and not the latest score against the program's band: a band drawn from the
    program's own mix flags a fixed share of people, so it misses more of them the more
    non-responders a program has; a fixed standard flags each episode on its own course, and
    the trend uses every score, not one noisy point (docs/outcomes-validation.md).
    """

    se: float
    threshold: float  # the instrument's reliable-change threshold
    higher_is_better: bool = False
    best: float | None = None
    required_improvement: float = DEFAULT_REQUIRED_IMPROVEMENT
    z: float = TREND_MARGIN_Z

    def weights(self, weeks: np.ndarray) -> np.ndarray:
        """w with T = w @ y (y on a higher-is-worse scale)."""
        x = np.log1p(np.maximum(weeks, 0.0))
        c = self.required_improvement / math.log1p(TREND_REFERENCE_WEEK)
        if self.higher_is_better:
            c = -c  # on the flipped scale the smoothed intake is -a
        # (c, 1) @ inv(D'D) @ D' for the design D = [1, x], with the 2 x 2 inverse written out
        # (a pseudo-inverse per judgement was most of a roster's cost); pinv only if singular.
        n, sx, sxx = float(len(x)), float(x.sum()), float(x @ x)
        det = n * sxx - sx * sx
        if det <= 1e-12 * max(1.0, n * sxx):
            design = np.column_stack([np.ones_like(x), x])
            return np.asarray((np.array([c, 1.0]) @ np.linalg.pinv(design.T @ design)) @ design.T)
        row0, row1 = (c * sxx - sx) / det, (n - c * sx) / det
        return np.asarray(row0 + row1 * x)

    def judge(self, rows: pd.DataFrame, expectation: Expectation) -> Verdict | None:
        """One episode (columns week, score, intake; time order; week 0 the intake) judged at
        its latest score; `expected` is the expectation's course at that week (model or rule)."""
        return self.judge_scores(
            rows["week"].to_numpy(dtype=float),
            rows["score"].to_numpy(dtype=float),
            float(rows["intake"].iloc[-1]),
            expectation,
        )

    def judge_scores(
        self, weeks: np.ndarray, scores: np.ndarray, intake: float, expectation: Expectation
    ) -> Verdict | None:
        """`judge` on the episode's weeks and scores as arrays (time order): the pages' path,
        which judges a whole roster per view and cannot afford a DataFrame per person."""
        week, score = float(weeks[-1]), float(scores[-1])
        if week <= 0:
            return None
        sign = -1.0 if self.higher_is_better else 1.0
        worse = sign * scores
        # Worse-scale edges: a reliable deterioration from intake flags at any week ...
        edges = [sign * intake + self.threshold]
        reason = ""
        if sign * (score - intake) >= self.threshold:
            reason = f"reliable deterioration from intake {intake:g}"
        # ... and from week 2 the trend falling short of the standard.
        if week >= TREND_FIRST_WEEK:
            w = self.weights(weeks)
            margin = self.z * self.se * float(np.sqrt(w @ w))
            if w[-1] > 1e-12:
                edges.append((margin - float(w[:-1] @ worse[:-1])) / float(w[-1]))
            if not reason and float(w @ worse) > margin:
                reason = (
                    f"trend under {self.required_improvement:.0%} better than intake by week "
                    f"{TREND_REFERENCE_WEEK:g}"
                )
        flagged = bool(reason) and not at_best(score, self.best, self.higher_is_better)
        expected = float(expectation.corridor(intake=intake, weeks=[week])[0].expected)
        edge = sign * min(edges)
        if self.best is not None:  # the best score is never flagged, so never beyond the edge
            edge = min(edge, self.best) if self.higher_is_better else max(edge, self.best)
        return Verdict(
            week=week,
            score=score,
            intake=intake,
            expected=expected,
            edge=edge,
            not_on_track=flagged,
            method=method_text(expectation),
            reason=reason if flagged else "",
            higher_is_better=self.higher_is_better,
        )


def method_text(expectation: Expectation) -> str:
    """ "model", or "rule-based: <why>" (thin history, no model fitted yet, ...)."""
    if isinstance(expectation, RuleBasedExpectation):
        return f"rule-based: {expectation.why}"
    return expectation.method


def signal_for(
    instrument: str, required_improvement: float = DEFAULT_REQUIRED_IMPROVEMENT
) -> TrendSignal:
    """The instrument's trend signal: its measurement error, direction and best score."""
    rule = rule_for(instrument)
    return TrendSignal(
        se=measurement_error(rule.threshold),
        threshold=rule.threshold,
        higher_is_better=rule.higher_is_better,
        best=rule.best,
        required_improvement=required_improvement,
    )


# --------------------------------------------------------------------------- episodes

Row = tuple[int, int, Any, Any]  # enrollment id, participant id, administered_at, total


def episodes_frame(rows: list[Row]) -> pd.DataFrame:
    """Rows ordered by time -> one row per administration with participant (the episode),
    person, week since the episode's intake, score and intake score."""
    return pd.DataFrame(
        episode_rows(rows), columns=["participant", "person", "week", "score", "intake"]
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
    rows: pd.DataFrame, expectation: Expectation, signal: TrendSignal
) -> Verdict | None:
    """One episode's rows (time order, columns week, score, intake) judged at its latest score:
    the verdict every not-on-track flag comes from (runner, chart, alerts and `openiop
    not-on-track`). None while the episode has only its intake: there is nothing to judge."""
    return signal.judge(rows, expectation)


def judge_latest(
    frame: pd.DataFrame,
    participant_ids: set[int],
    expectation: Expectation,
    name: str,
    signal: TrendSignal,
) -> dict[int, str]:
    """Person id -> flag text for those whose latest episode is not on track (a frame as
    `episodes_frame` makes; the benchmarks' entry to `judge_latest_rows`)."""
    mine = frame[frame["person"].isin(participant_ids)]
    rows = [
        (int(p), int(q), float(w), float(s), float(i))
        for p, q, w, s, i in mine[["participant", "person", "week", "score", "intake"]].itertuples(
            index=False
        )
    ]
    return _judge_episodes(latest_episodes(rows), expectation, name, signal)


def judge_latest_rows(
    rows: Sequence[Row], expectation: Expectation, name: str, signal: TrendSignal
) -> dict[int, str]:
    """`judge_latest` on database rows (time order, as `history.valid_rows_by_instrument`
    gives them) without building a DataFrame: what the runner and the chart call per view."""
    return _judge_episodes(latest_episodes(episode_rows(rows)), expectation, name, signal)


EpisodeRow = tuple[int, int, float, float, float]  # episode, person, week, score, intake


def episode_rows(rows: Sequence[Row]) -> list[EpisodeRow]:
    """Rows ordered by time -> (episode, person, week since the episode's intake, score,
    intake score): `episodes_frame`'s columns as plain tuples."""
    first: dict[int, tuple[Any, float]] = {}
    out = []
    for enrollment_id, participant_id, at, total in rows:
        score = float(total)
        if enrollment_id not in first:
            first[enrollment_id] = (at, score)
        t0, intake = first[enrollment_id]
        week = (at - t0).total_seconds() / SECONDS_PER_WEEK
        out.append((enrollment_id, participant_id, week, score, intake))
    return out


def latest_episodes(rows: Sequence[EpisodeRow]) -> dict[int, list[EpisodeRow]]:
    """Person -> the rows of their latest episode (the one whose last administration came
    last, as `latest_episode` chooses), in time order."""
    by_person: dict[int, list[EpisodeRow]] = {}
    for row in rows:
        by_person.setdefault(row[1], []).append(row)
    latest = {}
    for person, own in by_person.items():
        episode = own[-1][0]
        latest[person] = [row for row in own if row[0] == episode]
    return latest


def _judge_episodes(
    episodes: dict[int, list[EpisodeRow]], expectation: Expectation, name: str, signal: TrendSignal
) -> dict[int, str]:
    flags: dict[int, str] = {}
    for person, rows in episodes.items():
        weeks = np.fromiter((row[2] for row in rows), dtype=float, count=len(rows))
        scores = np.fromiter((row[3] for row in rows), dtype=float, count=len(rows))
        verdict = signal.judge_scores(weeks, scores, rows[-1][4], expectation)
        if verdict is not None and verdict.not_on_track:
            flags[int(person)] = verdict.flag_text(name)
    return flags
