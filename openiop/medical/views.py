"""Staff pages for medical-risk prompts: see one, record the medical review and the naloxone
offer. Every view is guarded by `@requires` (404 for outsiders, 403 without the
permission); prompts are looked up through the program and the participant."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.medical import actions, selectors
from openiop.medical.forms import NaloxoneForm, ReviewForm
from openiop.medical.models import MedicalRiskPrompt
from openiop.medical.rules import RULES
from openiop.participants import selectors as participant_selectors


def _prompt(
    request: ProgramRequest, participant_id: UUID, prompt_id: UUID
) -> tuple[ProgramAccess, MedicalRiskPrompt]:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    prompt = selectors.prompt_get(
        program=access.program, participant=participant, prompt_id=prompt_id
    )
    return access, prompt


def _detail_url(program_id: UUID, prompt: MedicalRiskPrompt) -> str:
    return reverse(
        "medical:detail",
        kwargs={
            "program_id": program_id,
            "participant_id": prompt.participant.external_id,
            "prompt_id": prompt.external_id,
        },
    )


def _render(
    request: HttpRequest,
    access: ProgramAccess,
    prompt: MedicalRiskPrompt,
    review_form: forms.Form | None = None,
    naloxone_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    rule = RULES.get(prompt.rule_id)
    context = {
        "program": access.program,
        "participant": prompt.participant,
        "prompt": prompt,
        "citations": [RULES.citations[key] for key in rule.citations] if rule else [],
        "can_record": access.can(Perm.ASSESSMENT_ENTER),
        "review_form": review_form or ReviewForm(),
        "naloxone_form": naloxone_form or NaloxoneForm(),
    }
    return render(request, "medical/detail.html", context, status=status)


@require_http_methods(["GET"])
@requires(Perm.ASSESSMENT_VIEW)
def prompt_detail(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, prompt_id: UUID
) -> HttpResponse:
    access, prompt = _prompt(request, participant_id, prompt_id)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=prompt.participant,
        detail={"view": "medical_risk_prompt"},
    )
    return _render(request, access, prompt)


@require_http_methods(["POST"])
@requires(Perm.ASSESSMENT_ENTER)
def prompt_review(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, prompt_id: UUID
) -> HttpResponse:
    access, prompt = _prompt(request, participant_id, prompt_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            actions.medical_prompt_record_review(
                actor=request_user(request), prompt=prompt, note=form.cleaned_data["note"]
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Medical review recorded.")
            return redirect(_detail_url(program_id, prompt))
    return _render(request, access, prompt, review_form=form, status=422)


@require_http_methods(["POST"])
@requires(Perm.ASSESSMENT_ENTER)
def prompt_naloxone(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, prompt_id: UUID
) -> HttpResponse:
    access, prompt = _prompt(request, participant_id, prompt_id)
    form = NaloxoneForm(request.POST)
    if form.is_valid():
        try:
            actions.medical_prompt_record_naloxone(
                actor=request_user(request),
                prompt=prompt,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Naloxone offer recorded.")
            return redirect(_detail_url(program_id, prompt))
    return _render(request, access, prompt, naloxone_form=form, status=422)
