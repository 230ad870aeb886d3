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


# measures.models.Source.CLINICIAN, by value: safety does not import measures' models. The
# prompt asks staff for a same-day screen, so one a participant completes alone in the portal
# does not answer it (a positive one still opens its own event through ON_CRITICAL).
CLINICIAN_SOURCE = "clinician"


def link_cssrs(assessment: Assessment) -> None:
    """A clinician's C-SSRS marks the screen done on the participant's events awaiting one."""
    from openiop.safety.actions import safety_events_cssrs_recorded

    if assessment.instrument != "cssrs" or assessment.source != CLINICIAN_SOURCE:
        return
    if getattr(assessment, "entered_in_error", False):
        return
    safety_events_cssrs_recorded(
        actor=assessment.entered_by,
        participant=assessment.participant,
        risk=assessment.risk,
        administered_at=assessment.administered_at,
    )


def register_measure_hooks() -> None:
    """Append the safety handlers to measures' hooks, once, when measures is present."""
    try:
        from openiop.measures import hooks
    except ImportError:
        return
    if _on_critical not in hooks.ON_CRITICAL:
        hooks.ON_CRITICAL.append(_on_critical)
    if link_cssrs not in hooks.ON_RECORDED:
        hooks.ON_RECORDED.append(link_cssrs)
