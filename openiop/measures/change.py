"""Reliable and clinically significant change (Jacobson & Truax 1991; clinical.md section 4).

    SE     = SD_pre * sqrt(1 - r)
    S_diff = sqrt(2 * SE^2)
    RC     = (post - pre) / S_diff          reliable when |RC| > z (z = 1.96; CORE uses 1.645)

Two modes:

* `jacobson_truax()` - from a norm SD and a reliability r. Without a cutoff, "recovered" cannot be
  established, so a reliable improvement is reported as "improved".
* `threshold_change()` / `instrument_change()` - an instrument's published reliable-change
  threshold in raw points and its cutoff (PHQ-9 6 / 10, GAD-7 4 / 8, CORE-10 6 / 11, from the
  data files). Reliable when the change is at least the threshold ("a drop of 6 or more");
  S_diff and RC do not exist in this mode and are None.

The clinical side of a cutoff includes the cutoff itself (caseness is "score >= cutoff" when
lower is better; "score <= cutoff" when higher is better), so recovery means moving from
at-or-beyond the cutoff to strictly on the functional side. Comparisons use exact values:
numbers are converted through their shortest decimal form, so 17.8 - 11.8 is exactly 6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from openiop.measures.instruments import get_instrument

Reliable = Literal["improved", "deteriorated", "none"]
Category = Literal["recovered", "improved", "unchanged", "deteriorated"]
DEFAULT_Z = 1.96


class ChangeError(ValueError):
    """Parameters that make no statistical sense; `param` names the parameter (as on the CLI)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


@dataclass(frozen=True)
class ChangeResult:
    change: float
    s_diff: float | None
    rc: float | None
    reliable: Reliable
    category: Category

    def to_dict(self, decimals: int = 6) -> dict[str, object]:
        """Exactly the keys of the `openiop rci` contract; rounding happens only here."""
        return {
            "change": _rounded(self.change, decimals),
            "s_diff": None if self.s_diff is None else _rounded(self.s_diff, decimals),
            "rc": None if self.rc is None else _rounded(self.rc, decimals),
            "reliable": self.reliable,
            "category": self.category,
        }


@dataclass(frozen=True)
class Cutoffs:
    a: float
    b: float
    c: float

    def to_dict(self, decimals: int = 6) -> dict[str, float]:
        return {name: _rounded(getattr(self, name), decimals) for name in ("a", "b", "c")}


def _rounded(value: float, decimals: int) -> float:
    return round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0 for display


def _exact(value: float | int | Fraction, name: str = "value") -> Fraction:
    if isinstance(value, Fraction):
        return value
    if not math.isfinite(value):
        raise ChangeError(name, f"{value} is not a finite number")
    return Fraction(repr(value))


# --------------------------------------------------------------------------- formulas


def standard_error(sd: float, r: float) -> float:
    _check_sd_r(sd, r)
    return sd * math.sqrt(1 - r)


def s_diff(sd: float, r: float) -> float:
    return math.sqrt(2 * standard_error(sd, r) ** 2)


def reliable_change_index(pre: float, post: float, sd: float, r: float) -> float:
    return (post - pre) / s_diff(sd, r)


def minimal_reliable_difference(sd: float, r: float, z: float = DEFAULT_Z) -> float:
    """Smallest absolute change that is reliable at `z` (changes must exceed it)."""
    _check_z(z)
    return z * s_diff(sd, r)


def _check_sd_r(sd: float, r: float) -> None:
    if not math.isfinite(sd) or sd <= 0:
        raise ChangeError("sd", f"{sd} must be a number greater than 0")
    # r = 1 would make S_diff zero (every change infinitely reliable); r < 0 is no reliability.
    if not math.isfinite(r) or not 0 <= r < 1:
        raise ChangeError("r", f"{r} must be at least 0 and less than 1")


def _check_z(z: float) -> None:
    if not math.isfinite(z) or z <= 0:
        raise ChangeError("z", f"{z} must be a number greater than 0")


# --------------------------------------------------------------------------- categories


def on_clinical_side(
    value: float | Fraction, cutoff: float | Fraction, higher_is_better: bool
) -> bool:
    """At the cutoff counts as clinical (caseness is `score >= cutoff` for PHQ-9 and the like)."""
    score, edge = _exact(value), _exact(cutoff)
    return score <= edge if higher_is_better else score >= edge


