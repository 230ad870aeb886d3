"""A program's history of one instrument in the database: the rows the growth model is fitted
on, and a cheap fingerprint that tells pages whether the stored fit is still current.

Kept apart from openiop.measures.outcomes, which is pure (pandas and statsmodels, no Django), so
that `openiop not-on-track` judges with exactly the app's code without a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery

from openiop.measures import outcomes
from openiop.measures.models import Assessment, AssessmentStatus
from openiop.programs.models import Program


@dataclass(frozen=True)
class HistoryStamp:
    """A fingerprint of a program's history of one instrument: its latest id and latest change.
    A new administration raises both; marking one entered in error raises the latest change
    (assessments are never deleted). Two index lookups (assessment_history_*_idx), whatever
    the history's size: pages read it on every view."""

    last: int | None
    changed: Any

    @property
    def hash(self) -> str:
        changed = self.changed.isoformat() if self.changed is not None else ""
        return hashlib.sha256(f"{self.last}|{changed}".encode()).hexdigest()[:32]


def history_stamp(program: Program, instrument: str) -> HistoryStamp:
    return history_stamps(program, [instrument])[instrument]


def history_stamps(program: Program, instruments: Sequence[str]) -> dict[str, HistoryStamp]:
    """Each instrument's stamp in one query (an instrument with no rows: empty stamp).

    Two subqueries per instrument, each `ORDER BY ... DESC LIMIT 1` on its index, so the
    answer is index lookups at any history size. A `GROUP BY instrument` over the program's
    rows read every one of them (a sequential scan of 60,000 rows, about 80 ms, on every chart
    and runner view at 5,000 participants; bench/profile_pages.py)."""
    codes = list(dict.fromkeys(instruments))
    if not codes:
        return {}
    lookups: dict[str, Any] = {}
    for n, code in enumerate(codes):
        own = Assessment.objects.filter(program=OuterRef("pk"), instrument=code)
        lookups[f"last_{n}"] = Subquery(own.order_by("-id").values("id")[:1])
        lookups[f"changed_{n}"] = Subquery(own.order_by("-updated_at").values("updated_at")[:1])
    row: Any = Program.objects.filter(pk=program.pk).values(**lookups).get()
    return {
        code: HistoryStamp(row[f"last_{n}"], row[f"changed_{n}"]) for n, code in enumerate(codes)
    }


def certainly_thin(program: Program, instrument: str) -> bool:
    return instrument in certainly_thin_instruments(program, [instrument])


def certainly_thin_instruments(program: Program, instruments: Sequence[str]) -> set[str]:
    """Those of `instruments` whose history is too small for the model, read from two counts
    per instrument in one grouped query (a scan of the program's rows: only asked while no fit
    is stored). Each episode's first valid row is its intake, so valid - episodes bounds the
    post-intake rows from above, and this holds only where `history_is_thin` would hold on
    the full history too."""
    valid = Q(status=AssessmentStatus.SCORED, entered_in_error=False, total__isnull=False)
    grouped = (
        Assessment.objects.filter(program=program, instrument__in=instruments)
        .values("instrument")
        .annotate(
            valid=Count("id", filter=valid),
            episodes=Count("enrollment", filter=valid, distinct=True),
        )
        .order_by()
    )
    counts = {row["instrument"]: (row["episodes"], row["valid"]) for row in grouped}
    thin = set()
    for code in instruments:
        episodes, n_valid = counts.get(code, (0, 0))
        post = n_valid - episodes
        if episodes < outcomes.MIN_PARTICIPANTS or post < outcomes.MIN_ASSESSMENTS:
            thin.add(code)
    return thin


def valid_rows_by_instrument(
    program: Program, instruments: Sequence[str], participant_ids: Sequence[int]
) -> dict[str, list[Any]]:
    """These participants' valid rows of each instrument (time order), in one query."""
    rows: dict[str, list[Any]] = {code: [] for code in instruments}
    for code, *row in (
        Assessment.objects.valid()
        .filter(
            program=program,
            instrument__in=instruments,
            participant_id__in=participant_ids,
            total__isnull=False,
        )
        .order_by("administered_at", "id")
        .values_list("instrument", "enrollment_id", "participant_id", "administered_at", "total")
    ):
        rows[code].append(tuple(row))
    return rows


def valid_rows(program: Program, instrument: str) -> Any:
    return (
        Assessment.objects.valid()
        .filter(program=program, instrument=instrument, total__isnull=False)
        .order_by("administered_at", "id")
        .values_list("enrollment_id", "participant_id", "administered_at", "total")
    )
