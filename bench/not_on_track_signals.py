"""Exploration that led to the not-on-track signal, outcomes.TrendSignal (issue 16, item 2):
which candidate signal meets sensitivity >= 0.80 and specificity >= 0.80 at weeks 3-4 across
program mixes?

Kept for the record; the official numbers are in docs/outcomes-validation.md, written by
bench/outcomes_validation.py.

For each instrument (PHQ-9, GAD-7, CORE-10) and each mix of courses, programs are simulated with
openiop.measures.simulation (the simulator the official validation uses), the expected-recovery
model (openiop.measures.outcomes) is fitted on a training program with the same mix, and a test
program is judged at week 3 and at week 4 (each participant at their latest administration with
rounded week <= W, using only the data up to then). For candidate signals and their parameters
the report gives sensitivity/specificity per week and mix, the parameter that maximises the
worst case over mixes and weeks, flag rates per course, and ROC points for the best signal.
--oracle adds a ceiling: the simulator's own likelihood ratio, which no real signal knows.

Candidate C, the episode's log-week trend against a "q of the intake gone by week 4" standard,
became outcomes.TrendSignal (judged from week 2, or a reliable deterioration at any week):
candidate T is that signal in vectorised form, checked against the app's TrendSignal on the
first seed's episodes (--no-check skips it).

    .venv/bin/python bench/not_on_track_signals.py            # all instruments, 3 seeds
    .venv/bin/python bench/not_on_track_signals.py --seeds 1 --instruments phq9

Single process, no Django; prints a markdown report to stdout (and --output).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from openiop.measures import outcomes  # noqa: E402
from openiop.measures.outcomes import ExpectedRecovery, fit_expected_recovery  # noqa: E402
from openiop.measures.simulation import (  # noqa: E402
    COURSES,
    MIXES,
    POSITIVE,
    SCALES,
    Scale,
    simulate_program,
)

warnings.filterwarnings("ignore")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Param = float | str
Params = tuple[Param, ...]
SignalFn = Callable[..., BoolArray]  # (features, scale, *params) -> flag per episode
Rates = dict[tuple[str, str, int], tuple[float, float]]  # (instrument, mix, W) -> (sens, spec)
FeatureKey = tuple[str, str, int]  # instrument, mix label, seed

EVAL_WEEKS = (3, 4)
REFERENCE_WEEK = outcomes.TREND_REFERENCE_WEEK
LOG5 = math.log1p(REFERENCE_WEEK)
# The mixes with the fewest slow responders among the negatives, one per share of positives.
BALANCED = tuple(MIXES[i][0] for i in (0, 2, 4))


def as_bool(values: object) -> BoolArray:
    return np.asarray(values, dtype=np.bool_)


def as_float(values: object) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


# --------------------------------------------------------------------------- features

TRANSFORMS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "log": lambda t: as_float(np.log1p(np.maximum(t, 0.0))),
    "lin": lambda t: as_float(np.maximum(t, 0.0)),
    "sqrt": lambda t: as_float(np.sqrt(np.maximum(t, 0.0))),
}


def episode_features(
    frame: pd.DataFrame,
    courses: dict[int, str],
    model: ExpectedRecovery,
    scale: Scale,
    oracle: Oracle | None = None,
) -> pd.DataFrame:
    """One row per (participant, W) with everything the candidate signals need."""
    rule = outcomes.rule_for(scale.code)  # the flag used with thin history before issue 16
    recs: list[dict[str, float | int | str | bool]] = []
    frame = frame.assign(rw=frame["week"].round())
    for pid, g in frame.groupby("participant", sort=False):
        g = g.sort_values("week")
        for W in EVAL_WEEKS:
            e = g[g["rw"] <= W]
            if len(e) < 2:
                continue
            t = as_float(e["week"].to_numpy(float))
            y = as_float(e["score"].to_numpy(float))
            y0 = float(e["intake"].iloc[0])
            x = np.log1p(t)
            n = len(t)
            X = np.column_stack([np.ones(n), x])
            inv = np.linalg.pinv(X.T @ X)
            a, b = (float(v) for v in inv @ X.T @ y)
            xl = float(x[-1])
            mu, sd = model.moments(y0, list(t))
            resid = y[1:] - mu[1:]
            r: dict[str, float | int | str | bool] = {
                "participant": int(pid),
                "W": W,
                "course": courses[int(pid)],
                "n": n,
                "tL": float(t[-1]),
                "xL": xl,
                "y0": y0,
                "yL": float(y[-1]),
                "muL": float(mu[-1]),
                "sdL": float(sd[-1]),
                "a": a,
                "b": b,
                "c00": float(inv[0, 0]),
                "c01": float(inv[0, 1]),
                "c11": float(inv[1, 1]),
                "m": a + b * xl,
                "vm": float(inv[0, 0] + 2 * xl * inv[0, 1] + xl * xl * inv[1, 1]),
            }
            for k in (2, 3):
                rk = resid[-k:]
                r[f"res{k}"] = float(rk.mean())
                r[f"nres{k}"] = len(rk)
                yk = y[1:][-k:]
                gk = np.log1p(t[1:][-k:]) / LOG5
                r[f"ym{k}"] = float(yk.mean())
                r[f"gm{k}"] = float(gk.mean())
            for tf, fx in TRANSFORMS.items():
                Xt = np.column_stack([np.ones(n), fx(t)])
                it = np.linalg.pinv(Xt.T @ Xt)
                at, bt = (float(v) for v in it @ Xt.T @ y)
                r.update(
                    {
                        f"a_{tf}": at,
                        f"b_{tf}": bt,
                        f"c00_{tf}": float(it[0, 0]),
                        f"c01_{tf}": float(it[0, 1]),
                        f"c11_{tf}": float(it[1, 1]),
                    }
                )
            if oracle is not None:
                r["llr"] = oracle.llr(t, y)
            r["resall"] = float(resid.mean())
            r["nresall"] = len(resid)
            r["rule"] = rule.judge(intake=y0, week=float(t[-1]), score=float(y[-1])).not_on_track
            recs.append(r)
    return pd.DataFrame(recs)


class Oracle:
    """Ceiling, not a candidate: the log likelihood ratio positives vs negatives under the
    simulator's own generative priors (openiop.measures.simulation; courses equally weighted,
    Monte Carlo over true intake and per-person course parameters). No real signal knows these
    shapes; it shows how well any signal could separate slow responders from non-responders
    with this much noise."""

    def __init__(self, scale: Scale, draws: int = 3000, seed: int = 99) -> None:
        rng = np.random.default_rng(seed)
        m = draws
        per_week = scale.points_per_phq9_point
        self.s0 = np.clip(
            rng.normal(scale.intake_mean, scale.intake_sd, m), scale.intake_low, scale.worst
        )
        self.fr, self.tr = rng.uniform(0.2, 0.5, m), rng.uniform(1.5, 3.0, m)
        self.fs, self.ts = rng.uniform(0.45, 0.7, m), rng.uniform(4.0, 8.0, m)
        self.sd_ = rng.uniform(0.6, 1.5, m) * per_week
        self.sn = rng.normal(0.0, 0.15, m) * per_week
        self.var = scale.se**2 + 1 / 12  # rounding
        self.m = m

    def llr(self, t: FloatArray, y: FloatArray) -> float:
        s0 = self.s0[:, None]
        tt = t[None, :]
        means = (
            s0 * (self.fr[:, None] + (1 - self.fr[:, None]) * np.exp(-tt / self.tr[:, None])),
            s0 * (self.fs[:, None] + (1 - self.fs[:, None]) * np.exp(-tt / self.ts[:, None])),
            s0 + self.sn[:, None] * tt,
            s0 + self.sd_[:, None] * tt,
        )
        lp = []
        for mu in means:
            ll = -0.5 * ((y[None, :] - mu) ** 2).sum(axis=1) / self.var
            lp.append(float(np.logaddexp.reduce(ll)) - math.log(self.m))
        return float(np.logaddexp(lp[2], lp[3]) - np.logaddexp(lp[0], lp[1]))


# --------------------------------------------------------------------------- candidate signals
# Each: name -> (param grid, fn(features, scale, *params) -> bool array). Params in units that
# transfer across instruments: percentiles, z in SE units, fractions of intake.


def not_best(f: pd.DataFrame, scale: Scale) -> BoolArray:
    return as_bool(f["yL"] > scale.best)


def sig_A(f: pd.DataFrame, scale: Scale, p: float) -> BoolArray:
    """Latest score vs the model's marginal band."""
    return as_bool(f["yL"] > f["muL"] + norm.ppf(p / 100) * f["sdL"]) & not_best(f, scale)


