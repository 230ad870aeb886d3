"""What staff must follow up on an administration (clinical.md section 3).

- A critical item left blank (PHQ-9 item 9, CORE-10 item 6, a C-SSRS question) is "not
  assessed", never 0: staff are asked to ask it.
- A C-SSRS risk that a missing answer leaves undetermined is treated as high until it is asked.
- Answers given to items that skip logic would have skipped are kept and scored, and the
  administration is marked inconsistent for the clinician to review with the participant.
"""

from __future__ import annotations

from typing import Any

from openiop.measures.instruments import Instrument, all_instruments
from openiop.measures.models import Assessment
from openiop.measures.scoring import critical_screen, inconsistency_notes


def review_prompts(inst: Instrument, assessment: Assessment) -> dict[str, Any]:
    """Template context for `measures/_review_prompts.html` (empty lists: nothing to do)."""
    answers = list(assessment.answers)
    undetermined = []
    if inst.risk is not None and not assessment.risk and assessment.critical:
        undetermined = critical_screen(inst.code, answers).risk_undetermined_by
    return {
        "assessment": assessment,
        "ask_items": [i for i in inst.items if i.ref in assessment.critical_not_assessed],
        "risk_undetermined_by": undetermined,
        "inconsistent_notes": inconsistency_notes(inst, answers) if assessment.inconsistent else [],
    }


def needs_review(assessment: Assessment) -> bool:
    return assessment.is_valid and bool(
        assessment.critical_not_assessed
        or assessment.inconsistent
        or (assessment.instrument == "cssrs" and assessment.critical and not assessment.risk)
    )


def chart_review(assessments: list[Assessment]) -> list[dict[str, Any]]:
    """For the chart: the latest valid administration of each instrument, where it still
    needs follow-up (a later administration of the same instrument supersedes it)."""
    latest: dict[str, Assessment] = {}
    for assessment in assessments:  # oldest first
        if assessment.is_valid:
            latest[assessment.instrument] = assessment
    by_code = {inst.code: inst for inst in all_instruments()}
    return [
        review_prompts(by_code[a.instrument], a)
        for a in latest.values()
        if a.instrument in by_code and needs_review(a)
    ]
