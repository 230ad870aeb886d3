"""The participant's own pages (/me/). Every view resolves the participant from the signed-in
account, never from the URL, so no address can reach another person's records; object ids
in URLs are looked up within that participant's rows only (404 otherwise)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import participant_self
from openiop.accounts.mfa import confirmed_device
from openiop.calendars.actions import feed_create_for_self
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants.actions import participant_language_set
from openiop.portal import actions, alumni_views, selectors
from openiop.portal.forms import (
    CheckInForm,
    DiaryForm,
    GoalForm,
    GoalUpdateForm,
    ParticipantSafetyPlanForm,
    WorksheetForm,
)
from openiop.portal.idempotency import KEY_FIELD, Outcome, critical_first, run_once
from openiop.portal.models import SAFETY_PLAN_STEPS, CheckInKind
from openiop.portal.requests import (
    audit_portal_read,
    new_form_key,
    participant_request,
    render_form_page,
)
from openiop.safety import selectors as safety_selectors


def _form_field(name: str, form: Any) -> str | None:
    """Map an action's field name onto the form's input, or None for a form-wide error."""
    candidate = name.removeprefix("answers.").replace("emotions.", "emotion_")
    return candidate if candidate in form.fields else None


def _submit(request: HttpRequest, form: Any, scope: str, perform: Any) -> Outcome | None:
    """Run a participant write once per idempotency key; on refusal put each message beside
    its field and return None so the page shows the form again with what was typed."""
    user, _ = participant_request(request)
    payload = {k: v for k, v in form.cleaned_data.items() if k != KEY_FIELD}
    try:
        return run_once(
            user=user,
            key=form.cleaned_data[KEY_FIELD],
            scope=scope,
            payload=payload,
            perform=perform,
        )
    except ActionError as exc:
        apply_action_errors(form, exc, field_for=lambda name: _form_field(name, form))
        return None


# --- home / my week ----------------------------------------------------------------------


@require_http_methods(["GET"])
@participant_self
def home(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    audit_portal_read(user, me, "portal.home")
    if me.is_alumni:  # type: ignore[attr-defined]
        return alumni_views.home(request, me)
    context = {
        "me": me,
        "week": selectors.my_week(me),
        "goals": selectors.goals_with_updates(me, weeks=1),
        "has_authenticator": confirmed_device(user) is not None,
    }
    return render(request, "portal/home.html", context)


@require_http_methods(["POST"])
@participant_self
def calendar_link(request: HttpRequest) -> HttpResponse:
    """Make (or replace) the participant's own calendar feed; the link is shown once."""
    user, me = participant_request(request)
    _, secret = feed_create_for_self(actor=user, participant=me)
    url = request.build_absolute_uri(reverse("calendar_feed:ics", kwargs={"secret": secret}))
    return render(request, "portal/calendar_link.html", {"me": me, "feed_url": url})