def sig_rule(f: pd.DataFrame, scale: Scale) -> BoolArray:
    """The thin-history rule used before issue 16 (outcomes.RuleBasedExpectation.judge)."""
    return as_bool(f["rule"])


def sig_B_line(f: pd.DataFrame, scale: Scale, z: float) -> BoolArray:
    """The episode's fitted line level now vs the model's expected mean."""
    zz = (f["m"] - f["muL"]) / (scale.se * np.sqrt(f["vm"]))
    return as_bool(zz > z)


def sig_B_res(f: pd.DataFrame, scale: Scale, k: int, z: float) -> BoolArray:
    """Mean of the last k residuals from the model (k = 0: all of them)."""
    key = "all" if k == 0 else str(k)
    zz = f[f"res{key}"] / (scale.se / np.sqrt(f[f"nres{key}"]))
    return as_bool(zz > z) & not_best(f, scale)


def trend_stat(f: pd.DataFrame, q: float, tf: str = "log") -> tuple[FloatArray, FloatArray]:
    """The trend statistic T = b + c a (c = q / g(REFERENCE_WEEK)) and its SD per unit SE."""
    suffix = "" if tf == "log" else f"_{tf}"
    c = q / float(TRANSFORMS[tf](np.array([REFERENCE_WEEK]))[0])
    stat = f[f"b{suffix}"] + c * f[f"a{suffix}"]
    var = c * c * f[f"c00{suffix}"] + 2 * c * f[f"c01{suffix}"] + f[f"c11{suffix}"]
    return as_float(stat), as_float(np.sqrt(as_float(var)))


