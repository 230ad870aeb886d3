"""One clock (docs/architecture.md): "today" is a program's date, asked of `openiop.core.clock`.

These checks read the source, so a new `date.today()` fails the suite at once rather than on
the first evening someone runs it in the Americas. ruff's DTZ rules catch naive datetimes; these
also catch what DTZ cannot see: `timezone.now().date()` (a UTC date), `timezone.localdate()` and
`localtime()` (the server's zone), and `ZoneInfo(...)` built outside the seam.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEAM = ROOT / "openiop" / "core" / "clock.py"
SCANNED = [ROOT / "openiop", ROOT / "tests", ROOT / "bench", ROOT / "conftest.py"]


def _python_files() -> list[Path]:
    files: list[Path] = []
    for place in SCANNED:
        files.extend([place] if place.is_file() else sorted(place.rglob("*.py")))
    return [f for f in files if f != SEAM and "migrations" not in f.parts]


def _dotted(node: ast.expr) -> str:
    """`a.b.c` for a Name/Attribute chain, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


FORBIDDEN_CALLS = {
    "date.today": "the server's date; use clock.program_today(program)",
    "datetime.date.today": "the server's date; use clock.program_today(program)",
    "dt.date.today": "the server's date; use clock.program_today(program)",
    "datetime.today": "the server's wall clock; use clock.now()",
    "datetime.datetime.today": "the server's wall clock; use clock.now()",
    "datetime.now": "use clock.now() (an instant) or clock.program_now(program)",
    "datetime.datetime.now": "use clock.now() (an instant) or clock.program_now(program)",
    "dt.datetime.now": "use clock.now() (an instant) or clock.program_now(program)",
    "datetime.utcnow": "use clock.now()",
    "timezone.localdate": "the server's zone; use clock.program_today(program)",
    "timezone.localtime": "the server's zone; use clock.local_time(moment, program)",
    "localtime": "the server's zone; use clock.local_time(moment, program)",
    "localdate": "the server's zone; use clock.program_today(program)",
    "ZoneInfo": "build zones in one place: clock.zone(program)",
    "zoneinfo.ZoneInfo": "build zones in one place: clock.zone(program)",
}


def clock_violations(source: str) -> list[tuple[int, str, str]]:
    """(line, call, why) for every forbidden clock call in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name in FORBIDDEN_CALLS:
            found.append((node.lineno, name, FORBIDDEN_CALLS[name]))
        # now().date(): the UTC date of an instant, which is not the program's date.
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "date"
            and isinstance(node.func.value, ast.Call)
            and _dotted(node.func.value.func) in {"timezone.now", "clock.now", "now"}
        ):
            found.append((node.lineno, "now().date()", "a UTC date; use clock.program_today"))
    return found


def test_no_clock_outside_the_seam():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {call}() - {why}"
        for path in _python_files()
        for line, call, why in clock_violations(path.read_text())
    ]
    assert offences == [], "\n".join(offences)


@pytest.mark.parametrize(
    "snippet",
    [
        "from datetime import date\nx = date.today()",
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import datetime\nx = datetime.now()",
        "from datetime import UTC, datetime\nx = datetime.now(UTC)",
        "from django.utils import timezone\nx = timezone.now().date()",
        "from django.utils import timezone\nx = timezone.localdate()",
        "from django.utils.timezone import localtime\nx = localtime(y)",
        "import zoneinfo\nx = zoneinfo.ZoneInfo(program.time_zone)",
    ],
)
def test_the_check_catches_each_forbidden_form(snippet: str):
    assert clock_violations(snippet), snippet


def test_the_check_allows_the_seam_and_instants():
    allowed = (
        "from django.utils import timezone\n"
        "from openiop.core import clock\n"
        "a = timezone.now()\n"
        "b = clock.program_today(program)\n"
        "c = clock.local_date(a, program)\n"
        "d = session.starts_at.date()\n"
    )
    assert clock_violations(allowed) == []
