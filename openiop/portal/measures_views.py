"""Outcome measures the participant completes in the portal (/me/measures/).

Only a measure that is due for the signed-in participant opens (404 otherwise); answers are
scored and stored through the same action as the clinician's entry, with the portal as their
source. Participants are told their answers were saved, not how they scored. The list shows
each questionnaire's scores from the current episode with the trend in plain words
(`portal.trends`); severity labels appear only where the program turns them on
(`Program.portal_shows_severity`, off by default: clinicians explain severity in person).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import participant_self
from openiop.accounts.models import User
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.measures.forms import item_field_name
from openiop.measures.instruments import (
    Instrument,
    InstrumentDisabledError,
    UnknownInstrumentError,
    get_instrument,
)
from openiop.measures.models import Assessment
from openiop.measures.scoring import critical_screen
from openiop.measures.wording import (
    apply_wording,
    self_administration_map,
    self_administration_wording,
)
from openiop.participants.models import Participant
from openiop.portal import actions, selectors, trends
from openiop.portal.forms import MeasureForm
from openiop.portal.idempotency import KEY_FIELD, KEY_PATTERN, Outcome, run_once
from openiop.portal.requests import (
    audit_portal_read,
    new_form_key,
    participant_request,
    render_form_page,
)
from openiop.portal.wording_views import staff_only_response
from openiop.safety.models import SafetyEvent

# Instruments that ask how often problems bothered the person get the familiar stem; the
# others a neutral one. C-SSRS's recall window differs by question, so it says so plainly.
BOTHERED = {"phq9", "gad7"}
STEMS = {
    "cssrs": "Questions 1 to 5 are about the past month. Question 6 asks whether you have ever "
    "done something to end your life, and question 7 whether that was in the past 3 months.",
}
# The instruments' recall windows, for the translation catalogue: the due list names them in
# the participant's language (portal/measures.html).
RECALL_WINDOWS = (
    gettext_noop("past 2 weeks"),
    gettext_noop("past week"),
    gettext_noop("past month"),
    gettext_noop("past 30 days"),
    gettext_noop("past 12 months"),
    gettext_noop("past month for q1-q5; lifetime for q6, with q6r asking about the past 3 months"),
)
THANKS = gettext_noop("Saved. Thank you. Your care team will go over your answers with you.")


def stem(instrument: Instrument) -> str:
    """The sentence above the items, stating the recall window."""
    if instrument.code in STEMS:
        return STEMS[instrument.code]
    window = instrument.recall_window
    if window is None:
        return "Choose the answer that fits you best for each question."
    if instrument.code in BOTHERED:
        return f"Over the {window.text}, how often have you been bothered by each of these?"
    return f"Thinking about the {window.text}, choose the answer that fits you best for each one."


def scope(code: str) -> str:
    return f"measure:{code}"


def measure_response(assessment: Assessment, event: SafetyEvent | None) -> dict[str, Any]:
    """What a submission answers (and replays): no score, only whether the team was told."""
    return {
        "id": str(assessment.external_id),
        "instrument": assessment.instrument,
        "administered_at": assessment.administered_at.isoformat(),
        "safety_event": str(event.external_id) if event else None,
    }


def performer(
    user: User,
    me: Participant,
    code: str,
    answers: list[int | None],
    assessment_id: UUID | None = None,
) -> Callable[[], dict[str, Any]]:
    """The write `run_once` performs for a first submission. A retry after the first save
    finds the measure no longer due, so it must replay rather than 404: the due check runs
    here, which a replay never calls."""

    def perform() -> dict[str, Any]:
        selectors.my_due_measure(me, code)
        assessment, event = actions.measure_complete(
            actor=user,
            participant=me,
            instrument=code,
            answers=answers,
            assessment_id=assessment_id,
        )
        return measure_response(assessment, event)

    return perform


def raise_critical_first(
    user: User, me: Participant, code: str, answers: list[int | None], key: object
) -> tuple[UUID, SafetyEvent | None]:
    """Before anything else is checked, open the safety event for a critical answer in its
    own transaction (committed even if the rest of the form is then refused). Returns the id
    the stored assessment takes, so that it is linked to this event."""
    assessment_id = actions.measure_assessment_id(actor=user, instrument=code, key=key)
    event = actions.measure_raise_critical(
        actor=user,
        participant=me,
        instrument=code,
        answers=list(answers),
        assessment_id=assessment_id,
    )
    return assessment_id, event


def instrument_or_404(code: str) -> Instrument:
    try:
        return get_instrument(code)
    except (UnknownInstrumentError, InstrumentDisabledError):
        raise Http404("no such instrument") from None


@require_http_methods(["GET"])
@participant_self
def measures(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    due = [(item, get_instrument(item.instrument)) for item in selectors.my_due_measures(me)]
    wording = self_administration_map([i for _, i in due], me.program, me.language)
    episode, administrations = selectors.my_score_history(me)
    audit_portal_read(user, me, "portal.measures")
    context = {
        "me": me,
        "due": [(item, i, wording[i.code]) for item, i in due],
        "episode": episode,
        "histories": trends.histories(administrations),
        "shows_severity": me.program.portal_shows_severity,
    }
    return render(request, "portal/measures.html", context)


@require_http_methods(["GET", "POST"])
@participant_self
def measure(request: HttpRequest, instrument: str) -> HttpResponse:
    _, me = participant_request(request)
    inst = instrument_or_404(instrument)
    wording = self_administration_wording(inst, me.program, me.language)
    if not wording.self_complete and request.method != "POST":
        return staff_only_response(request, me, inst)
    form = MeasureForm(request.POST or None, instrument=inst, initial=new_form_key())
    apply_wording(form, inst, wording)
    alerted: SafetyEvent | None = None
    if request.method == "POST":
        # A critical answer is acted on first, whatever else is wrong with the form, and
        # even if the measure stopped being due while the participant filled it in.
        user, _ = participant_request(request)
        key = form.data.get(form.add_prefix(KEY_FIELD))
        assessment_id, alerted = raise_critical_first(user, me, inst.code, form.raw_answers(), key)
        if not wording.self_complete:  # nothing else is stored without valid wording
            if alerted:
                return redirect("portal:help_sent")
            return staff_only_response(request, me, inst, 403)
        try:
            outcome = _submit(request, form, me, inst, assessment_id) if form.is_valid() else None
        except Http404:
            if alerted is None:
                raise
            return redirect("portal:help_sent")
        if outcome is not None:
            if outcome.response.get("safety_event") or alerted:
                return redirect("portal:help_sent")
            messages.success(request, gettext(THANKS))
            return redirect("portal:measures")
    # The form is shown (first time, or again with errors) only while the measure is due;
    # what the participant entered stays in it.
    due = selectors.my_due_measure(me, inst.code)
    context = {
        "me": me,
        "instrument": inst,
        "due": due,
        "stem": wording.instructions or stem(inst),
        "wording": wording,
        "form": form,
        "item_fields": [form[item_field_name(item)] for item in inst.items],
        "alerted": alerted,
        "critical_choices": " ".join(critical_choices(inst)),
    }
    return render_form_page(request, "portal/measure.html", context, form)


def critical_choices(instrument: Instrument) -> list[str]:
    """`field:code` for every answer that alone is critical, decided by the scoring core's
    own `critical_screen` (not a second copy of the rule): the page sends the answers so far
    as soon as one of these is picked."""
    found = []
    for index, item in enumerate(instrument.items):
        for option in item.options:
            answers: list[int | None] = [None] * len(instrument.items)
            answers[index] = option.code
            if critical_screen(instrument.code, answers).critical:
                found.append(f"{item_field_name(item)}:{option.code}")
    return found


def _json_error(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": {field: [message]}}, status=status)


@require_http_methods(["POST"])
@participant_self
def measure_progress(request: HttpRequest, instrument: str) -> JsonResponse:
    """The answers so far of a portal measure, sent by the page (progressive enhancement: the
    form works without it) when a critical answer is picked and when the participant leaves
    the page unsent (sendBeacon). A critical answer opens its safety event first, in its own
    transaction; then the answers are kept as a draft under the id the form's submission will
    take, so that submitting later turns the draft into the scored row: one assessment and
    at most one event per form key. Answers only in the body, never in the URL or the logs."""
    user, me = participant_request(request)
    inst = instrument_or_404(instrument)
    form = MeasureForm(request.POST, instrument=inst)
    key = form.data.get(form.add_prefix(KEY_FIELD))
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        return _json_error(KEY_FIELD, "Send the form's idempotency key (16-64 letters or digits).")
    assessment_id, alerted = raise_critical_first(user, me, inst.code, form.raw_answers(), key)
    body: dict[str, Any] = {"safety_event": str(alerted.external_id) if alerted else None}
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse(body | {"errors": errors}, status=400)
    answers = form.answers()
    wording = self_administration_wording(inst, me.program, me.language)
    if all(a is None for a in answers) or not wording.self_complete:
        return JsonResponse(body | {"draft": None})
    try:
        selectors.my_due_measure(me, inst.code)
    except Http404:
        return JsonResponse(
            body | {"errors": {"instrument": ["This questionnaire is not due."]}}, status=404
        )
    try:
        draft = actions.measure_save_draft(
            actor=user,
            participant=me,
            instrument=inst.code,
            answers=answers,
            assessment_id=assessment_id,
        )
    except ActionError as exc:
        return JsonResponse(body | {"errors": exc.errors}, status=400)
    return JsonResponse(body | {"draft": str(draft.external_id)})


def _submit(
    request: HttpRequest,
    form: MeasureForm,
    me: Participant,
    inst: Instrument,
    assessment_id: UUID | None = None,
) -> Outcome | None:
    """Save once per key; a refusal goes beside the item it names and saves nothing (a
    critical answer was already acted on by `raise_critical_first`)."""
    user, _ = participant_request(request)
    answers = form.answers()
    try:
        return run_once(
            user=user,
            key=form.cleaned_data[KEY_FIELD],
            scope=scope(inst.code),
            payload={"answers": answers},
            perform=performer(user, me, inst.code, answers, assessment_id),
        )
    except ActionError as exc:
        apply_action_errors(form, exc, field_for=form.field_for_error)
        return None