def sig_C(f: pd.DataFrame, scale: Scale, q: float, z: float) -> BoolArray:
    """Smoothed relative improvement (line on log(week + 1)) below the q-by-week-4 standard:
    the vectorised form of outcomes.TrendSignal's trend test."""
    stat, sd = trend_stat(f, q)
    return as_bool(stat > z * scale.se * sd) & not_best(f, scale)


def sig_Ct(f: pd.DataFrame, scale: Scale, tf: str, q: float, z: float) -> BoolArray:
    """As C with another time transform of the line."""
    stat, sd = trend_stat(f, q, tf)
    return as_bool(stat > z * scale.se * sd) & not_best(f, scale)


def sig_C_mean(f: pd.DataFrame, scale: Scale, k: int, q: float) -> BoolArray:
    """Recency mean of the last k scores vs the observed intake's standard."""
    lim = f["y0"] * (1 - q * f[f"gm{k}"])
    return as_bool(f[f"ym{k}"] > lim) & not_best(f, scale)


def reliable_deterioration(f: pd.DataFrame, scale: Scale) -> BoolArray:
    return as_bool(f["yL"] - f["y0"] >= scale.threshold)


def sig_D_or_B(f: pd.DataFrame, scale: Scale, q: float, zb: float) -> BoolArray:
    """C (z = 0) or far above the model (episode line)."""
    return sig_C(f, scale, q, 0.0) | sig_B_line(f, scale, zb)


def sig_D_or_A(f: pd.DataFrame, scale: Scale, q: float, p: float) -> BoolArray:
    """C (z = 0) or the latest score beyond the marginal band."""
    return sig_C(f, scale, q, 0.0) | sig_A(f, scale, p)


def sig_D_or_rcd(f: pd.DataFrame, scale: Scale, q: float) -> BoolArray:
    """C (z = 0) or reliable deterioration of the latest score."""
    return sig_C(f, scale, q, 0.0) | reliable_deterioration(f, scale)


def sig_D_and_B(f: pd.DataFrame, scale: Scale, q: float, zb: float) -> BoolArray:
    """C (z = 0) and not clearly better than the model expects."""
    return sig_C(f, scale, q, 0.0) & sig_B_line(f, scale, zb)


