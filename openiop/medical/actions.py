"""Staff writes on medical-risk prompts: the medical review and the naloxone offer. Each
validates, writes inside one transaction and audits in it. Raising a prompt lives in
`risk.evaluate` (it runs inside `assessment_record`)."""

from __future__ import annotations

from django.db import transaction

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core import clock
from openiop.core.errors import ActionError, ConflictError
from openiop.medical.models import MedicalRiskPrompt, NaloxoneOutcome, PromptStatus

MAX_NOTE = 2000


def _note(value: str, field: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise ActionError({field: "Say what the review found and what was arranged."})
    if len(text) > MAX_NOTE:
        raise ActionError({field: f"Keep this under {MAX_NOTE} characters."})
    return text


def _lock(prompt: MedicalRiskPrompt) -> MedicalRiskPrompt:
    return MedicalRiskPrompt.objects.select_for_update().get(pk=prompt.pk)


def _status(prompt: MedicalRiskPrompt) -> str:
    if prompt.naloxone_outcome == NaloxoneOutcome.DECLINED:
        return PromptStatus.DECLINED
    if prompt.naloxone_outcome == NaloxoneOutcome.OFFERED:
        return PromptStatus.NALOXONE_OFFERED
    return PromptStatus.REVIEWED if prompt.reviewed_at else PromptStatus.OPEN


def _copy(source: MedicalRiskPrompt, target: MedicalRiskPrompt, fields: list[str]) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


@transaction.atomic
def medical_prompt_record_review(
    *, actor: User, prompt: MedicalRiskPrompt, note: str
) -> MedicalRiskPrompt:
    """Record the medical review (once): who, when and what it found or arranged."""
    text = _note(note, "note", required=True)
    locked = _lock(prompt)
    if locked.reviewed_at is not None:
        raise ConflictError({"prompt": "The medical review is already recorded."})
    locked.reviewed_by = actor
    locked.reviewed_at = clock.now()
    locked.review_note = text
    locked.status = _status(locked)
    fields = ["reviewed_by", "reviewed_at", "review_note", "status"]
    locked.save(update_fields=[*fields, "updated_at"])
    audit_record(actor=actor, action="update", obj=locked, detail={"step": "medical_review"})
    _copy(locked, prompt, fields)
    return locked


@transaction.atomic
def medical_prompt_record_naloxone(
    *, actor: User, prompt: MedicalRiskPrompt, outcome: str, note: str = ""
) -> MedicalRiskPrompt:
    """Record the naloxone offer (once): accepted (supplied or prescribed) or declined."""
    if outcome not in NaloxoneOutcome.values:
        raise ActionError({"outcome": "Choose whether naloxone was accepted or declined."})
    text = _note(note, "note", required=False)
    locked = _lock(prompt)
    if locked.naloxone_outcome:
        raise ConflictError({"prompt": "The naloxone offer is already recorded."})
    locked.naloxone_outcome = outcome
    locked.naloxone_by = actor
    locked.naloxone_at = clock.now()
    locked.naloxone_note = text
    locked.status = _status(locked)
    fields = ["naloxone_outcome", "naloxone_by", "naloxone_at", "naloxone_note", "status"]
    locked.save(update_fields=[*fields, "updated_at"])
    audit_record(
        actor=actor, action="update", obj=locked, detail={"step": "naloxone", "outcome": outcome}
    )
    _copy(locked, prompt, fields)
    return locked
