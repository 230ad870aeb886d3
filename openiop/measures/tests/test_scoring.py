"""Scoring rules of clinical.md section 3, with exact expected values."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.measures.instruments import InstrumentDisabledError, get_instrument
from openiop.measures.scoring import (
    AnswerError,
    ScoreResult,
    ScoringError,
    SexRequiredError,
    _band,
    critical_screen,
    inconsistency_notes,
    round_half_up,
    score,
)

Answers = list[int | None]


def answers_for_total(code: str, total: int) -> Answers:
    """Codes whose keyed item scores sum to `total` (fills items from the first, lowest first)."""
    items = get_instrument(code).scored_items
    scores = [min(item.codes) for item in items]
    remaining = total - sum(scores)
    for index, item in enumerate(items):
        step = min(remaining, max(item.codes) - scores[index])
        scores[index] += step
        remaining -= step
    assert remaining == 0, f"{total} is not reachable for {code}"
    # Reverse keying maps the code range onto itself, so it is its own inverse.
    return [item.keyed(s) for item, s in zip(items, scores, strict=True)]


def test_answers_for_total_respects_reverse_keying() -> None:
    answers = answers_for_total("core10", 8)
    assert score("core10", answers).total == 8


# --------------------------------------------------------------------------- PHQ-9

PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately severe"),
    (19, "moderately severe"),
    (20, "severe"),
    (27, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BANDS)
def test_phq9_band_edges(total: int, band: str) -> None:
    result = score("phq9", answers_for_total("phq9", total))
    assert (result.total, result.band) == (total, band)
    assert result.positive_screen is (total >= 10)


def test_phq9_contract_example() -> None:
    result = score("phq9", [2, 2, 2, 2, 2, 1, 1, 1, 1])
    assert result.to_dict() == {
        "instrument": "phq9",
        "total": 14,
        "band": "moderate",
        "subscales": {},
        "positive_screen": True,
        "critical": [9],
        "risk": None,
        "prorated": False,
    }


def test_phq9_item9_zero_is_not_critical() -> None:
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert (result.total, result.critical, result.critical_not_assessed) == (24, [], [])


def test_phq9_critical_fires_on_incomplete_form() -> None:
    result = score("phq9", [None] * 8 + [2])
    assert result.critical == [9]
    assert (result.total, result.band, result.positive_screen) == (None, None, None)
    assert result.missing == [1, 2, 3, 4, 5, 6, 7, 8]


def test_phq9_missing_item9_is_not_assessed_not_zero() -> None:
    result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert result.critical == []
    assert result.critical_not_assessed == [9]
    assert result.total is None  # no proration for PHQ-9
    assert result.prorated is False


def test_phq9_any_missing_item_nulls_total_band_and_screen() -> None:
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, None, 0])
    assert (result.total, result.band, result.positive_screen) == (None, None, None)


# --------------------------------------------------------------------------- GAD-7


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total: int, band: str) -> None:
    result = score("gad7", answers_for_total("gad7", total))
    assert (result.total, result.band, result.positive_screen) == (total, band, total >= 10)
    assert result.critical == []


# --------------------------------------------------------------------------- PCL-5


def test_pcl5_total_and_subscales() -> None:
    answers: Answers = [4, 3, 2, 1, 0, 4, 4, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    result = score("pcl5", answers)
    assert result.total == 37
    assert result.subscales == {"B": 10, "C": 8, "D": 7, "E": 12}
    assert result.band is None
    assert result.positive_screen is True


@pytest.mark.parametrize(("total", "positive"), [(32, False), (33, True)])
def test_pcl5_positive_cutoff(total: int, positive: bool) -> None:
    assert score("pcl5", answers_for_total("pcl5", total)).positive_screen is positive


def test_pcl5_missing_item_nulls_its_subscale_only() -> None:
    answers: Answers = [1] * 20
    answers[6] = None  # item 7, cluster C
    result = score("pcl5", answers)
    assert result.subscales == {"B": 5, "C": None, "D": 7, "E": 6}
    assert result.total is None


# --------------------------------------------------------------------------- AUDIT / AUDIT-C


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "zone i"),
        (7, "zone i"),
        (8, "zone ii"),
        (15, "zone ii"),
        (16, "zone iii"),
        (19, "zone iii"),
        (20, "zone iv"),
        (40, "zone iv"),
    ],
)
def test_audit_zone_edges(total: int, band: str) -> None:
    result = score("audit", answers_for_total("audit", total))
    assert (result.total, result.band, result.positive_screen) == (total, band, total >= 8)


@pytest.mark.parametrize("code", [0, 2, 4])
def test_audit_items_9_10_accept_0_2_4(code: int) -> None:
    assert score("audit", [0] * 8 + [code, code]).total == 2 * code


@pytest.mark.parametrize(("item", "code"), [(9, 1), (9, 3), (10, 1), (10, 5)])
def test_audit_items_9_10_reject_other_codes(item: int, code: int) -> None:
    answers: Answers = [0] * 10
    answers[item - 1] = code
    with pytest.raises(AnswerError, match=rf"^item {item}: {code} is not a valid code"):
        score("audit", answers)


def test_audit_item_out_of_range() -> None:
    with pytest.raises(AnswerError, match=r"^item 1: 5 is out of range 0–4$"):
        score("audit", [5] + [0] * 9)


@pytest.mark.parametrize(
    ("sex", "total", "positive"),
    [("male", 3, False), ("male", 4, True), ("female", 2, False), ("female", 3, True)],
)
def test_auditc_sex_specific_cutoffs(sex: str, total: int, positive: bool) -> None:
    result = score("auditc", answers_for_total("auditc", total), sex=sex)
    assert (result.total, result.positive_screen, result.band) == (total, positive, None)


def test_auditc_requires_sex_used_for_scoring() -> None:
    with pytest.raises(SexRequiredError, match="auditc"):
        score("auditc", [1, 1, 1])


def test_auditc_sex_is_case_insensitive_and_validated() -> None:
    assert score("auditc", [1, 1, 1], sex="Female").positive_screen is True
    with pytest.raises(ScoringError, match="'other'"):
        score("auditc", [1, 1, 1], sex="other")


# --------------------------------------------------------------------------- DAST-10


def test_dast10_item3_reverse_keyed() -> None:
    assert score("dast10", [0] * 10).total == 1  # "no" to item 3 scores 1
    assert score("dast10", [1] * 10).total == 9  # "yes" to item 3 scores 0
    assert score("dast10", [1, 1, 0, 1, 1, 1, 1, 1, 1, 1]).total == 10


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (1, "low"),
        (2, "low"),
        (3, "moderate"),
        (5, "moderate"),
        (6, "substantial"),
        (8, "substantial"),
        (9, "severe"),
        (10, "severe"),
    ],
)
def test_dast10_band_edges(total: int, band: str) -> None:
    result = score("dast10", answers_for_total("dast10", total))
    assert (result.total, result.band, result.positive_screen) == (total, band, total >= 3)


def test_dast10_disabled_by_licence_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    with pytest.raises(InstrumentDisabledError, match="disabled by licence"):
        score("dast10", [0] * 10)
    assert score("phq9", [0] * 9).total == 0  # commercial-use instruments stay on


def test_dast10_enabled_when_flag_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "0")
    assert score("dast10", [0] * 10).total == 1


def test_dast10_yes_no_codes_only() -> None:
    with pytest.raises(AnswerError, match=r"^item 2: 2 is out of range 0–1$"):
        score("dast10", [0, 2] + [0] * 8)


# --------------------------------------------------------------------------- BAM

BAM_ANSWERS: Answers = [1, 2, 3, 0, 1, 2, 4, 3, 4, 2, 1, 3, 4, 4, 0, 4, 3]


def test_bam_subscales_and_no_total() -> None:
    result = score("bam", BAM_ANSWERS)
    # use = 4,5,6; risk = 1,2,3,8,11,15; protective = 9,10,12,13,14,16
    assert result.subscales == {"use": 3, "risk": 10, "protective": 21}
    assert (result.total, result.band, result.positive_screen) == (None, None, None)


def test_bam_item7_is_recorded_but_never_scored() -> None:
    other = list(BAM_ANSWERS)
    other[6] = 0
    assert score("bam", other).subscales == score("bam", BAM_ANSWERS).subscales
    other[6] = None
    assert score("bam", other).subscales == {"use": 3, "risk": 10, "protective": 21}
    other[6] = 5
    with pytest.raises(AnswerError, match=r"^item 7: 5 is out of range 0–4$"):
        score("bam", other)


def test_bam_missing_item_nulls_only_its_subscale() -> None:
    answers = list(BAM_ANSWERS)
    answers[3] = None  # item 4, "use"
    assert score("bam", answers).subscales == {"use": None, "risk": 10, "protective": 21}


# --------------------------------------------------------------------------- WHO-5


@pytest.mark.parametrize(
    ("raw", "total", "band", "positive"),
    [
        (0, 0, "likely depression", True),
        (7, 28, "likely depression", True),
        (8, 32, "poor wellbeing", True),
        (12, 48, "poor wellbeing", True),
        (13, 52, "adequate", False),
        (25, 100, "adequate", False),
    ],
)
def test_who5_times_four_and_bands(raw: int, total: int, band: str, positive: bool) -> None:
    result = score("who5", answers_for_total("who5", raw))
    assert (result.raw_total, result.total, result.band) == (raw, total, band)
    assert result.positive_screen is positive


def test_who5_band_edges_on_the_x4_scale() -> None:
    # 29-31 and 49-51 are not reachable from whole answers but the data must still be exact.
    who5 = get_instrument("who5")
    assert _band(who5, Fraction(28)) == "likely depression"
    assert _band(who5, Fraction(29)) == "poor wellbeing"
    assert _band(who5, Fraction(50)) == "poor wellbeing"
    assert _band(who5, Fraction(51)) == "adequate"


# --------------------------------------------------------------------------- UCLA-3


@pytest.mark.parametrize(("total", "positive"), [(3, False), (5, False), (6, True), (9, True)])
def test_ucla3_lonely_cutoff(total: int, positive: bool) -> None:
    result = score("ucla3", answers_for_total("ucla3", total))
    assert (result.total, result.positive_screen, result.band) == (total, positive, None)


def test_ucla3_codes_start_at_one() -> None:
    with pytest.raises(AnswerError, match=r"^item 2: 0 is out of range 1–3$"):
        score("ucla3", [1, 0, 1])


# --------------------------------------------------------------------------- BRS


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([5, 1, 5, 1, 5, 1], 5.0, "high"),
        ([1, 5, 1, 5, 1, 5], 1.0, "low"),
        ([3, 3, 3, 3, 3, 3], 3.0, "normal"),
        ([3, 3, 3, 3, 2, 3], 2.83, "low"),  # 17/6
        ([4, 2, 4, 2, 4, 3], 3.83, "normal"),  # keyed 4+4+4+4+4+3 = 23/6
        ([4, 2, 4, 2, 4, 1], 4.17, "normal"),  # 25/6 = 4.1666... rounds to 4.17
        ([5, 2, 4, 2, 4, 1], 4.33, "high"),  # 26/6 > 4.30
    ],
)
def test_brs_reverse_items_mean_and_bands(answers: Answers, total: float, band: str) -> None:
    result = score("brs", answers)
    assert (result.total, result.band, result.positive_screen) == (total, band, None)


def test_brs_band_edges_are_exact() -> None:
    brs = get_instrument("brs")
    assert _band(brs, Fraction(299, 100)) == "low"
    assert _band(brs, Fraction(3)) == "normal"
    assert _band(brs, Fraction(43, 10)) == "normal"
    assert _band(brs, Fraction(431, 100)) == "high"


def test_round_half_up() -> None:
    assert round_half_up(Fraction(2345, 1000), 2) == 2.35
    assert round_half_up(Fraction(105, 10), 0) == 11.0
    assert round_half_up(Fraction(190, 9), 1) == 21.1


# --------------------------------------------------------------------------- C-SSRS


def cssrs(*answers: int | None) -> ScoreResult:
    return score("cssrs", list(answers))


def test_cssrs_all_no() -> None:
    result = cssrs(0, 0, None, None, None, 0, None)
    assert (result.risk, result.positive_screen, result.critical) == ("none", False, [])
    assert result.missing == []  # skipped items are not missing


@pytest.mark.parametrize(
    ("answers", "risk", "critical"),
    [
        ((1, 0, None, None, None, 0, None), "low", ["q1"]),
        ((0, 1, 0, 0, 0, 0, None), "low", ["q2"]),
        ((1, 1, 1, 0, 0, 0, None), "moderate", ["q1", "q2", "q3"]),
        ((0, 0, None, None, None, 1, 0), "moderate", ["q6"]),
        ((1, 1, 0, 1, 0, 0, None), "high", ["q1", "q2", "q4"]),
        ((1, 1, 1, 0, 1, 0, None), "high", ["q1", "q2", "q3", "q5"]),
        ((0, 0, None, None, None, 1, 1), "high", ["q6", "q6r"]),
    ],
)
def test_cssrs_risk_levels(answers: tuple[int | None, ...], risk: str, critical: list[str]) -> None:
    result = cssrs(*answers)
    assert (result.risk, result.critical, result.positive_screen) == (risk, critical, True)
    assert (result.total, result.band, result.subscales) == (None, None, {})


@pytest.mark.parametrize(
    ("answers", "critical", "risk", "inconsistent"),
    [
        # Skip logic decides what is asked, never what is kept (clinical.md section 3).
        ((0, 0, 1, 0, 0, 0, None), ["q3"], "moderate", ["q3", "q4", "q5"]),
        ((0, 0, None, None, None, 0, 1), ["q6r"], "high", ["q6r"]),
        ((1, 0, None, 1, None, 0, None), ["q1", "q4"], "high", ["q4"]),
        ((0, 0, None, None, 1, 0, None), ["q5"], "high", ["q5"]),
        ((0, 0, 0, 0, 0, 0, None), [], "none", ["q3", "q4", "q5"]),
    ],
)
def test_cssrs_answer_to_skipped_item_is_kept_scored_and_flagged(
    answers: tuple[int | None, ...], critical: list[str], risk: str, inconsistent: list[str]
) -> None:
    result = cssrs(*answers)
    assert (result.critical, result.risk, result.inconsistent) == (critical, risk, inconsistent)
    assert result.positive_screen is bool(critical)


def test_cssrs_inconsistency_notes_explain_in_plain_words() -> None:
    notes = inconsistency_notes(get_instrument("cssrs"), [0, 0, 1, None, None, 0, 1])
    assert notes == [
        "item q3 was answered yes (1) although q2 is no (0), so the form would have skipped it; "
        "the answer is kept and scored",
        "item q6r was answered yes (1) although q6 is no (0), so the form would have skipped "
        "it; the answer is kept and scored",
    ]


def test_consistent_cssrs_is_not_flagged() -> None:
    assert cssrs(1, 1, 0, 0, 0, 1, 0).inconsistent == []
    assert cssrs(0, 0, None, None, None, 0, None).inconsistent == []


def test_cssrs_undetermined_risk_names_the_items_to_ask() -> None:
    recency_unknown = cssrs(0, 0, None, None, None, 1, None)
    assert (recency_unknown.risk, recency_unknown.risk_undetermined_by) == (None, ["q6r"])
    intent_unknown = cssrs(1, 1, 1, None, None, 0, None)
    assert (intent_unknown.risk, intent_unknown.risk_undetermined_by) == (None, ["q4", "q5"])
    assert cssrs(1, 1, 1, 1, None, 0, None).risk_undetermined_by == []  # high regardless


def test_critical_screen_ignores_problems_elsewhere_on_the_form() -> None:
    # A wrong code, a missing answer and an extra answer never hide item 9.
    screen = critical_screen("phq9", [7, None, 0, 0, 0, 0, 0, 0, 3, 1])
    assert (screen.critical, screen.risk) == ([9], None)
    assert critical_screen("phq9", [0] * 8 + [9]).critical == []  # not a valid code
    cssrs_screen = critical_screen("cssrs", [0, 0, "x", None, None, 1])
    assert (cssrs_screen.critical, cssrs_screen.risk_undetermined_by) == (["q6"], ["q6r"])


def test_cssrs_q6r_no_after_q6_no_is_accepted() -> None:
    assert cssrs(0, 0, None, None, None, 0, 0).risk == "none"


def test_cssrs_missing_answers_leave_risk_undetermined() -> None:
    result = cssrs(1, 1, 1, None, 0, 0, None)  # intent (q4) never asked
    assert (result.risk, result.critical, result.critical_not_assessed) == (
        None,
        ["q1", "q2", "q3"],
        ["q4"],
    )
    assert cssrs(0, 0, None, None, None, 1, None).risk is None  # recency of behaviour unknown
    none_yet = cssrs(None, 0, None, None, None, 0, None)
    assert (none_yet.risk, none_yet.positive_screen) == (None, None)


def test_cssrs_high_risk_is_determined_despite_missing_answers() -> None:
    result = cssrs(None, None, None, 1, None, None, None)
    assert (result.risk, result.critical, result.positive_screen) == ("high", ["q4"], True)


# --------------------------------------------------------------------------- DERS-16


def test_ders16_total_and_subscales() -> None:
    answers: Answers = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1]
    result = score("ders16", answers)
    assert result.total == 46
    assert result.subscales == {
        "clarity": 3,  # 1, 2
        "goals": 10,  # 3, 7, 15
        "impulse": 8,  # 4, 8, 11
        "strategies": 13,  # 5, 6, 12, 14, 16
        "nonacceptance": 12,  # 9, 10, 13
    }
    assert (result.band, result.positive_screen) == (None, None)


# --------------------------------------------------------------------------- K10


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (10, "low"),
        (15, "low"),
        (16, "moderate"),
        (19, "moderate"),
        (20, "moderate"),
        (21, "moderate"),
        (22, "high"),
        (29, "high"),
        (30, "very high"),
        (50, "very high"),
    ],
)
def test_k10_band_edges(total: int, band: str) -> None:
    result = score("k10", answers_for_total("k10", total))
    assert (result.total, result.band, result.positive_screen) == (total, band, total >= 20)


# --------------------------------------------------------------------------- CORE-10


def test_core10_reverse_items_2_and_3() -> None:
    assert score("core10", [0] * 10).total == 8
    assert score("core10", [0, 4, 4, 0, 0, 0, 0, 0, 0, 0]).total == 0


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "healthy"),
        (5, "healthy"),
        (6, "low"),
        (10, "low"),
        (11, "mild"),
        (14, "mild"),
        (15, "moderate"),
        (19, "moderate"),
        (20, "moderately severe"),
        (24, "moderately severe"),
        (25, "severe"),
        (40, "severe"),
    ],
)
def test_core10_band_edges(total: int, band: str) -> None:
    result = score("core10", answers_for_total("core10", total))
    assert (result.total, result.band, result.positive_screen) == (total, band, total >= 11)
    assert result.prorated is False


def with_item_missing(answers: Answers, item: int) -> Answers:
    changed = list(answers)
    changed[item - 1] = None
    return changed


@pytest.mark.parametrize(
    ("answered_sum", "total", "band", "positive"),
    [
        (5, 5.6, "healthy", False),  # 50/9 = 5.56 lies between 0-5 and 6-10: lower band
        (9, 10.0, "low", False),
        (10, 11.1, "mild", True),  # 100/9 = 11.11
        (17, 18.9, "moderate", True),
        (18, 20.0, "moderately severe", True),
        (23, 25.6, "severe", True),
    ],
)
def test_core10_prorates_exactly_one_missing_item(
    answered_sum: int, total: float, band: str, positive: bool
) -> None:
    # Item 10 is missing; the keyed scores of items 1-9 sum to `answered_sum`.
    answers = with_item_missing(answers_for_total("core10", answered_sum), 10)
    result = score("core10", answers)
    assert (result.total, result.band, result.positive_screen) == (total, band, positive)
    assert result.prorated is True
    assert result.exact_total == Fraction(10 * answered_sum, 9)


def test_core10_two_missing_items_no_total() -> None:
    answers = with_item_missing(with_item_missing([2] * 10, 1), 4)
    result = score("core10", answers)
    assert (result.total, result.band, result.positive_screen, result.prorated) == (
        None,
        None,
        None,
        False,
    )


def test_core10_item6_critical_before_totals() -> None:
    result = score("core10", [None, None, None, None, None, 1, None, None, None, None])
    assert (result.critical, result.total) == ([6], None)
    assert score("core10", [0] * 10).critical == []


def test_core10_missing_item6_prorates_total_but_is_not_assessed() -> None:
    result = score("core10", with_item_missing([1] * 10, 6))
    assert (result.critical, result.critical_not_assessed, result.prorated) == ([], [6], True)
    # keyed: seven items at 1, reverse-keyed items 2 and 3 at 4 - 1 = 3 -> 13; 130/9 = 14.44
    assert (result.total, result.band) == (14.4, "mild")


# --------------------------------------------------------------------------- general errors


def test_wrong_answer_count_names_the_item() -> None:
    with pytest.raises(AnswerError, match=r"^item 9: missing"):
        score("phq9", [0] * 8)
    with pytest.raises(AnswerError, match=r"^item 10: phq9 has only 9 items"):
        score("phq9", [0] * 10)
    with pytest.raises(AnswerError, match=r"^item q6r: missing"):
        score("cssrs", [0, 0, None, None, None, 0])


def test_non_integer_answers_are_rejected() -> None:
    with pytest.raises(AnswerError, match=r"^item 1: True is not a whole number"):
        score("phq9", [True, 0, 0, 0, 0, 0, 0, 0, 0])


def test_unknown_instrument() -> None:
    with pytest.raises(LookupError, match="unknown instrument 'phq10'"):
        score("phq10", [0])


# --------------------------------------------------------------------------- properties

PHQ9_TABLE = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate")]
PHQ9_TABLE += [(15, 19, "moderately severe"), (20, 27, "severe")]
PHQ9_ORDER = [label for _, _, label in PHQ9_TABLE]
phq9_answers = st.lists(st.integers(0, 3), min_size=9, max_size=9)


@settings(max_examples=60, deadline=None)
@given(phq9_answers)
def test_phq9_total_is_the_sum_and_band_follows_the_table(answers: list[int]) -> None:
    result = score("phq9", list(answers))
    total = sum(answers)
    assert result.total == total
    assert result.band == next(label for low, high, label in PHQ9_TABLE if low <= total <= high)
    assert result.positive_screen is (total >= 10)
    assert result.critical == ([9] if answers[8] >= 1 else [])


@settings(max_examples=60, deadline=None)
@given(phq9_answers, st.integers(0, 8))
def test_phq9_band_is_monotone(answers: list[int], index: int) -> None:
    higher = list(answers)
    higher[index] = min(3, higher[index] + 1)
    before, after = score("phq9", list(answers)).band, score("phq9", list(higher)).band
    assert before is not None and after is not None
    assert PHQ9_ORDER.index(after) >= PHQ9_ORDER.index(before)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=10, max_size=10), st.integers(1, 10))
def test_core10_proration_property(answers: list[int], missing: int) -> None:
    partial: Answers = with_item_missing(list(answers), missing)
    core10 = get_instrument("core10")
    keyed = sum(
        item.keyed(a) for item, a in zip(core10.items, partial, strict=True) if a is not None
    )
    result = score("core10", partial)
    assert result.total == round_half_up(Fraction(10 * keyed, 9), 1)
    assert result.band == _band(core10, Fraction(10 * keyed, 9))
    assert result.critical == ([6] if missing != 6 and answers[5] > 0 else [])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=6, max_size=6))
def test_brs_mean_stays_in_range(answers: list[int]) -> None:
    result = score("brs", list(answers))
    assert isinstance(result.total, float)
    assert 1.0 <= result.total <= 5.0
    keyed = [a if i % 2 == 0 else 6 - a for i, a in enumerate(answers)]
    assert result.total == round_half_up(Fraction(sum(keyed), 6), 2)