def sig_T(f: pd.DataFrame, scale: Scale, q: float) -> BoolArray:
    """outcomes.TrendSignal: C (z = TREND_MARGIN_Z) from TREND_FIRST_WEEK, or a reliable
    deterioration at any week; never at the instrument's best score."""
    judged = as_bool(f["tL"] >= outcomes.TREND_FIRST_WEEK)
    trend = sig_C(f, scale, q, outcomes.TREND_MARGIN_Z) & judged
    return (trend | reliable_deterioration(f, scale)) & not_best(f, scale)


def sig_O(f: pd.DataFrame, scale: Scale, v: float) -> BoolArray:
    """The oracle's log likelihood ratio above v."""
    return as_bool(f["llr"] > v)


QS: tuple[float, ...] = tuple(float(q) for q in np.round(np.arange(0.04, 0.52, 0.02), 2))
ZS = (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0)
SIG_A = "A  latest vs model band (percentile)"
SIG_RULE = "R  rule before issue 16"
SIG_ORACLE = "O  ceiling: simulator's own likelihood ratio (log LR)"
SIGNALS: dict[str, tuple[list[Params], SignalFn]] = {
    SIG_A: ([(p,) for p in (50, 55, 60, 65, 70, 75, 80, 85, 90, 95)], sig_A),
    SIG_RULE: ([()], sig_rule),
    "B1 episode line level vs model mean (z)": (
        [(z,) for z in (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)],
        sig_B_line,
    ),
    "B2 mean of last k residuals vs model (k, z)": (
        [(k, z) for k in (0, 2, 3) for z in (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)],
        sig_B_res,
    ),
    "C  line trend vs q-of-intake-by-week-4 (q, z)": ([(q, z) for q in QS for z in ZS], sig_C),
    "Ct line trend, time transform (tf, q, z)": (
        [(tf, q, z) for tf in ("lin", "sqrt") for q in QS for z in ZS],
        sig_Ct,
    ),
    "C2 mean of last k vs observed intake (k, q)": (
        [(k, q) for k in (2, 3) for q in QS],
        sig_C_mean,
    ),
    "D1 C or line above model (q, zB)": (
        [(q, zb) for q in QS for zb in (1.0, 1.5, 2.0, 2.5, 3.0)],
        sig_D_or_B,
    ),
    "D2 C or latest beyond model band (q, pct)": (
        [(q, p) for q in QS for p in (80, 90, 95, 97.5)],
        sig_D_or_A,
    ),
    "D3 C or reliable deterioration (q)": ([(q,) for q in QS], sig_D_or_rcd),
    "D4 C and line not below model (q, zB)": (
        [(q, zb) for q in QS for zb in (-2.0, -1.5, -1.0, -0.5)],
        sig_D_and_B,
    ),
    "T  outcomes.TrendSignal: C from week 2 or reliable deterioration (q)": (
        [(q,) for q in QS],
        sig_T,
    ),
}


# --------------------------------------------------------------------------- evaluation


@dataclass
class RunData:
    feats: dict[FeatureKey, pd.DataFrame] = field(default_factory=dict)
    # instrument, mix, seed, random slope?, fit seconds
    fits: list[tuple[str, str, int, bool, float]] = field(default_factory=list)


def flags_of(fn: SignalFn, f: pd.DataFrame, scale: Scale, params: Params) -> BoolArray:
    return as_bool(fn(f, scale, *params))


def positives(f: pd.DataFrame) -> BoolArray:
    return as_bool(f["course"].isin(POSITIVE))


def counts(flags: BoolArray, pos: BoolArray) -> tuple[int, int, int, int]:
    return int((flags & pos).sum()), int(pos.sum()), int((~flags & ~pos).sum()), int((~pos).sum())


