"""What safety does when an assessment is recorded: a critical item opens a safety event, and a
clinician's C-SSRS marks the screen done on the events awaiting one.

`measures.actions.assessment_record` calls `raise_for_assessment` and then `link_cssrs`
directly, in its own transaction (critical items first). This module imports only measures'
scoring, never its actions, so the imports stay one-way (docs/safety.md).

PHQ-9 item 9 ≥ 1 and CORE-10 item 6 > 0 are urgent and prompt a same-day C-SSRS: item 9 has
many false positives, so it triggers assessment, not a risk label. Any C-SSRS yes opens an
event whose severity follows the screener's risk (high → "high": immediate precautions); a
risk left undetermined by a missing answer counts as high until that item is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from openiop.safety.models import SafetyEvent, Severity, Source

if TYPE_CHECKING:
    from openiop.measures.models import Assessment

CSSRS_SEVERITY = {"high": Severity.HIGH, "moderate": Severity.URGENT, "low": Severity.REVIEW}


def _item(answers: list[Any], number: int) -> Any:
    return answers[number - 1] if len(answers) >= number else None


def _cssrs_severity(risk: str, answers: list[Any]) -> tuple[str, str]:
    """(severity, how the risk reads). An undetermined risk (a missing answer could make it
    high, e.g. q6 yes with the recency q6r unknown) is treated as high until it is asked."""
    if risk in CSSRS_SEVERITY:
        return CSSRS_SEVERITY[risk], f"risk {risk}"
    from openiop.measures.scoring import critical_screen

    unknown = critical_screen("cssrs", answers).risk_undetermined_by
    ask = ", ".join(str(ref) for ref in unknown) or "the missing items"
    return Severity.HIGH, f"risk not determined: treated as high until {ask} is asked"


def _event_for(
    code: str, answers: list[Any], critical: list[Any], risk: str
) -> tuple[str, str, str] | None:
    """(source, severity, detail) of the event a critical answer raises, or None."""
    if code == "phq9" and 9 in critical:
        detail = (
            f"PHQ-9 item 9 answered {_item(answers, 9)}: assess today with a C-SSRS "
            "(item 9 triggers assessment, not a risk label)."
        )
        return Source.PHQ9_ITEM9, Severity.URGENT, detail
    if code == "core10" and 6 in critical:
        detail = f"CORE-10 item 6 answered {_item(answers, 6)}: assess today with a C-SSRS."
        return Source.CORE10_ITEM6, Severity.URGENT, detail
    if code == "cssrs":
        severity, reads = _cssrs_severity(risk, answers)
        items = ", ".join(str(c) for c in critical)
        return Source.CSSRS, severity, f"C-SSRS screener: {reads}; yes to {items}."
    return None


def _raise(
    *,
    actor: Any,
    participant: Any,
    code: str,
    answers: list[Any],
    critical: list[Any],
    risk: str,
    assessment_id: Any,
) -> SafetyEvent | None:
    from openiop.safety.actions import safety_event_raise

    made = _event_for(code, answers, critical, risk)
    if made is None:
        return None
    # One event per administration: the portal raises it before the rest of the form is
    # validated, and the hook that runs when the row is stored must not raise it again.
    earlier = SafetyEvent.objects.filter(
        program=participant.program, participant=participant, assessment_id=assessment_id
    ).first()
    if earlier is not None:
        return earlier
    source, severity, detail = made
    return safety_event_raise(
        actor=actor,
        participant=participant,
        source=source,
        severity=severity,
        detail=detail,
        assessment_id=assessment_id,
    )


def raise_for_assessment(assessment: Assessment) -> SafetyEvent | None:
    critical = list(assessment.critical or [])
    if not critical or getattr(assessment, "entered_in_error", False):
        return None
    return _raise(
        actor=assessment.entered_by,
        participant=assessment.participant,
        code=assessment.instrument,
        answers=list(assessment.answers or []),
        critical=critical,
        risk=assessment.risk or "",
        assessment_id=assessment.external_id,
    )


@transaction.atomic
def raise_for_answers(
    *, actor: Any, participant: Any, instrument: str, answers: list[Any], assessment_id: Any
) -> SafetyEvent | None:
    """Critical answers first (clinical.md section 3): open the safety event for whatever
    critical item was endorsed, in a transaction of its own, before the rest of the form is
    validated, so that a problem elsewhere on the form can never lose it. The row stored
    afterwards with `assessment_id` as its id is linked to this event, not given another."""
    from openiop.measures.scoring import critical_screen

    screen = critical_screen(instrument, answers)
    if not screen.critical:
        return None
    return _raise(
        actor=actor,
        participant=participant,
        code=instrument,
        answers=list(answers),
        critical=list(screen.critical),
        risk=screen.risk or "",
        assessment_id=assessment_id,
    )


# measures.models.Source.CLINICIAN, by value: safety does not import measures' models. The
# prompt asks staff for a same-day screen, so one a participant completes alone in the portal
# does not answer it (a positive one still opens its own event through raise_for_assessment).
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