# --- check-in ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@participant_self
def checkin(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    skills = actions.skills_taught(me, keep=request.POST.getlist("skills_used"))
    session = actions.next_session_today(me)
    initial = {**new_form_key(), "kind": CheckInKind.SESSION if session else CheckInKind.DAILY}
    form = CheckInForm(request.POST or None, initial=initial, skills=skills)
    alert = None
    if request.method == "POST":
        valid = form.is_valid()
        # The safety "yes" first, on its own: committed even if the rest is refused.
        event_id = None
        if form.cleaned_data.get("safety_concern") is True:
            event_id = _critical_first(
                request,
                "checkin_safety",
                lambda: actions.checkin_safety_raise(actor=user, participant=me),
            )
            if event_id is not None:
                alert = safety_selectors.alert_outcome(participant=me, event_id=event_id)
        if valid:
            data = actions.CheckInInput(
                **{k: v for k, v in form.cleaned_data.items() if k != KEY_FIELD}
            )
            outcome = _submit(
                request,
                form,
                "checkin",
                lambda: _checkin_response(
                    actions.checkin_submit(
                        actor=user, participant=me, data=data, safety_event_id=event_id
                    )
                ),
            )
            if outcome is not None:
                if outcome.response.get("safety_event"):
                    return redirect("portal:help_sent")
                messages.success(request, gettext("Check-in saved. Thank you."))
                return redirect("portal:home")
    context = {"me": me, "form": form, "session": session, "alert": alert}
    return render_form_page(request, "portal/checkin.html", context, form)


def _critical_first(request: HttpRequest, scope: str, raise_event: Any) -> str | None:
    """Raise a critical answer's safety event before the rest of the form is validated,
    once per submission (the form's key); returns the event's id."""
    user, _ = participant_request(request)
    outcome = critical_first(
        user=user,
        key=request.POST.get(KEY_FIELD),
        scope=scope,
        perform=lambda: {"event": _event_id(raise_event())},
    )
    event = outcome.response.get("event")
    return str(event) if event else None


def _event_id(event: Any) -> str | None:
    return str(event.external_id) if event is not None else None


def _checkin_response(checkin: Any) -> dict[str, Any]:
    return {
        "id": str(checkin.external_id),
        "safety_event": str(checkin.safety_event_id) if checkin.safety_event_id else None,
    }


# --- help --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@participant_self
def help_now(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    if request.method == "POST":
        key = request.POST.get(KEY_FIELD)
        try:
            run_once(
                user=user,
                key=key,
                scope="help",
                payload={},
                perform=lambda: {
                    "event": str(actions.help_request(actor=user, participant=me).external_id)
                },
            )
        except ActionError:
            # Never block a cry for help on a bad key: raise it without one.
            actions.help_request(actor=user, participant=me)
        return redirect("portal:help_sent")
    return render(request, "portal/help.html", {"me": me, "key": new_form_key()[KEY_FIELD]})


@require_http_methods(["GET"])
@participant_self
def help_sent(request: HttpRequest) -> HttpResponse:
    """Says what actually happened to the participant's latest alert (who was notified, or
    that nobody could be reached now), and always 911 and 988."""
    user, me = participant_request(request)
    plan = selectors.safety_plan(me)
    audit_portal_read(user, me, "portal.help_sent")
    alert = safety_selectors.latest_alert(participant=me)
    return render(
        request,
        "portal/help_sent.html",
        {"me": me, "plan": plan, "steps": _plan_steps(plan), "alert": alert},
    )


# --- goals -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@participant_self
def goals(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    objectives = actions.active_objectives(me)
    form = GoalForm(request.POST or None, initial=new_form_key(), objectives=objectives)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = _submit(
            request,
            form,
            "goal",
            lambda: {
                "id": str(
                    actions.weekly_goal_create(
                        actor=user,
                        participant=me,
                        text=data["text"],
                        objective_id=data["objective"] or None,
                        share_in_group=data["share_in_group"],
                    ).external_id
                )
            },
        )
        if outcome is not None:
            messages.success(request, gettext("Goal added."))
            return redirect("portal:goals")
    audit_portal_read(user, me, "portal.goals")
    context = {"me": me, "form": form, "goals": selectors.goals_with_updates(me)}
    return render_form_page(request, "portal/goals.html", context, form)


@require_http_methods(["GET", "POST"])
@participant_self
def goal_update(request: HttpRequest, weekly_goal_id: uuid.UUID) -> HttpResponse:
    user, me = participant_request(request)
    goal = selectors.my_goal(me, weekly_goal_id)
    form = GoalUpdateForm(request.POST or None, initial=new_form_key())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = _submit(
            request,
            form,
            f"goal_update:{goal.external_id}",
            lambda: {
                "id": str(
                    actions.goal_update_add(
                        actor=user,
                        goal=goal,
                        status=data["status"],
                        note=data["note"],
                        share_in_group=data["share_in_group"],
                    ).external_id
                )
            },
        )
        if outcome is not None:
            messages.success(request, gettext("Update saved."))
            return redirect("portal:goals")
    audit_portal_read(user, me, "portal.goal")
    return render_form_page(
        request, "portal/goal_update.html", {"me": me, "goal": goal, "form": form}, form
    )


# --- diary card --------------------------------------------------------------------------


def _week_param(request: HttpRequest) -> date | None:
    raw = request.GET.get("week")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404("bad week") from None


@require_http_methods(["GET"])
@participant_self
def diary(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    week = selectors.diary_week(me, _week_param(request))
    audit_portal_read(user, me, "portal.diary")
    today = selectors.today_for(me)
    return render(
        request,
        "portal/diary.html",
        {"me": me, "week": week, "today": today, "emotions": _emotions()},
    )


def _emotions() -> list[tuple[str, str]]:
    from openiop.portal.models import DIARY_EMOTIONS

    return list(DIARY_EMOTIONS)


def _diary_initial(card: Any) -> dict[str, Any]:
    if card is None:
        return new_form_key()
    initial = {
        **new_form_key(),
        "version": card.version,
        "urge_use": card.urge_use,
        "urge_self_harm": card.urge_self_harm,
        "suicidal_ideation": card.suicidal_ideation,
        "used_substance": "yes" if card.used_substance else "no",
        "self_harm_action": "yes" if card.self_harm_action else "no",
        "actions_taken": card.actions_taken,
        "skills_used": card.skills_used,
        "note": card.note,
    }
    initial.update({f"emotion_{k}": v for k, v in card.emotions.items()})
    return initial


def _diary_critical(form: DiaryForm, day: date) -> actions.DiaryInput | None:
    """The card's critical answers as far as they parsed (the rest may be invalid), or None
    when nothing on it needs the care team today."""
    form.is_valid()
    critical = actions.DiaryInput(
        day=day,
        emotions={},
        urge_use=None,
        urge_self_harm=None,
        suicidal_ideation=form.cleaned_data.get("suicidal_ideation"),
        self_harm_action=form.cleaned_data.get("self_harm_action", False),
    )
    return critical if actions.diary_safety_reasons(critical) else None


def _diary_response(card: Any) -> dict[str, Any]:
    return {
        "id": str(card.external_id),
        "safety_event": str(card.safety_event_id) if card.safety_event_id else None,
    }


@require_http_methods(["GET", "POST"])
@participant_self
def diary_day(request: HttpRequest, day: str) -> HttpResponse:
    user, me = participant_request(request)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404("bad day") from None
    card = selectors.diary_card(me, when)
    initial = _diary_initial(card)
    kept = request.POST.getlist("skills_used") or initial.get("skills_used", [])
    form = DiaryForm(
        request.POST or None, initial=initial, skills=actions.skills_taught(me, keep=kept)
    )
    alert, event_id = None, None
    critical = _diary_critical(form, when) if request.method == "POST" else None
    if critical is not None:
        # Self-harm or a high suicidal-ideation rating first, on its own: the event is
        # committed even if the rest of the card is refused.
        event_id = _critical_first(
            request,
            f"diary_safety:{when.isoformat()}",
            lambda: actions.diary_safety_raise(actor=user, participant=me, data=critical),
        )
        if event_id is not None:
            alert = safety_selectors.alert_outcome(participant=me, event_id=event_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = actions.DiaryInput(
            day=when,
            emotions=form.emotions(),
            urge_use=data["urge_use"],
            urge_self_harm=data["urge_self_harm"],
            suicidal_ideation=data["suicidal_ideation"],
            used_substance=data["used_substance"],
            self_harm_action=data["self_harm_action"],
            actions_taken=data["actions_taken"],
            skills_used=data["skills_used"],
            note=data["note"],
        )
        outcome = _submit(
            request,
            form,
            f"diary:{when.isoformat()}",
            lambda: _diary_response(
                actions.diary_save(
                    actor=user,
                    participant=me,
                    data=entry,
                    version=data.get("version"),
                    safety_event_id=event_id,
                )
            ),
        )
        if outcome is not None:
            messages.success(
                request,
                gettext("Diary card for %(day)s saved.") % {"day": date_format(when, "l d F")},
            )
            if outcome.response.get("safety_event"):
                return redirect("portal:help_sent")
            return redirect(f"{reverse('portal:diary')}?week={when.isoformat()}")
    if request.method == "GET" and card is not None:
        audit_portal_read(user, me, "portal.diary_day")
    context = {
        "me": me,
        "form": form,
        "day": when,
        "card": card,
        "alert": alert,
        "si_event_at": actions.DIARY_SUICIDAL_IDEATION_EVENT_AT,
    }
    return render_form_page(request, "portal/diary_day.html", context, form)


# --- homework ----------------------------------------------------------------------------


@require_http_methods(["GET"])
@participant_self
def homework(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    audit_portal_read(user, me, "portal.homework")
    context = {
        "me": me,
        "assignments": selectors.homework_assignments(me),
        "submissions": list(selectors.submissions(me)),
    }
    return render(request, "portal/homework.html", context)


@require_http_methods(["GET", "POST"])
@participant_self
def worksheet(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    user, me = participant_request(request)
    assignment = selectors.assignment_for(me, session_id)
    template = assignment.plan.homework
    form = WorksheetForm(request.POST or None, initial=new_form_key(), fields=template.fields)
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        outcome = _submit(
            request,
            form,
            f"homework:{assignment.session.external_id}",
            lambda: {
                "id": str(
                    actions.homework_submit(
                        actor=user,
                        participant=me,
                        plan_code=assignment.plan.code,
                        answers=answers,
                        session=assignment.session,
                    ).external_id
                )
            },
        )
        if outcome is not None:
            messages.success(request, gettext("Worksheet sent to your care team."))
            return redirect("portal:submission", submission_id=outcome.response["id"])
    context = {"me": me, "assignment": assignment, "template": template, "form": form}
    return render_form_page(request, "portal/worksheet.html", context, form)


@require_http_methods(["GET"])
@participant_self
def submission(request: HttpRequest, submission_id: uuid.UUID) -> HttpResponse:
    user, me = participant_request(request)
    item = selectors.my_submission(me, submission_id)
    audit_portal_read(user, me, "portal.submission")
    return render(
        request, "portal/submission.html", {"me": me, "item": item, "rows": answer_rows(item)}
    )


def answer_rows(item: Any) -> list[tuple[str, Any]]:
    """(label, answer) in the worksheet's order, for the participant and the clinician."""
    from openiop.curriculum.library import library

    try:
        fields = library().plan(item.plan_code).homework.fields
    except KeyError:
        return sorted(item.answers.items())
    return [(spec.label, item.answers[spec.name]) for spec in fields if spec.name in item.answers]


# --- safety plan -------------------------------------------------------------------------


def _plan_steps(plan: Any) -> list[tuple[str, str, str]]:
    return [
        (heading, prompt, getattr(plan, name, "") if plan else "")
        for name, heading, prompt in SAFETY_PLAN_STEPS
    ]


@require_http_methods(["GET"])
@participant_self
def safety_plan(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    plan = selectors.safety_plan(me)
    audit_portal_read(user, me, "portal.safety_plan")
    return render(
        request, "portal/safety_plan.html", {"me": me, "plan": plan, "steps": _plan_steps(plan)}
    )


@require_http_methods(["GET", "POST"])
@participant_self
def safety_plan_edit(request: HttpRequest) -> HttpResponse:
    user, me = participant_request(request)
    plan = selectors.safety_plan(me)
    initial: dict[str, Any] = {**new_form_key(), "version": plan.version if plan else 0}
    if plan:
        initial.update({name: getattr(plan, name) for name, _, _ in SAFETY_PLAN_STEPS})
    form = ParticipantSafetyPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        steps, version = form.steps(), form.cleaned_data["version"]
        outcome = _submit(
            request,
            form,
            "safety_plan",
            lambda: {
                "id": str(
                    actions.safety_plan_save(
                        actor=user, participant=me, version=version, steps=steps
                    ).external_id
                )
            },
        )
        if outcome is not None:
            messages.success(
                request, gettext("Safety plan saved. Your clinician will go over it with you.")
            )
            return redirect("portal:safety_plan")
    if request.method == "GET":
        audit_portal_read(user, me, "portal.safety_plan_edit")
    return render_form_page(request, "portal/safety_plan_edit.html", {"me": me, "form": form}, form)


# --- language -----------------------------------------------------------------------------


@require_http_methods(["POST"])
@participant_self
def language(request: HttpRequest) -> HttpResponse:
    """The participant's own portal language (docs/portal.md, "Languages"). Back to the
    portal page the switch was pressed on; any other `next` goes to the home page."""
    user, me = participant_request(request)
    try:
        participant_language_set(actor=user, participant=me, language=request.POST.get("language"))
    except ActionError as exc:
        message = "language: " + " ".join(exc.errors.get("language", []))
        return HttpResponse(message, status=400, content_type="text/plain")
    target = request.POST.get("next", "")
    home = reverse("portal:home")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith(home)
    return redirect(target if safe else home)