def run(args: argparse.Namespace) -> RunData:
    data = RunData()
    for code in args.instruments:
        scale = SCALES[code]
        for mi, (mlabel, shares) in enumerate(MIXES):
            for seed in args.seeds:
                s = seed * 1000 + mi * 10 + list(SCALES).index(code)
                train, _ = simulate_program(scale, shares, s, participants=args.participants)
                test, courses = simulate_program(
                    scale, shares, s + 500_000, participants=args.test_participants
                )
                t0 = time.perf_counter()
                model = fit_expected_recovery(train)
                data.fits.append((code, mlabel, seed, model.random_slope, time.perf_counter() - t0))
                oracle = Oracle(scale) if args.oracle else None
                f = episode_features(test, courses, model, scale, oracle)
                data.feats[(code, mlabel, seed)] = f
                if args.check and seed == args.seeds[0]:
                    check_app_signal(test, model, scale, f)
            print(f"  {code} {mlabel}: done", file=sys.stderr, flush=True)
    return data


def check_app_signal(
    test: pd.DataFrame, model: ExpectedRecovery, scale: Scale, f: pd.DataFrame
) -> None:
    """The vectorised sig_T at the default must agree with the app's outcomes.TrendSignal, and
    the verdict's edge must reproduce the flag from the latest score alone."""
    signal = outcomes.signal_for(scale.code)
    want = sig_T(f, scale, outcomes.DEFAULT_REQUIRED_IMPROVEMENT)
    test = test.assign(rw=test["week"].round())
    bad = 0
    for pid, W, flag in zip(f["participant"][:120], f["W"][:120], want[:120], strict=True):
        rows = test[(test["participant"] == pid) & (test["rw"] <= W)].sort_values("week")
        verdict = outcomes.judge_episode(rows, model, signal)
        assert verdict is not None
        bad += verdict.not_on_track != bool(flag)
        score, edge = float(rows["score"].iloc[-1]), verdict.edge
        assert edge is not None  # the trend signal always reports its edge
        if score > scale.best:
            assert (score > edge + 1e-9) == verdict.not_on_track or abs(score - edge) < 1e-6
    assert bad == 0, f"app vs vectorised signal disagree on {bad} episodes"


def table(
    feats: dict[FeatureKey, pd.DataFrame], args: argparse.Namespace
) -> dict[tuple[str, Params], Rates]:
    """(signal, params) -> per instrument, mix, week: (sens, spec) pooled over seeds."""
    out: dict[tuple[str, Params], Rates] = {}
    split: dict[tuple[str, str, int, int], tuple[pd.DataFrame, BoolArray]] = {}
    for key, f in feats.items():
        for W in EVAL_WEEKS:
            fw = f[f["W"] == W].reset_index(drop=True)
            split[(*key, W)] = (fw, positives(fw))
    for sname, (grid, fn) in SIGNALS.items():
        for params in grid:
            res: Rates = {}
            for code in args.instruments:
                scale = SCALES[code]
                for mlabel, _ in MIXES:
                    for W in EVAL_WEEKS:
                        tp = p = tn = n = 0
                        for seed in args.seeds:
                            fw, pos = split[(code, mlabel, seed, W)]
                            c = counts(flags_of(fn, fw, scale, params), pos)
                            tp += c[0]
                            p += c[1]
                            tn += c[2]
                            n += c[3]
                        res[(code, mlabel, W)] = (tp / p, tn / n)
            out[(sname, params)] = res
    return out


def worst(
    res: Rates, instruments: Sequence[str], mixes: Sequence[str] | None = None
) -> tuple[float, float, float, float]:
    """(worst sens, worst spec, mean sens, mean spec) over instruments x mixes x weeks."""
    keep = [v for (i, m, _), v in res.items() if i in instruments and (mixes is None or m in mixes)]
    sens = [v[0] for v in keep]
    spec = [v[1] for v in keep]
    return min(sens), min(spec), float(np.mean(sens)), float(np.mean(spec))


def fmt_params(params: Params) -> str:
    return ", ".join(p if isinstance(p, str) else f"{p:g}" for p in params) if params else "-"


