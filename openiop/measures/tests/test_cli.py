"""`openiop score|rci|cutoff`: exact JSON output and every error path (exit 2, item named)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from openiop.measures.cli import cutoff_main, rci_main, score_main

Main = Callable[[list[str]], int]
SCORE_KEYS = [
    "instrument",
    "total",
    "band",
    "subscales",
    "positive_screen",
    "critical",
    "risk",
    "prorated",
]


def run(main: Main, argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv.split())
    out, err = capsys.readouterr()
    return status, out, err


def ok_json(main: Main, argv: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    status, out, err = run(main, argv, capsys)
    assert status == 0, err
    assert out.count("\n") == 1  # one JSON object on one line
    payload = json.loads(out)
    assert isinstance(payload, dict)
    return payload


def error(main: Main, argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    status, out, err = run(main, argv, capsys)
    assert (status, out) == (2, "")
    assert "Traceback" not in err
    return err.strip()


# --------------------------------------------------------------------------- score


def test_score_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, "phq9 2 2 2 2 2 1 1 1 1", capsys)
    assert list(payload) == SCORE_KEYS
    assert payload == {
        "instrument": "phq9",
        "total": 14,
        "band": "moderate",
        "subscales": {},
        "positive_screen": True,
        "critical": [9],
        "risk": None,
        "prorated": False,
    }


def test_score_cssrs_uses_item_names(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, "cssrs 1 1 1 0 1 0 -", capsys)
    assert (payload["critical"], payload["risk"]) == (["q1", "q2", "q3", "q5"], "high")


@pytest.mark.parametrize(
    ("argv", "critical", "risk", "flagged"),
    [
        ("cssrs 0 0 1 0 0 0 -", ["q3"], "moderate", ["q3", "q4", "q5"]),
        ("cssrs 0 0 - - - 0 1", ["q6r"], "high", ["q6r"]),
    ],
)
def test_score_cssrs_keeps_answers_to_skipped_items(
    argv: str,
    critical: list[str],
    risk: str,
    flagged: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(score_main, argv, capsys)
    assert status == 0, err
    payload = json.loads(out)
    assert list(payload) == SCORE_KEYS  # the contract's keys, nothing added
    assert (payload["critical"], payload["risk"], payload["positive_screen"]) == (
        critical,
        risk,
        True,
    )
    notes = [line for line in err.splitlines() if "inconsistent" in line]
    assert [line.split("item ")[1].split(" ")[0] for line in notes] == flagged
    assert "review it" in notes[0]


def test_score_cssrs_names_what_leaves_risk_undetermined(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(score_main, "cssrs 0 0 - - - 1 -", capsys)
    assert (status, json.loads(out)["risk"], json.loads(out)["critical"]) == (0, None, ["q6"])
    assert "risk not determined until q6r is asked" in err


def test_score_core10_prorated(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, "core10 1 2 3 4 - 1 2 3 4 1", capsys)
    assert (payload["total"], payload["band"], payload["prorated"]) == (
        21.1,
        "moderately severe",
        True,
    )
    assert payload["critical"] == [6]


def test_score_bam_subscales(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, "bam 1 2 3 0 1 2 4 3 4 2 1 3 4 4 0 4 3", capsys)
    assert payload["subscales"] == {"use": 3, "risk": 10, "protective": 21}
    assert payload["total"] is None


@pytest.mark.parametrize("sex_args", ["--sex female", "--sex=female", "--sex FEMALE"])
def test_score_auditc_sex_forms(sex_args: str, capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, f"auditc 1 1 1 {sex_args}", capsys)
    assert (payload["total"], payload["positive_screen"]) == (3, True)


def test_score_auditc_sex_before_answers(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(score_main, "auditc --sex male 1 1 1", capsys)
    assert payload["positive_screen"] is False


def test_score_missing_critical_item_noted_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(score_main, "phq9 1 1 1 1 1 1 1 1 -", capsys)
    assert status == 0
    assert json.loads(out)["critical"] == []
    assert "critical item 9 was not answered" in err


def test_score_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(score_main, "--help", capsys)
    assert status == 0
    assert out.startswith("usage: openiop score")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("phq9 1 2 1 5 1 2 1 2 1", "item 4: 5 is out of range 0–3"),
        ("phq9 1 2 -1 0 1 2 1 2 1", "item 3: -1 is out of range 0–3"),
        ("phq9 1 x 1 0 1 2 1 2 1", "item 2: 'x' is not a whole number"),
        ("phq9 1 1.5 1 0 1 2 1 2 1", "item 2: '1.5' is not a whole number"),
        ("phq9 1 2 1 2 1 2 1 2", "item 9: missing: phq9 takes 9 answers"),
        ("phq9 1 2 1 2 1 2 1 2 1 0", "item 10: phq9 has only 9 items"),
        ("phq9", "item 1: missing"),
        ("audit 0 0 0 0 0 0 0 0 3 0", "item 9: 3 is not a valid code (allowed: 0, 2, 4)"),
        ("auditc 1 1 1", "auditc: --sex female|male is required"),
        ("auditc 1 1 1 --sex other", "sex used for scoring must be one of female, male"),
        ("auditc 1 1 1 --sex", "--sex needs a value"),
        ("cssrs 0 0 1 0 0 0 2", "item q6r: 2 is out of range 0–1"),
        ("cssrs 0 0 - - - 0", "item q6r: missing"),
        ("cssrs 0 0 - - - 0 - 1", "item #8: cssrs has only 7 items"),
        ("ucla3 0 1 1", "item 1: 0 is out of range 1–3"),
        ("bam 1 1 1 1 1 1 9 1 1 1 1 1 1 1 1 1 1", "item 7: 9 is out of range 0–4"),
        ("phq10 1", "unknown instrument 'phq10'"),
        ("phq9 --verbose 1", "unknown option --verbose"),
        ("", "missing INSTRUMENT"),
    ],
)
def test_score_errors_name_the_item(
    argv: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in error(score_main, argv, capsys)


def test_score_disabled_by_licence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    err = error(score_main, "dast10 0 0 0 0 0 0 0 0 0 0", capsys)
    assert "dast10 is disabled by licence" in err
    monkeypatch.delenv("OPENIOP_DISABLE_NONCOMMERCIAL")
    assert ok_json(score_main, "dast10 0 0 0 0 0 0 0 0 0 0", capsys)["total"] == 1


# --------------------------------------------------------------------------- rci


def test_rci_t6(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(rci_main, "--pre 18 --post 9 --sd 5.0 --r .84 --cutoff 10", capsys)
    assert payload == {
        "change": -9.0,
        "s_diff": 2.828427,
        "rc": -3.181981,
        "reliable": "improved",
        "category": "recovered",
    }


def test_rci_without_cutoff_is_not_recovered(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(rci_main, "--pre 18 --post 9 --sd 5.0 --r .84", capsys)
    assert payload["category"] == "improved"


def test_rci_z_and_higher_is_better(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "--pre 20 --post 26 --sd 5 --r .8 --z 1.645 --higher-is-better"
    payload = ok_json(rci_main, argv, capsys)
    assert (payload["rc"], payload["reliable"]) == (1.897367, "improved")


def test_rci_negative_values_parse(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(rci_main, "--pre -1 --post -9 --sd 5 --r .84", capsys)
    assert payload["change"] == -8.0


def test_rci_instrument(capsys: pytest.CaptureFixture[str]) -> None:
    payload = ok_json(rci_main, "--pre 16 --post 9 --instrument phq9", capsys)
    assert payload == {
        "change": -7.0,
        "s_diff": None,
        "rc": None,
        "reliable": "improved",
        "category": "recovered",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("--pre 18 --post 9 --instrument phq9 --sd 5", "do not combine it with --sd"),
        ("--pre 18 --post 9 --instrument phq9 --higher-is-better", "--higher-is-better"),
        ("--pre 18 --post 9 --sd 5", "--r required"),
        ("--pre 18 --post 9", "--sd and --r required"),
        ("--pre x --post 9 --sd 5 --r .8", "argument --pre: 'x' is not a number"),
        ("--pre 18 --post nan --sd 5 --r .8", "argument --post: 'nan' is not a finite number"),
        ("--post 9 --sd 5 --r .8", "--pre"),
        ("--pre 18 --post 9 --sd 5 --r 1", "--r: 1.0 must be at least 0 and less than 1"),
        ("--pre 18 --post 9 --sd 0 --r .8", "--sd: 0.0 must be a number greater than 0"),
        ("--pre 18 --post 9 --sd 5 --r .8 --z 0", "--z: 0.0 must be"),
        ("--pre 20 --post 9 --instrument k10", "k10 has no published reliable-change"),
        ("--pre 30 --post 9 --instrument phq9", "--pre: 30.0 is outside the phq9 total range"),
        ("--pre 20 --post 9 --instrument nope", "unknown instrument 'nope'"),
        ("--pre 20 --post 9 --sd 5 --r .8 --bogus", "unrecognized arguments: --bogus"),
    ],
)
def test_rci_errors(argv: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in error(rci_main, argv, capsys)


def test_rci_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(rci_main, "--help", capsys)
    assert status == 0
    assert "recovered" in out


# --------------------------------------------------------------------------- cutoff


def test_cutoff_t2(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "--m-dys 40 --sd-dys 7.5 --m-fun 60 --sd-fun 7.5 --higher-is-better"
    assert ok_json(cutoff_main, argv, capsys) == {"a": 55.0, "b": 45.0, "c": 50.0}


def test_cutoff_t3(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "--m-dys 1.81 --sd-dys 0.53 --m-fun 0.72 --sd-fun 0.57"
    assert ok_json(cutoff_main, argv, capsys) == {"a": 0.75, "b": 1.86, "c": 1.284818}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("--m-dys 40 --sd-dys 7.5 --m-fun 60", "--sd-fun"),
        ("--m-dys 40 --sd-dys 7.5 --m-fun 60 --sd-fun 7.5", "--m-fun: 60.0 must be below"),
        ("--m-dys 40 --sd-dys -1 --m-fun 30 --sd-fun 7.5", "--sd-dys: -1.0 must be"),
        ("--m-dys a --sd-dys 1 --m-fun 30 --sd-fun 7.5", "argument --m-dys: 'a' is not a number"),
    ],
)
def test_cutoff_errors(argv: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in error(cutoff_main, argv, capsys)


# --------------------------------------------------------------------------- entry point


def _openiop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[3]
    return subprocess.run(
        [sys.executable, "-m", "openiop.cli", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def test_entry_point_dispatches_score() -> None:
    done = _openiop("score", "phq9", "1", "2", "1", "2", "1", "2", "1", "2", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 13


def test_entry_point_error_has_no_traceback() -> None:
    done = _openiop("score", "dast10", *["0"] * 10, env={"OPENIOP_DISABLE_NONCOMMERCIAL": "1"})
    assert (done.returncode, done.stdout) == (2, "")
    assert "disabled by licence" in done.stderr
    assert "Traceback" not in done.stderr
