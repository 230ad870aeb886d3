"""The measures hook: a scored assessment that endorses a critical item opens a safety event.

PHQ-9 item 9 ≥ 1 and CORE-10 item 6 > 0 are urgent and prompt a same-day C-SSRS: item 9 has
many false positives, so it triggers assessment, not a risk label. Any C-SSRS yes opens an
event whose severity follows the screener's risk (high → "high": immediate precautions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openiop.safety.models import SafetyEvent, Severity, Source

if TYPE_CHECKING:
    from openiop.measures.models import Assessment

CSSRS_SEVERITY = {"high": Severity.HIGH, "moderate": Severity.URGENT, "low": Severity.REVIEW}


def _item(answers: list[Any], number: int) -> Any:
    return answers[number - 1] if len(answers) >= number else None


def raise_for_assessment(assessment: Assessment) -> SafetyEvent | None:
    from openiop.safety.actions import safety_event_raise

    critical = list(assessment.critical or [])
    if not critical or getattr(assessment, "entered_in_error", False):
        return None
    answers = list(assessment.answers or [])
    code = assessment.instrument
    if code == "phq9" and 9 in critical:
        source, severity = Source.PHQ9_ITEM9, Severity.URGENT
        detail = (
            f"PHQ-9 item 9 answered {_item(answers, 9)}: assess today with a C-SSRS "
            "(item 9 triggers assessment, not a risk label)."
        )
    elif code == "core10" and 6 in critical:
        source, severity = Source.CORE10_ITEM6, Severity.URGENT
        detail = f"CORE-10 item 6 answered {_item(answers, 6)}: assess today with a C-SSRS."
    elif code == "cssrs":
        risk = assessment.risk or "low"
        source, severity = Source.CSSRS, CSSRS_SEVERITY.get(risk, Severity.REVIEW)
        items = ", ".join(str(c) for c in critical)
        detail = f"C-SSRS screener: risk {risk}; yes to {items}."
    else:
        return None
    return safety_event_raise(
        actor=assessment.entered_by,
        participant=assessment.participant,
        source=source,
        severity=severity,
        detail=detail,
        assessment_id=assessment.external_id,
    )


def _on_critical(assessment: Assessment) -> None:
    raise_for_assessment(assessment)


def register_measure_hooks() -> None:
    """Append the safety handler to measures' ON_CRITICAL, once, when measures is present."""
    try:
        from openiop.measures import hooks
    except ImportError:
        return
    if _on_critical not in hooks.ON_CRITICAL:
        hooks.ON_CRITICAL.append(_on_critical)
