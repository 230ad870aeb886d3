"""Reads of medical-risk prompts, always scoped to the program (style rule 7)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import Http404

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.medical.models import MedicalRiskPrompt
from openiop.participants.models import Participant
from openiop.programs.models import Program

RECENT_COMPLETE = 5


def prompt_get(*, program: Program, participant: Participant, prompt_id: UUID) -> MedicalRiskPrompt:
    """One prompt of this participant in this program, or 404."""
    try:
        return MedicalRiskPrompt.objects.select_related("reviewed_by", "naloxone_by").get(
            program=program, participant=participant, external_id=prompt_id
        )
    except (MedicalRiskPrompt.DoesNotExist, ValueError):
        raise Http404("prompt not found") from None


def prompts_for(*, participant: Participant) -> list[MedicalRiskPrompt]:
    return list(
        MedicalRiskPrompt.objects.filter(program=participant.program, participant=participant)
        .select_related("reviewed_by", "naloxone_by")
        .order_by("-created_at", "-id")
    )


def chart_medical_risk(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    """The chart panel: prompts still needing a step first, then the last few completed."""
    if not access.can(Perm.ASSESSMENT_VIEW):
        return {"medical_prompts": None}
    prompts = prompts_for(participant=participant)
    pending = [p for p in prompts if not p.complete]
    done = [p for p in prompts if p.complete][:RECENT_COMPLETE]
    return {
        "medical_prompts": pending + done,
        "medical_can_record": access.can(Perm.ASSESSMENT_ENTER),
    }
