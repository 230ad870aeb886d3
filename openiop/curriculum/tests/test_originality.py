"""A crude guard against copying: no run of six words from well-known published handout lines.

The denylist holds a few widely quoted sentences from copyrighted manuals (DBT handouts, Feeling
Good). It is deliberately short; it catches careless pasting, not skilful paraphrase, so review of
new text by a person is still required (see docs/curriculum.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from openiop.curriculum.library import DATA_DIR

RUN = 6

DENYLIST = [
    # DBT skills handouts (Linehan 2014)
    "Wise mind is that part of each person that can know and experience truth",
    "Freedom from suffering requires acceptance from deep within of what is",
    "Describe the current situation (if necessary). Stick to the facts.",
    "No apologizing for being alive, for making a request at all",
    # Feeling Good (Burns 1980), distortion definitions
    "You see things in black-and-white categories. If your performance falls short of "
    "perfect, you see yourself as a total failure",
    "You see a single negative event as a never-ending pattern of defeat",
    "You pick out a single negative detail and dwell on it exclusively",
    "You reject positive experiences by insisting they don't count for some reason or other",
    "You assume that your negative emotions necessarily reflect the way things really are",
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))


def runs(text: str, size: int = RUN) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def library_text() -> str:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DATA_DIR.rglob("*.json"))]
    return "\n".join(s for doc in docs for s in strings(doc))


def shared_runs(text: str) -> list[str]:
    ours = runs(text)
    return [" ".join(run) for phrase in DENYLIST for run in runs(phrase) if run in ours]


def test_no_denylisted_run_in_library():
    assert shared_runs(library_text()) == []


def test_checker_catches_a_pasted_line():
    pasted = "Tell the group: you see a single negative event as a never-ending pattern of defeat."
    assert shared_runs(pasted)


def test_checker_ignores_skill_names():
    # Names are allowed; they are far shorter than a run.
    assert shared_runs("Practise DEAR MAN, GIVE, FAST, TIPP and ACCEPTS with wise mind.") == []
