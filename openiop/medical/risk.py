"""Evaluate the medical-risk rules when an assessment is recorded (ASAM dimension 1).

`measures.actions.assessment_record` calls `evaluate(assessment)` directly, after the safety
checks, inside its own transaction: a prompt is stored (and audited) with the assessment or
not at all. A rule whose participant already has an incomplete prompt for the same rule does
not add a second one; the open prompt already asks for the review.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.audit.actions import audit_record
from openiop.measures.instruments import Instrument, get_instrument
from openiop.measures.models import Assessment
from openiop.medical.models import MedicalRiskPrompt, PromptStatus
from openiop.medical.rules import RULES, RiskRule, RuleSet

INCOMPLETE = (PromptStatus.OPEN, PromptStatus.REVIEWED)


def evaluate(assessment: Assessment, rule_set: RuleSet = RULES) -> list[MedicalRiskPrompt]:
    """Raise a prompt for every rule the assessment's answers meet; returns the new ones."""
    rules = rule_set.for_instrument(assessment.instrument)
    if not rules or assessment.entered_in_error:
        return []
    instrument = get_instrument(assessment.instrument)
    raised = []
    for rule in rules:
        evidence = _evidence(rule, instrument, assessment)
        if evidence is None or _already_open(assessment, rule):
            continue
        raised.append(_raise(assessment, rule, rule_set.version, evidence))
    return raised


def _evidence(rule: RiskRule, instrument: Instrument, assessment: Assessment) -> str | None:
    """The answer that meets the rule, in words; None when the rule does not fire."""
    names = [item.name for item in instrument.items]
    index = names.index(rule.when.item)
    answers: Sequence[int | None] = assessment.answers
    code = answers[index] if index < len(answers) else None
    if code is None:
        return None
    if rule.when.type == "item":
        if rule.when.rule is None or not rule.when.rule.holds(code):
            return None
        return _describe(instrument, index, code)
    previous = _previous_code(assessment, index)
    if previous != 0 or code <= 0:
        return None
    return f"{_describe(instrument, index, code)}; previous {instrument.code.upper()} answer 0"


def _describe(instrument: Instrument, index: int, code: int) -> str:
    item = instrument.items[index]
    label = next((o.label for o in item.options if o.code == code), str(code))
    return f"{instrument.code.upper()} item {item.number} ({item.label}) = {code} ({label})"


def _previous_code(assessment: Assessment, index: int) -> int | None:
    """The item's code on the last valid administration before this one in the episode."""
    previous = (
        Assessment.objects.filter(
            program=assessment.program,
            participant=assessment.participant,
            enrollment=assessment.enrollment,
            instrument=assessment.instrument,
            entered_in_error=False,
            administered_at__lt=assessment.administered_at,
        )
        .order_by("-administered_at", "-id")
        .values_list("answers", flat=True)
        .first()
    )
    if previous is None or index >= len(previous):
        return None
    value = previous[index]
    return value if isinstance(value, int) else None


def _already_open(assessment: Assessment, rule: RiskRule) -> bool:
    return MedicalRiskPrompt.objects.filter(
        program=assessment.program,
        participant=assessment.participant,
        rule_id=rule.id,
        status__in=INCOMPLETE,
    ).exists()


def _raise(
    assessment: Assessment, rule: RiskRule, version: str, evidence: str
) -> MedicalRiskPrompt:
    prompt = MedicalRiskPrompt.objects.create(
        program=assessment.program,
        participant=assessment.participant,
        assessment_id=assessment.external_id,
        instrument=assessment.instrument,
        rule_id=rule.id,
        rules_version=version,
        risk=rule.risk,
        prompt=rule.prompt,
        evidence=evidence,
        naloxone_needed=rule.offers_naloxone,
        created_by=assessment.entered_by,
    )
    audit_record(
        actor=assessment.entered_by,
        action="create",
        obj=prompt,
        detail={"rule": rule.id, "risk": rule.risk, "assessment": str(assessment.external_id)},
    )
    return prompt
