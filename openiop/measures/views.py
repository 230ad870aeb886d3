"""Staff pages for outcome measures (htmx, server-rendered).

Every view is guarded by `@requires` (404 for outsiders, 403 without the permission) and
starts with the scoped participant lookup (404); every page that shows a participant records
a read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core import clock
from openiop.core.clock import program_today
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.measures import actions, selectors
from openiop.measures.chart import trajectories
from openiop.measures.forms import (
    AssessmentEntryForm,
    EnteredInErrorForm,
    ScheduleForm,
    critical_warning,
    item_field_name,
    ordered_items,
)
from openiop.measures.instruments import Instrument, all_instruments, is_enabled
from openiop.measures.models import Assessment, Cadence
from openiop.measures.review import review_prompts
from openiop.measures.schedule import allowed_cadences
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant


def _participant_page(
    request: ProgramRequest, participant_id: UUID
) -> tuple[ProgramAccess, Participant]:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _detail_url(program_id: UUID, assessment: Assessment) -> str:
    return reverse(
        "measures:detail",
        kwargs={
            "program_id": program_id,
            "participant_id": assessment.participant.external_id,
            "assessment_id": assessment.external_id,
        },
    )


def _base(access: ProgramAccess, participant: Participant | None = None) -> dict[str, Any]:
    return {"access": access, "program": access.program, "participant": participant}


@require_http_methods(["GET"])
@requires(Perm.ASSESSMENT_VIEW)
def participant_measures(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "measures"}
    )
    context = {
        **_base(access, participant),
        "trajectories": trajectories(participant, with_corridor=True),
        "can_enter": access.can(Perm.ASSESSMENT_ENTER),
        "instruments": [i for i in all_instruments() if is_enabled(i)],
    }
    return render(request, "measures/participant.html", context)


def _instrument_or_404(code: str) -> Instrument:
    inst = next((i for i in all_instruments() if i.code == code), None)
    if inst is None:
        raise Http404("unknown instrument")
    return inst


def _initial_time(access: ProgramAccess) -> dict[str, Any]:
    now = clock.program_now(access.program)
    return {"administered_at": now.replace(second=0, microsecond=0, tzinfo=None)}


def _aware(access: ProgramAccess, form: AssessmentEntryForm) -> Any:
    value = form.cleaned_data["administered_at"]
    tz = clock.zone(access.program)
    return value.replace(tzinfo=tz) if timezone.is_naive(value) else value.astimezone(tz)


def _entry_context(
    access: ProgramAccess, participant: Participant, inst: Instrument, form: AssessmentEntryForm
) -> dict[str, Any]:
    fields = [form[item_field_name(item)] for _, item in ordered_items(inst)]
    critical_notes = {
        item_field_name(item): critical_warning(item) for item in inst.items if item.critical
    }
    return {
        **_base(access, participant),
        "instrument": inst,
        "form": form,
        "item_fields": [(f, critical_notes.get(f.name, "")) for f in fields],
        "warnings": form.endorsed_critical(),
        "licensed": is_enabled(inst),
    }


@require_http_methods(["GET", "POST"])
@requires(Perm.ASSESSMENT_ENTER)
def assessment_enter(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, instrument: str
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "enter"}
    )
    inst = _instrument_or_404(instrument)
    data = request.POST if request.method == "POST" else None
    form = AssessmentEntryForm(data, instrument=inst, initial=_initial_time(access))
    if not is_enabled(inst):
        # Licence flag (OPENIOP_DISABLE_NONCOMMERCIAL): the page says why; nothing is entered.
        context = {**_entry_context(access, participant, inst, form), "disabled": True}
        return render(request, "measures/enter.html", context, status=403 if data else 200)
    if data is not None and form.is_valid():
        try:
            assessment = actions.assessment_record(
                actor=request_user(request),
                participant=participant,
                instrument=inst.code,
                answers=form.answers(),
                administered_at=_aware(access, form),
                sex=form.cleaned_data.get("sex") or None,
            )
        except ActionError as error:
            apply_action_errors(form, error, field_for=form.field_for_error)
        else:
            for item in inst.items:
                if item.ref in assessment.critical:
                    messages.warning(request, critical_warning(item))
            messages.success(request, f"{inst.code.upper()} recorded.")
            return redirect(_detail_url(program_id, assessment))
    status = 422 if form.errors else 200
    template = "measures/_entry_form.html" if request.headers.get("HX-Request") else None
    return render(
        request,
        template or "measures/enter.html",
        _entry_context(access, participant, inst, form),
        status=status,
    )


@require_http_methods(["GET"])
@requires(Perm.ASSESSMENT_VIEW)
def assessment_detail(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, assessment_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    assessment = selectors.assessment_get(participant=participant, assessment_id=assessment_id)
    audit_record(
        actor=request_user(request), action="read", obj=assessment, detail={"view": "detail"}
    )
    return render(request, "measures/detail.html", _detail_context(access, assessment))


def _detail_context(
    access: ProgramAccess, assessment: Assessment, form: EnteredInErrorForm | None = None
) -> dict[str, Any]:
    inst = next(i for i in all_instruments() if i.code == assessment.instrument)
    answers = list(assessment.answers) + [None] * (len(inst.items) - len(assessment.answers))
    rows = []
    for item, code in zip(inst.items, answers, strict=False):
        label = next((o.label for o in item.options if o.code == code), "not answered")
        rows.append({"item": item, "code": code, "label": label})
    can_mark = access.can(Perm.ASSESSMENT_ENTER) and not assessment.entered_in_error
    return {
        **_base(access, assessment.participant),
        "assessment": assessment,
        "instrument": inst,
        "rows": rows,
        "warnings": [critical_warning(i) for i in inst.items if i.ref in assessment.critical],
        **review_prompts(inst, assessment),
        "error_form": (form or EnteredInErrorForm()) if can_mark else None,
    }


@require_http_methods(["POST"])
@requires(Perm.ASSESSMENT_ENTER)
def assessment_entered_in_error(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, assessment_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    assessment = selectors.assessment_get(participant=participant, assessment_id=assessment_id)
    audit_record(
        actor=request_user(request), action="read", obj=assessment, detail={"view": "detail"}
    )
    form = EnteredInErrorForm(request.POST)
    if form.is_valid():
        try:
            actions.assessment_mark_entered_in_error(
                actor=request_user(request),
                assessment=assessment,
                reason=form.cleaned_data["reason"],
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Marked entered in error.")
            return redirect(_detail_url(program_id, assessment))
    return render(
        request, "measures/detail.html", _detail_context(access, assessment, form), status=422
    )


@require_http_methods(["GET"])
@requires(Perm.ASSESSMENT_VIEW)
def due(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    items = selectors.due_list(program=access.program, today=program_today(access.program))
    audit_record_reads(
        actor=request_user(request),
        objects=selectors.participants_in(items),
        program=access.program,
        view="measures.due",
    )
    context = {
        **_base(access),
        "overdue": [i for i in items if i.overdue],
        "due": [i for i in items if not i.overdue],
        "has_schedules": bool(selectors.schedule_list(program=access.program)),
        "can_manage": access.can(Perm.SCHEDULE_MANAGE),
    }
    return render(request, "measures/due.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.SCHEDULE_MANAGE)
def schedules(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    enabled = [i for i in all_instruments() if is_enabled(i)]
    form = ScheduleForm(
        request.POST if request.method == "POST" else None,
        instruments=[(i.code, i.name) for i in enabled],
        cadences=list(Cadence.choices),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.schedule_set(
                actor=request_user(request),
                program=access.program,
                instrument=form.cleaned_data["instrument"],
                cadences=form.cleaned_data["cadences"],
            )
        except ActionError as error:
            for msgs in error.errors.values():
                for msg in msgs:
                    form.add_error("cadences", msg)
        else:
            messages.success(request, "Schedule saved.")
            return redirect(reverse("measures:schedules", kwargs={"program_id": program_id}))
    current: dict[str, list[str]] = {}
    for row in selectors.schedule_list(program=access.program):
        current.setdefault(row.instrument, []).append(Cadence(row.cadence).label)
    context = {
        **_base(access),
        "form": form,
        "current": sorted(current.items()),
        "fits": [(i, [Cadence(c).label for c in allowed_cadences(i)]) for i in enabled],
    }
    return render(request, "measures/schedules.html", context, status=422 if form.errors else 200)
