"""Jacobson & Truax reliable change and cutoffs: test vectors T1, T2, T3, T6 of clinical.md."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.measures.change import (
    ChangeError,
    cutoffs,
    instrument_change,
    jacobson_truax,
    minimal_reliable_difference,
    reliable_change_index,
    s_diff,
    standard_error,
    threshold_change,
)
from openiop.measures.instruments import UnknownInstrumentError

# --------------------------------------------------------------------------- T1


def test_t1_standard_error_and_s_diff() -> None:
    assert round(standard_error(5, 0.80), 6) == 2.236068
    assert round(s_diff(5, 0.80), 6) == 3.162278


@pytest.mark.parametrize(
    ("change", "rc"),
    [(-8, -2.529822), (-4, -1.264911), (0, 0.0), (4, 1.264911), (8, 2.529822)],
)
def test_t1_rc(change: int, rc: float) -> None:
    assert round(reliable_change_index(20, 20 + change, 5, 0.80), 6) == rc


def test_t1_minimal_reliable_difference() -> None:
    assert round(minimal_reliable_difference(5, 0.80, 1.96), 6) == 6.198064


@pytest.mark.parametrize(
    ("change", "reliable", "category"),
    [
        (-8, "improved", "improved"),  # RC -2.53 beyond -1.96; no cutoff, so not "recovered"
        (-4, "none", "unchanged"),
        (0, "none", "unchanged"),
        (4, "none", "unchanged"),
        (8, "deteriorated", "deteriorated"),
    ],
)
def test_t1_categories(change: int, reliable: str, category: str) -> None:
    result = jacobson_truax(20, 20 + change, sd=5, r=0.80)
    assert (result.reliable, result.category) == (reliable, category)


def test_t1_core_z_1645_makes_smaller_changes_reliable() -> None:
    # |RC| 1.897 for a 6-point change: reliable at 1.645, not at 1.96.
    assert jacobson_truax(20, 14, sd=5, r=0.80).reliable == "none"
    assert jacobson_truax(20, 14, sd=5, r=0.80, z=1.645).reliable == "improved"


# --------------------------------------------------------------------------- T2 and T3


def test_t2_cutoffs_higher_is_better() -> None:
    result = cutoffs(m_dys=40, sd_dys=7.5, m_fun=60, sd_fun=7.5, higher_is_better=True)
    assert result.to_dict() == {"a": 55.0, "b": 45.0, "c": 50.0}


def test_t3_reliability_and_cutoffs_lower_is_better() -> None:
    assert round(standard_error(0.53, 0.89), 6) == 0.175781
    assert round(s_diff(0.53, 0.89), 6) == 0.248592
    assert round(minimal_reliable_difference(0.53, 0.89), 6) == 0.487240
    result = cutoffs(m_dys=1.81, sd_dys=0.53, m_fun=0.72, sd_fun=0.57)
    assert result.to_dict() == {"a": 0.75, "b": 1.86, "c": 1.284818}


def test_cutoff_c_weights_each_mean_by_the_other_groups_sd() -> None:
    # Unequal SDs: c sits nearer the mean of the group with the smaller SD.
    result = cutoffs(m_dys=20, sd_dys=2, m_fun=10, sd_fun=8)
    assert result.c == pytest.approx((8 * 20 + 2 * 10) / 10)  # 18.0
    assert (result.a, result.b) == (16, 26)


def test_cutoffs_reject_contradicting_direction() -> None:
    with pytest.raises(ChangeError, match=r"^m-fun: 60 must be below m-dys 40"):
        cutoffs(m_dys=40, sd_dys=7.5, m_fun=60, sd_fun=7.5)
    with pytest.raises(ChangeError, match=r"^sd-fun: 0 must be"):
        cutoffs(m_dys=40, sd_dys=7.5, m_fun=30, sd_fun=0)


# --------------------------------------------------------------------------- T6


def test_t6_recovered() -> None:
    result = jacobson_truax(18, 9, sd=5.0, r=0.84, cutoff=10)
    assert result.rc is not None and round(result.rc, 4) == -3.1820
    assert (result.reliable, result.category) == ("improved", "recovered")
    assert result.to_dict() == {
        "change": -9.0,
        "s_diff": 2.828427,
        "rc": -3.181981,
        "reliable": "improved",
        "category": "recovered",
    }


def test_t6_without_cutoff_is_only_improved() -> None:
    assert jacobson_truax(18, 9, sd=5.0, r=0.84).category == "improved"


def test_t6_post_at_cutoff_stays_clinical() -> None:
    assert jacobson_truax(18, 10, sd=5.0, r=0.84, cutoff=10).category == "improved"


def test_higher_is_better_direction() -> None:
    up = jacobson_truax(30, 60, sd=10, r=0.8, cutoff=50, higher_is_better=True)
    assert (up.reliable, up.category) == ("improved", "recovered")
    down = jacobson_truax(60, 30, sd=10, r=0.8, cutoff=50, higher_is_better=True)
    assert (down.reliable, down.category) == ("deteriorated", "deteriorated")


@pytest.mark.parametrize(
    ("sd", "r", "z", "param"),
    [(0, 0.8, 1.96, "sd"), (5, 1.0, 1.96, "r"), (5, -0.1, 1.96, "r"), (5, 0.8, 0, "z")],
)
def test_invalid_parameters_name_the_parameter(sd: float, r: float, z: float, param: str) -> None:
    with pytest.raises(ChangeError) as info:
        jacobson_truax(10, 5, sd=sd, r=r, z=z)
    assert info.value.param == param


# --------------------------------------------------------------------------- threshold mode


@pytest.mark.parametrize(
    ("code", "pre", "post", "reliable", "category"),
    [
        ("phq9", 16, 10, "improved", "improved"),  # -6, but 10 is still at caseness
        ("phq9", 16, 9, "improved", "recovered"),
        ("phq9", 15, 10, "none", "unchanged"),  # -5 is below the 6-point threshold
        ("phq9", 10, 16, "deteriorated", "deteriorated"),
        ("phq9", 9, 3, "improved", "improved"),  # started below the cutoff
        ("gad7", 12, 8, "improved", "improved"),
        ("gad7", 12, 7, "improved", "recovered"),
        ("gad7", 12, 9, "none", "unchanged"),
        ("core10", 17.8, 11.8, "improved", "improved"),  # exactly 6 despite binary floats
        ("core10", 17.8, 10.9, "improved", "recovered"),
        ("core10", 11.1, 17.1, "deteriorated", "deteriorated"),
    ],
)
def test_instrument_thresholds(
    code: str, pre: float, post: float, reliable: str, category: str
) -> None:
    result = instrument_change(code, pre, post)
    assert (result.reliable, result.category) == (reliable, category)
    assert (result.s_diff, result.rc) == (None, None)
    assert result.change == pytest.approx(post - pre)


def test_instrument_without_threshold() -> None:
    with pytest.raises(ChangeError, match=r"^instrument: k10 has no published"):
        instrument_change("k10", 30, 20)
    with pytest.raises(UnknownInstrumentError):
        instrument_change("nope", 30, 20)


def test_instrument_scores_must_be_in_range() -> None:
    with pytest.raises(ChangeError, match=r"^pre: 30 is outside the phq9 total range 0–27$"):
        instrument_change("phq9", 30, 20)


def test_threshold_change_output_keys() -> None:
    result = threshold_change(20, 14, threshold=6, cutoff=10)
    assert result.to_dict() == {
        "change": -6.0,
        "s_diff": None,
        "rc": None,
        "reliable": "improved",
        "category": "improved",
    }


# --------------------------------------------------------------------------- properties

scores = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(scores, scores, st.floats(0.5, 20), st.floats(0, 0.99))
def test_rc_is_antisymmetric(pre: float, post: float, sd: float, r: float) -> None:
    forward = jacobson_truax(pre, post, sd=sd, r=r)
    backward = jacobson_truax(post, pre, sd=sd, r=r)
    assert forward.rc == pytest.approx(-(backward.rc or 0.0), abs=1e-9)
    flipped = {"improved": "deteriorated", "deteriorated": "improved", "none": "none"}
    assert backward.reliable == flipped[forward.reliable]
