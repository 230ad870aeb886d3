"""The instrument files against clinical.md section 3, and the loader's strictness."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from openiop.measures.instruments import (
    DATA_DIR,
    Instrument,
    InstrumentDataError,
    all_instruments,
    get_instrument,
    load_instrument_file,
    load_instruments,
    noncommercial_disabled,
)

CODES = [
    "audit",
    "auditc",
    "bam",
    "brs",
    "core10",
    "cssrs",
    "dast10",
    "ders16",
    "gad7",
    "k10",
    "pcl5",
    "phq9",
    "ucla3",
    "who5",
]


def inst(code: str) -> Instrument:
    return next(i for i in all_instruments() if i.code == code)


def test_every_instrument_is_loaded() -> None:
    assert sorted(i.code for i in all_instruments()) == CODES
    assert sorted(p.stem for p in DATA_DIR.glob("*.json")) == CODES


@pytest.mark.parametrize("code", CODES)
def test_required_metadata(code: str) -> None:
    instrument = inst(code)
    assert instrument.name and instrument.version and instrument.licence.text
    assert re.search(r"\b(19|20)\d\d\b", instrument.citation)
    assert all(item.label and item.label == item.label.strip() for item in instrument.items)


# --------------------------------------------------------------------------- table facts

ITEMS_AND_CODES = {
    "phq9": (9, (0, 3)),
    "gad7": (7, (0, 3)),
    "pcl5": (20, (0, 4)),
    "audit": (10, (0, 4)),
    "auditc": (3, (0, 4)),
    "dast10": (10, (0, 1)),
    "bam": (17, (0, 4)),
    "who5": (5, (0, 5)),
    "ucla3": (3, (1, 3)),
    "brs": (6, (1, 5)),
    "cssrs": (7, (0, 1)),
    "ders16": (16, (1, 5)),
    "k10": (10, (1, 5)),
    "core10": (10, (0, 4)),
}


@pytest.mark.parametrize(("code", "expected"), ITEMS_AND_CODES.items())
def test_item_counts_and_code_ranges(code: str, expected: tuple[int, tuple[int, int]]) -> None:
    count, (low, high) = expected
    items = inst(code).items
    assert len(items) == count
    assert {(min(i.codes), max(i.codes)) for i in items} == {(low, high)}


def test_audit_items_9_10_codes() -> None:
    audit = inst("audit")
    assert [audit.items[n].codes for n in (8, 9)] == [(0, 2, 4), (0, 2, 4)]
    assert all(item.codes == (0, 1, 2, 3, 4) for item in audit.items[:8])


BANDS: dict[str, list[tuple[str, int | Fraction, int | Fraction]]] = {
    "phq9": [
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately severe", 15, 19),
        ("severe", 20, 27),
    ],
    "gad7": [("minimal", 0, 4), ("mild", 5, 9), ("moderate", 10, 14), ("severe", 15, 21)],
    "audit": [("zone i", 0, 7), ("zone ii", 8, 15), ("zone iii", 16, 19), ("zone iv", 20, 40)],
    "dast10": [
        ("none", 0, 0),
        ("low", 1, 2),
        ("moderate", 3, 5),
        ("substantial", 6, 8),
        ("severe", 9, 10),
    ],
    "who5": [("likely depression", 0, 28), ("poor wellbeing", 28, 50), ("adequate", 50, 100)],
    "brs": [("low", 1, 3), ("normal", 3, Fraction("4.30")), ("high", Fraction("4.30"), 5)],
    "k10": [("low", 10, 15), ("moderate", 16, 21), ("high", 22, 29), ("very high", 30, 50)],
    "core10": [
        ("healthy", 0, 5),
        ("low", 6, 10),
        ("mild", 11, 14),
        ("moderate", 15, 19),
        ("moderately severe", 20, 24),
        ("severe", 25, 40),
    ],
}


@pytest.mark.parametrize("code", CODES)
def test_band_labels_and_edges(code: str) -> None:
    bands = [(b.label, b.min, b.max) for b in inst(code).bands]
    assert bands == BANDS.get(code, [])


def test_exclusive_edges() -> None:
    # WHO-5 "<= 28", "<= 50"; BRS "< 3.00" and "> 4.30".
    assert [(b.min_exclusive, b.max_exclusive) for b in inst("who5").bands] == [
        (False, False),
        (True, False),
        (True, False),
    ]
    assert [(b.min_exclusive, b.max_exclusive) for b in inst("brs").bands] == [
        (False, True),
        (False, False),
        (True, False),
    ]


SCREENS: dict[str, tuple[str, float] | None] = {
    "phq9": (">=", 10),
    "gad7": (">=", 10),
    "pcl5": (">=", 33),
    "audit": (">=", 8),
    "dast10": (">=", 3),
    "who5": ("<=", 50),
    "ucla3": (">=", 6),
    "k10": (">=", 20),
    "core10": (">=", 11),
    "bam": None,
    "brs": None,
    "ders16": None,
}


@pytest.mark.parametrize(("code", "expected"), SCREENS.items())
def test_positive_screens(code: str, expected: tuple[str, float] | None) -> None:
    screen = inst(code).positive_screen
    if expected is None:
        assert screen is None
    else:
        assert screen is not None and screen.rule is not None
        assert (screen.rule.op, screen.rule.value) == expected


def test_auditc_screen_is_sex_specific_and_cssrs_any_yes() -> None:
    auditc = inst("auditc").positive_screen
    assert auditc is not None
    assert [(sex, r.op, r.value) for sex, r in auditc.by_sex] == [
        ("female", ">=", 3),
        ("male", ">=", 4),
    ]
    cssrs = inst("cssrs").positive_screen
    assert cssrs is not None and cssrs.kind == "any_yes"


SUBSCALES = {
    "pcl5": {
        "B": (1, 2, 3, 4, 5),
        "C": (6, 7),
        "D": (8, 9, 10, 11, 12, 13, 14),
        "E": (15, 16, 17, 18, 19, 20),
    },
    "bam": {"use": (4, 5, 6), "risk": (1, 2, 3, 8, 11, 15), "protective": (9, 10, 12, 13, 14, 16)},
    "ders16": {
        "clarity": (1, 2),
        "goals": (3, 7, 15),
        "impulse": (4, 8, 11),
        "strategies": (5, 6, 12, 14, 16),
        "nonacceptance": (9, 10, 13),
    },
}


@pytest.mark.parametrize("code", CODES)
def test_subscales(code: str) -> None:
    assert {s.name: s.items for s in inst(code).subscales} == SUBSCALES.get(code, {})


def test_ders16_subscales_marked_unverified() -> None:
    assert "subscales" in [marker.field for marker in inst("ders16").unverified]
    others = [i.code for i in all_instruments() if i.code != "ders16" and i.unverified]
    # Issue 17 marks what its source check could not confirm first-hand.
    assert others == ["bam", "cssrs", "k10", "pcl5", "ucla3"]


REVERSED = {"dast10": [3], "brs": [2, 4, 6], "core10": [2, 3]}
CRITICAL = {"phq9": [9], "core10": [6], "cssrs": ["q1", "q2", "q3", "q4", "q5", "q6", "q6r"]}


@pytest.mark.parametrize("code", CODES)
def test_reverse_keyed_and_critical_items(code: str) -> None:
    items = inst(code).items
    assert [i.number for i in items if i.reverse_keyed] == REVERSED.get(code, [])
    assert [i.ref for i in items if i.critical] == CRITICAL.get(code, [])


def test_critical_rules() -> None:
    phq9_9, core10_6 = inst("phq9").items[8].critical, inst("core10").items[5].critical
    assert phq9_9 is not None and (phq9_9.op, phq9_9.value) == (">=", 1)
    assert core10_6 is not None and (core10_6.op, core10_6.value) == (">", 0)


def test_scoring_methods_and_proration() -> None:
    methods = {i.code: i.scoring.method for i in all_instruments()}
    assert methods == {
        **dict.fromkeys(CODES, "sum"),
        "bam": "none",
        "cssrs": "none",
        "who5": "sum_x4",
        "brs": "mean",
    }
    assert [i.code for i in all_instruments() if i.proration] == ["core10"]
    proration = inst("core10").proration
    assert proration is not None and (proration.max_missing, proration.decimals) == (1, 1)
    assert inst("brs").scoring.decimals == 2


def test_bam_item7_unscored() -> None:
    bam = inst("bam")
    assert [i.number for i in bam.items if not i.scored] == [7]
    assert len(bam.items[6].sub_items) == 7


def test_higher_is_better() -> None:
    better = {i.code for i in all_instruments() if i.higher_is_better}
    assert better == {"who5", "brs"}
    assert inst("bam").higher_is_better is None
    assert inst("cssrs").higher_is_better is None


LOINC = {
    "phq9": ("44249-1", "44261-6"),
    "gad7": ("69737-5", "70274-6"),
    "audit": ("72110-0", "75624-7"),
    "auditc": ("72109-2", "75626-2"),
    "dast10": ("82666-9", "82667-7"),
    "cssrs": ("93373-9", None),
}


@pytest.mark.parametrize("code", CODES)
def test_only_verified_loinc_codes(code: str) -> None:
    instrument = inst(code)
    assert (instrument.loinc_panel, instrument.loinc_total) == LOINC.get(code, (None, None))
    item_codes = [i.loinc for i in instrument.items]
    expected = {
        "phq9": [None] * 8 + ["44260-8"],
        "gad7": ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"],
    }
    assert item_codes == expected.get(code, [None] * len(instrument.items))


@pytest.mark.parametrize(
    ("code", "expected"), [("phq9", (6, 10)), ("gad7", (4, 8)), ("core10", (6, 11))]
)
def test_reliable_change_parameters(code: str, expected: tuple[int, int]) -> None:
    params = inst(code).reliable_change
    assert params is not None and (params.threshold, params.cutoff) == expected


def test_no_other_reliable_change_parameters() -> None:
    with_params = [i.code for i in all_instruments() if i.reliable_change]
    assert with_params == ["core10", "gad7", "pcl5", "phq9", "who5"]


def test_licences() -> None:
    assert [i.code for i in all_instruments() if not i.licence.commercial_use_allowed] == [
        "core10",
        "cssrs",
        "dast10",
        "ders16",
    ]
    assert inst("core10").licence.modification_allowed is False
    assert {i.code for i in all_instruments() if i.licence.modification_allowed} == {
        "pcl5",
        "bam",
    }


def test_twelve_month_instruments_are_intake_and_discharge_only() -> None:
    assert {i.code for i in all_instruments() if i.administration} == {"audit", "dast10"}
    assert {i.code: i.recall_window.days for i in all_instruments() if i.recall_window} == {
        "phq9": 14,
        "gad7": 14,
        "pcl5": 30,
        "audit": 365,
        "auditc": 365,
        "dast10": 365,
        "bam": 30,
        "who5": 14,
        "cssrs": 30,
        "k10": 30,
        "core10": 7,
    }


@pytest.mark.parametrize(
    ("value", "disabled"),
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_noncommercial_switch_values(
    value: str, disabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", value)
    assert noncommercial_disabled() is disabled


def test_get_instrument_honours_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENIOP_DISABLE_NONCOMMERCIAL", raising=False)
    assert get_instrument("dast10").code == "dast10"


# --------------------------------------------------------------------------- loader strictness

Mutator = Callable[[dict[str, Any]], None]


def broken_copy(tmp_path: Path, code: str, mutate: Mutator) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(DATA_DIR, target)
    path = target / f"{code}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return target


def _set(path: str, value: Any) -> Mutator:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutator:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


@pytest.mark.parametrize(
    ("code", "mutate", "message"),
    [
        ("phq9", _set("items.8.critical.value", "x"), "field 'items[8].critical.value'"),
        ("phq9", _set("items.0.revers_keyed", True), "field 'items[0].revers_keyed': unknown"),
        ("phq9", _delete("citation"), "field 'citation': is required"),
        ("phq9", _set("licence.commercial_use_allowed", "yes"), "licence.commercial_use_allowed"),
        ("phq9", _set("bands.1.min", 4), "field 'bands[1]': overlaps"),
        ("phq9", _set("bands.1.min", 6), "field 'bands[1]': overlaps, leaves a gap"),
        ("phq9", _set("bands.2.label", "Moderate"), "field 'bands[2].label'"),
        ("phq9", _set("scoring.range.max", 28), "field 'scoring.range': does not match"),
        ("phq9", _set("loinc.panel", "44249-2"), "field 'loinc.panel'"),
        ("phq9", _set("items.8.loinc", "44260-7"), "field 'items[8].loinc'"),
        ("phq9", _set("code", "phq8"), "field 'code'"),
        ("phq9", _set("items.3.number", 5), "field 'items[3].number'"),
        ("phq9", _set("items.3.options", "nope"), "field 'items[3].options'"),
        ("phq9", _set("positive_screen.op", "=>"), "field 'positive_screen.op'"),
        ("phq9", _set("reliable_change.cutoff", 30), "field 'reliable_change.cutoff'"),
        ("pcl5", _set("subscales.0.items", [1, 2, 21]), "field 'subscales[0]'"),
        ("cssrs", _set("skip_rules.0.when", {"q9": 0}), "field 'skip_rules[0].when'"),
        ("cssrs", _set("risk.levels.0.any_of.0", {"q4": 2}), "risk.levels[0].any_of[0]"),
        ("ders16", _set("unverified.0.field", "nothing"), "field 'unverified[0].field'"),
        ("auditc", _set("positive_screen.by_sex", {"male": {}}), "positive_screen.by_sex"),
    ],
)
def test_malformed_file_names_file_and_field(
    tmp_path: Path, code: str, mutate: Mutator, message: str
) -> None:
    directory = broken_copy(tmp_path, code, mutate)
    with pytest.raises(InstrumentDataError) as info:
        load_instruments(directory)
    assert str(info.value).startswith(f"{code}.json: ")
    assert message in str(info.value)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "phq9.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InstrumentDataError, match=r"^phq9\.json: top level: cannot read JSON"):
        load_instrument_file(path)


def test_shipped_files_round_trip(tmp_path: Path) -> None:
    # A copy of the shipped directory loads to the same definitions (no hidden state).
    directory = broken_copy(tmp_path, "phq9", lambda data: None)
    assert load_instruments(directory) == {i.code: i for i in all_instruments()}