def per_course_rates(
    feats: dict[FeatureKey, pd.DataFrame],
    instruments: Sequence[str],
    seeds: Sequence[int],
    fn: SignalFn,
    params: Params,
) -> list[str]:
    lines = ["| instrument | week | " + " | ".join(COURSES) + " |"]
    lines.append("|---|---|" + "---|" * len(COURSES))
    for code in instruments:
        scale = SCALES[code]
        for W in EVAL_WEEKS:
            flagged = dict.fromkeys(COURSES, 0)
            total = dict.fromkeys(COURSES, 0)
            for mlabel, _ in MIXES:
                for seed in seeds:
                    f = feats[(code, mlabel, seed)]
                    f = f[f["W"] == W]
                    fl = flags_of(fn, f, scale, params)
                    course = f["course"].to_numpy()
                    for c in COURSES:
                        sel = as_bool(course == c)
                        flagged[c] += int(fl[sel].sum())
                        total[c] += int(sel.sum())
            rates = " | ".join(f"{flagged[c] / total[c]:.3f}" if total[c] else "-" for c in COURSES)
            lines.append(f"| {code} | {W} | {rates} |")
    return lines


def report(args: argparse.Namespace, data: RunData, elapsed: float) -> str:
    feats = data.feats
    ins: list[str] = args.instruments
    tab = table(feats, args)
    out = ["# Not-on-track signals: exploration on simulated programs\n"]
    out.append(
        "The exploration that led to outcomes.TrendSignal (issue 16); the official numbers are "
        "in docs/outcomes-validation.md (bench/outcomes_validation.py).\n"
    )
    out.append(
        f"Instruments {', '.join(ins)}; {len(MIXES)} mixes; seeds {list(args.seeds)}; "
        f"{args.participants} participants per training program, {args.test_participants} per "
        "test program (openiop.measures.simulation: 10 % missing, +-1 day jitter); noise SD "
        "= SE = threshold/(1.96 sqrt 2): "
        + ", ".join(f"{i} {SCALES[i].se:.2f}" for i in ins)
        + ". Model fitted on a training program with the same mix as the test program. "
        "Sens/spec pooled over seeds; 'worst' = min over instruments x mixes x weeks 3, 4.\n"
    )
    out.append(
        "Mixes (" + ", ".join(COURSES) + "): " + "; ".join(f"{m} {s}" for m, s in MIXES) + "\n"
    )
    best_by_signal: dict[str, tuple[Params, Rates]] = {}
    for sname in SIGNALS:
        cands = [(k, v) for k, v in tab.items() if k[0] == sname]
        # maximise min(worst sens, worst spec) across all instruments (one common default)
        k, v = max(cands, key=lambda kv: (min(worst(kv[1], ins)[:2]), sum(worst(kv[1], ins)[2:])))
        best_by_signal[sname] = (k[1], v)
    out.append("## Best parameter per signal (one default for all instruments)\n")
    out.append(
        "| signal | params | worst sens | worst spec | mean sens | mean spec | "
        + " | ".join(f"{i} worst sens/spec" for i in ins)
        + " |"
    )
    out.append("|---|---|---|---|---|---|" + "---|" * len(ins))
    for sname, (params, v) in best_by_signal.items():
        ws, wp, ms, mp = worst(v, ins)
        per = " | ".join("{:.2f}/{:.2f}".format(*worst(v, [i])[:2]) for i in ins)
        out.append(
            f"| {sname} | {fmt_params(params)} | {ws:.3f} | {wp:.3f} | {ms:.3f} | {mp:.3f} | "
            f"{per} |"
        )
    out.append("")
    out.append(
        "## Best parameter per signal on the balanced mixes only ("
        + "; ".join(BALANCED)
        + "; slow <= 43 % of negatives, deteriorators = 1/3 of positives)\n"
    )
    out.append(
        "| signal | params | worst sens | worst spec | "
        + " | ".join(f"{i} worst sens/spec" for i in ins)
        + " |"
    )
    out.append("|---|---|---|---|" + "---|" * len(ins))
    for sname in SIGNALS:
        cands = [(k, v) for k, v in tab.items() if k[0] == sname]
        k, v = max(cands, key=lambda kv: min(worst(kv[1], ins, BALANCED)[:2]))
        ws, wp = worst(v, ins, BALANCED)[:2]
        per = " | ".join("{:.2f}/{:.2f}".format(*worst(v, [i], BALANCED)[:2]) for i in ins)
        out.append(f"| {sname} | {fmt_params(k[1])} | {ws:.3f} | {wp:.3f} | {per} |")
    out.append("")
    out.append("## Best parameter per signal, per instrument (own default)\n")
    out.append("| signal | " + " | ".join(f"{i}: params -> worst sens/spec" for i in ins) + " |")
    out.append("|---|" + "---|" * len(ins))
    for sname in SIGNALS:
        cells = []
        for i in ins:
            cands = [(k, v) for k, v in tab.items() if k[0] == sname]
            k, v = max(cands, key=lambda kv: min(worst(kv[1], [i])[:2]))
            ws, wp = worst(v, [i])[:2]
            cells.append(f"{fmt_params(k[1])} -> {ws:.2f}/{wp:.2f}")
        out.append(f"| {sname} | " + " | ".join(cells) + " |")
    out.append("")
    # detail for the three best and two references
    ranked = sorted(best_by_signal.items(), key=lambda kv: -min(worst(kv[1][1], ins)[:2]))
    for sname, (params, v) in ranked[:3] + [(s, best_by_signal[s]) for s in (SIG_A, SIG_RULE)]:
        out.append(f"## Detail: {sname} at {fmt_params(params)}\n")
        out.append("| instrument | mix | week 3 sens | week 3 spec | week 4 sens | week 4 spec |")
        out.append("|---|---|---|---|---|---|")
        for i in ins:
            for mlabel, _ in MIXES:
                s3, p3 = v[(i, mlabel, 3)]
                s4, p4 = v[(i, mlabel, 4)]
                out.append(f"| {i} | {mlabel} | {s3:.3f} | {p3:.3f} | {s4:.3f} | {p4:.3f} |")
        out.append("")
        out.append("Flag rate per course (pooled over mixes and seeds):\n")
        out.extend(per_course_rates(feats, ins, args.seeds, SIGNALS[sname][1], params))
        out.append("")
    # ROC for the best signal over its first numeric parameter, the others fixed
    sname, (params, _) = ranked[0]
    grid = SIGNALS[sname][0]
    vi = next((j for j, p in enumerate(params) if not isinstance(p, str)), 0)
    rest = params[:vi] + params[vi + 1 :]
    out.append(f"## ROC: {sname}, parameter {vi + 1} varied (others at {fmt_params(rest)})\n")
    out.append("Pooled over mixes and seeds (mean of per-mix rates), and the worst mix.\n")
    out.append(
        "| instrument | week | param | sens (mean) | 1-spec (mean) | sens (worst mix) | "
        "1-spec (worst mix) |"
    )
    out.append("|---|---|---|---|---|---|---|")
    roc_params = [g for g in grid if g[:vi] + g[vi + 1 :] == rest]
    for i in ins:
        for W in EVAL_WEEKS:
            for g in roc_params:
                v = tab[(sname, g)]
                ss = [v[(i, m, W)][0] for m, _ in MIXES]
                sp = [v[(i, m, W)][1] for m, _ in MIXES]
                out.append(
                    f"| {i} | {W} | {fmt_params(g[vi : vi + 1])} | {np.mean(ss):.3f} | "
                    f"{1 - np.mean(sp):.3f} | {min(ss):.3f} | {1 - min(sp):.3f} |"
                )
    out.append("")
    out.append("## Fits\n")
    rs = sum(1 for f in data.fits if f[3])
    out.append(
        f"{len(data.fits)} fits, {rs} with random slope; mean fit time "
        f"{np.mean([f[4] for f in data.fits]):.2f} s. Total run {elapsed:.0f} s.\n"
    )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--instruments", nargs="+", choices=list(SCALES), default=list(SCALES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--participants", type=int, default=300, help="training program")
    parser.add_argument("--test-participants", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument("--oracle", action="store_true", help="add the (slow) ceiling signal")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.oracle:
        SIGNALS[SIG_ORACLE] = (
            [(float(v),) for v in np.round(np.arange(-2.0, 2.01, 0.1), 2)],
            sig_O,
        )
    data = run(args)
    text = report(args, data, time.perf_counter() - started)
    print(text)
    if args.output:
        args.output.write_text(text)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