def _category(
    reliable: Reliable,
    pre: float,
    post: float,
    cutoff: float | Fraction | None,
    higher_is_better: bool,
) -> Category:
    if reliable == "deteriorated":
        return "deteriorated"
    if reliable == "none":
        return "unchanged"
    crossed = cutoff is not None and (
        on_clinical_side(pre, cutoff, higher_is_better)
        and not on_clinical_side(post, cutoff, higher_is_better)
    )
    return "recovered" if crossed else "improved"


def _direction(improved: bool, worsened: bool) -> Reliable:
    if improved:
        return "improved"
    return "deteriorated" if worsened else "none"


# --------------------------------------------------------------------------- modes


def jacobson_truax(
    pre: float,
    post: float,
    *,
    sd: float,
    r: float,
    z: float = DEFAULT_Z,
    cutoff: float | None = None,
    higher_is_better: bool = False,
) -> ChangeResult:
    """RC from a norm SD and reliability; "recovered" needs `cutoff`."""
    _check_z(z)
    diff = s_diff(sd, r)
    change = float(_exact(post, "post") - _exact(pre, "pre"))
    rc = change / diff
    toward_better = rc if higher_is_better else -rc
    reliable = _direction(toward_better > z, toward_better < -z)
    return ChangeResult(
        change=change,
        s_diff=diff,
        rc=rc,
        reliable=reliable,
        category=_category(reliable, pre, post, cutoff, higher_is_better),
    )


def threshold_change(
    pre: float,
    post: float,
    *,
    threshold: float | Fraction,
    cutoff: float | Fraction,
    higher_is_better: bool = False,
) -> ChangeResult:
    """Reliable when the raw change is at least `threshold` points in either direction."""
    change = _exact(post, "post") - _exact(pre, "pre")
    toward_better = change if higher_is_better else -change
    limit = _exact(threshold)
    reliable = _direction(toward_better >= limit, toward_better <= -limit)
    return ChangeResult(
        change=float(change),
        s_diff=None,
        rc=None,
        reliable=reliable,
        category=_category(reliable, pre, post, cutoff, higher_is_better),
    )


def instrument_change(code: str, pre: float, post: float) -> ChangeResult:
    """Threshold mode with the instrument's published threshold and cutoff (data file)."""
    instrument = get_instrument(code)
    params = instrument.reliable_change
    if params is None:
        raise ChangeError(
            "instrument", f"{code} has no published reliable-change threshold; use --sd and --r"
        )
    low, high = instrument.scoring.min, instrument.scoring.max
    for name, value in (("pre", pre), ("post", post)):
        if low is not None and high is not None and not low <= _exact(value, name) <= high:
            raise ChangeError(name, f"{value} is outside the {code} total range {low}–{high}")
    return threshold_change(
        pre,
        post,
        threshold=params.threshold,
        cutoff=params.cutoff,
        higher_is_better=bool(instrument.higher_is_better),
    )


def cutoffs(
    *, m_dys: float, sd_dys: float, m_fun: float, sd_fun: float, higher_is_better: bool = False
) -> Cutoffs:
    """Jacobson & Truax cutoffs a, b, c; a and b step 2 SD toward the other population."""
    for name, sd in (("sd-dys", sd_dys), ("sd-fun", sd_fun)):
        if not math.isfinite(sd) or sd <= 0:
            raise ChangeError(name, f"{sd} must be a number greater than 0")
    # With the direction flag contradicting the means, "toward the other population" would
    # point away from it and a, b would be nonsense; better to refuse than to guess.
    if (m_fun > m_dys) != higher_is_better or m_fun == m_dys:
        wanted = "above" if higher_is_better else "below"
        better = "higher" if higher_is_better else "lower"
        raise ChangeError(
            "m-fun", f"{m_fun} must be {wanted} m-dys {m_dys} when {better} is better"
        )
    toward_fun = 1 if higher_is_better else -1
    return Cutoffs(
        a=m_dys + toward_fun * 2 * sd_dys,
        b=m_fun - toward_fun * 2 * sd_fun,
        c=(sd_fun * m_dys + sd_dys * m_fun) / (sd_fun + sd_dys),
    )
