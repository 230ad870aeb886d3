"""`openiop score`, `openiop rci` and `openiop cutoff` (clinical.md "Command-line contract").

Each prints one JSON object on stdout and returns 0; invalid input returns 2 with one line on
stderr that names the item or option (`item 4: 5 is out of range 0–3`), never a traceback.
Outside tools depend on the exact keys, so the JSON comes from the results' `to_dict()`.
Notes that do not change the result (a critical item left unanswered) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from openiop.measures.change import (
    ChangeError,
    ChangeResult,
    cutoffs,
    instrument_change,
    jacobson_truax,
)
from openiop.measures.instruments import SEXES, InstrumentDisabledError, Item, get_instrument
from openiop.measures.scoring import (
    AnswerError,
    ScoreResult,
    ScoringError,
    SexRequiredError,
    check_answer_count,
    inconsistency_notes,
    score,
)

EXIT_USAGE = 2
SKIPPED = "-"
SCORE_USAGE = (
    "usage: openiop score INSTRUMENT ANSWER... [--sex female|male]\n"
    "  ANSWER is each item's code in item order; '-' marks a skipped or missing item.\n"
    "  C-SSRS takes q1 q2 q3 q4 q5 q6 q6r (1 = yes, 0 = no); BAM item 7 takes one code 0-4\n"
    "  (recorded, never scored). --sex is the sex used for scoring (required by auditc)."
)
_INTEGER_RE = re.compile(r"^[+-]?\d+$")


class _UsageError(Exception):
    pass


def _fail(command: str, message: str) -> int:
    print(f"openiop {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _print_json(payload: Mapping[str, object]) -> None:
    print(json.dumps(payload))


# --------------------------------------------------------------------------- score


@dataclass(frozen=True)
class _ScoreArgs:
    code: str
    tokens: list[str]
    sex: str | None


def score_main(argv: list[str]) -> int:
    try:
        args = _parse_score_args(argv)
        if args is None:
            print(SCORE_USAGE)
            return 0
        result = _score(args)
    except SexRequiredError as exc:
        sexes = "|".join(SEXES)
        return _fail("score", f"{exc.code}: --sex {sexes} is required (sex used for scoring)")
    except (_UsageError, ScoringError, LookupError, InstrumentDisabledError) as exc:
        return _fail("score", str(exc))
    _print_json(result.to_dict())
    _note_not_assessed(result)
    _note_inconsistent(args, result)
    return 0


def _parse_score_args(argv: list[str]) -> _ScoreArgs | None:
    """Hand-rolled rather than argparse: answers such as '-' and '-1' must stay positional."""
    code: str | None = None
    tokens: list[str] = []
    sex: str | None = None
    args = iter(argv)
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if arg == "--sex":
            sex = next(args, None)
            if sex is None:
                raise _UsageError(f"--sex needs a value: {' or '.join(SEXES)}")
        elif arg.startswith("--sex="):
            sex = arg.partition("=")[2]
        elif arg.startswith("--"):
            raise _UsageError(f"unknown option {arg}\n{SCORE_USAGE}")
        elif code is None:
            code = arg
        else:
            tokens.append(arg)
    if code is None:
        raise _UsageError(f"missing INSTRUMENT\n{SCORE_USAGE}")
    return _ScoreArgs(code=code.lower(), tokens=tokens, sex=sex)


def _score(args: _ScoreArgs) -> ScoreResult:
    instrument = get_instrument(args.code)
    check_answer_count(instrument, len(args.tokens))
    answers = [_parse_answer(i, t) for i, t in zip(instrument.items, args.tokens, strict=True)]
    return score(instrument.code, answers, args.sex)


def _parse_answer(item: Item, token: str) -> int | None:
    if token == SKIPPED:
        return None
    if not _INTEGER_RE.match(token):
        raise AnswerError(item.ref, f"{token!r} is not a whole number (use '-' for a skipped item)")
    return int(token)


def _note_not_assessed(result: ScoreResult) -> None:
    # The JSON contract has no field for this, but an unanswered critical item is exactly what a
    # clinician must not overlook: it is "not assessed", not a reassuring 0.
    for ref in result.critical_not_assessed:
        print(
            f"openiop score: note: critical item {ref} was not answered (not assessed, not 0)",
            file=sys.stderr,
        )


def _note_inconsistent(args: _ScoreArgs, result: ScoreResult) -> None:
    # Skip logic decides what is asked, never what is kept: an answer to a skipped item is
    # scored (the JSON already counts it) and flagged here for the clinician to review.
    if result.inconsistent:
        instrument = get_instrument(args.code)
        answers = [_parse_answer(i, t) for i, t in zip(instrument.items, args.tokens, strict=True)]
        for note in inconsistency_notes(instrument, answers):
            print(f"openiop score: note: inconsistent: {note}; review it", file=sys.stderr)
    if result.risk is None and result.risk_undetermined_by:
        items = ", ".join(str(ref) for ref in result.risk_undetermined_by)
        print(
            f"openiop score: note: risk not determined until {items} is asked "
            "(treat as high until then)",
            file=sys.stderr,
        )


# --------------------------------------------------------------------------- rci and cutoff


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every error path returns status 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _rci_parser() -> _Parser:
    parser = _Parser(
        prog="openiop rci",
        allow_abbrev=False,
        description="Reliable change (Jacobson & Truax 1991) between two scores.",
        epilog="Without --cutoff (SD/r mode) the category cannot be 'recovered'.",
    )
    parser.add_argument("--pre", type=_finite, required=True)
    parser.add_argument("--post", type=_finite, required=True)
    parser.add_argument("--instrument", help="use the instrument's published threshold/cutoff")
    parser.add_argument("--sd", type=_finite, help="SD of the pre-treatment (clinical) norm")
    parser.add_argument("--r", type=_finite, help="reliability (test-retest preferred)")
    parser.add_argument("--z", type=_finite, help="default 1.96; CORE uses 1.645")
    parser.add_argument("--cutoff", type=_finite)
    parser.add_argument("--higher-is-better", action="store_true")
    return parser


def rci_main(argv: list[str]) -> int:
    try:
        ns = _rci_parser().parse_args(argv)
        result = _rci(ns)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except _UsageError as exc:
        return _fail("rci", str(exc))
    except ChangeError as exc:
        return _fail("rci", f"--{exc}")
    except (LookupError, InstrumentDisabledError) as exc:
        return _fail("rci", str(exc))
    _print_json(result.to_dict())
    return 0


def _rci(ns: argparse.Namespace) -> ChangeResult:
    if ns.instrument is not None:
        given = [f"--{n}" for n in ("sd", "r", "z", "cutoff") if getattr(ns, n) is not None]
        given += ["--higher-is-better"] if ns.higher_is_better else []
        if given:
            raise _UsageError(
                f"--instrument uses the instrument's published threshold and cutoff; "
                f"do not combine it with {', '.join(given)}"
            )
        return instrument_change(ns.instrument.lower(), ns.pre, ns.post)
    missing = [f"--{n}" for n in ("sd", "r") if getattr(ns, n) is None]
    if missing:
        raise _UsageError(f"{' and '.join(missing)} required (or give --instrument CODE)")
    return jacobson_truax(
        ns.pre,
        ns.post,
        sd=ns.sd,
        r=ns.r,
        z=1.96 if ns.z is None else ns.z,
        cutoff=ns.cutoff,
        higher_is_better=ns.higher_is_better,
    )


def _cutoff_parser() -> _Parser:
    parser = _Parser(
        prog="openiop cutoff",
        allow_abbrev=False,
        description="Jacobson & Truax cutoffs a, b and c.",
    )
    for name in ("--m-dys", "--sd-dys", "--m-fun", "--sd-fun"):
        parser.add_argument(name, type=_finite, required=True)
    parser.add_argument("--higher-is-better", action="store_true")
    return parser


def cutoff_main(argv: list[str]) -> int:
    try:
        ns = _cutoff_parser().parse_args(argv)
        result = cutoffs(
            m_dys=ns.m_dys,
            sd_dys=ns.sd_dys,
            m_fun=ns.m_fun,
            sd_fun=ns.sd_fun,
            higher_is_better=ns.higher_is_better,
        )
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except _UsageError as exc:
        return _fail("cutoff", str(exc))
    except ChangeError as exc:
        return _fail("cutoff", f"--{exc}")
    _print_json(result.to_dict())
    return 0
