"""`openiop plan-week INPUT.json [-o OUTPUT.json] [--time-limit SECONDS] [--seed N]`.

Exit status: 0 with a plan (also when some participants cannot reach the minimum: they are
listed with reasons), 2 on unreadable or malformed input or bad options, with a one-line
message on stderr naming the offending field. Never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from openiop.planner.schema import PlanInputError, parse_input
from openiop.planner.solver import DEFAULT_TIME_LIMIT, solve

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse would call sys.exit itself; we turn errors into a return code instead so that
    # main() is callable from tests and from openiop.cli without killing the process.
    def error(self, message: str) -> Any:
        raise _ArgumentError(message)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _seed(text: str) -> int:
    # CP-SAT's random_seed is a 32-bit integer; anything else would fail deep inside OR-Tools.
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and {2**31 - 1}")
    return value


def _parser() -> _Parser:
    parser = _Parser(
        prog="openiop plan-week",
        description=(
            "Plan one week of an Intensive Outpatient Program: place participants into groups "
            "and book individual/family sessions so that as many as possible reach the weekly "
            "minimum (input schema openiop.plan-week/1, output openiop.plan-week-result/1)."
        ),
    )
    parser.add_argument("input", metavar="INPUT.json", help="planner input ('-' for stdin)")
    parser.add_argument("-o", "--output", metavar="OUTPUT.json", help="write the plan here")
    parser.add_argument(
        "--time-limit",
        type=_positive_seconds,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"solver time limit (default {DEFAULT_TIME_LIMIT:g})",
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, metavar="N", help="random seed (default 0)"
    )
    return parser


def _read(source: str) -> Any:
    """Decoded JSON of the input; PlanInputError (naming the file) if unreadable."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInputError(source, f"cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanInputError(
            source, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _ArgumentError as exc:
        print(f"openiop plan-week: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_OK
    try:
        plan_input = parse_input(_read(args.input))
    except PlanInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    result = solve(plan_input, time_limit=args.time_limit, seed=args.seed)
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"openiop plan-week: cannot write {args.output}: {exc}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return EXIT_OK
