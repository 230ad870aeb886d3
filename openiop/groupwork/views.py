"""The session runner and group notes: one htmx screen for the facilitator.

Roster actions swap only the roster row they change and notes autosave field by field, so
adding or removing someone never disturbs text being typed elsewhere on the screen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.stepup import ReauthRequired, has_recent_auth, require_recent_auth
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core import clock
from openiop.core.clock import program_today
from openiop.core.confirm import confirm_page, confirmed
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.groupwork import actions as gw
from openiop.groupwork import roomcode, selectors
from openiop.groupwork.forms import (
    AbsentForm,
    AddendumForm,
    OverrideForm,
    PracticeForm,
    SharedNoteForm,
    TimeForm,
)
from openiop.groupwork.guard import Peer, find_peer_mentions, replace_peer_mentions
from openiop.groupwork.ledger import WeekHours, iso_week_start, week_hours
from openiop.groupwork.models import (
    NOTE_SECTIONS,
    Affect,
    Attendance,
    AttendanceStatus,
    Note,
    NoteCosignature,
    NoteStatus,
    Participation,
    Session,
)
from openiop.participants import selectors as participant_selectors
from openiop.scheduling.selectors import plan_reasons


def _session(request: ProgramRequest, session_id: UUID) -> tuple[ProgramAccess, Session]:
    access = request.access
    return access, selectors.session_get(program=access.program, session_id=session_id)


def _runner_url(session: Session) -> str:
    return reverse(
        "groupwork:runner",
        kwargs={"program_id": session.program.external_id, "session_id": session.external_id},
    )


def _errors_text(error: ActionError) -> str:
    return " ".join(f"{msg}" for msgs in error.errors.values() for msg in msgs)


def _entry_context(
    session: Session, entry: selectors.RosterEntry, error: str = ""
) -> dict[str, Any]:
    plan = selectors.plan_of(session)
    skills = list(plan.skills) if plan else []
    roles = sorted({r for s in (plan.role_play_scenarios if plan else ()) for r in s.roles})
    return {
        "session": session,
        "program": session.program,
        "e": entry,
        "tz": session.program.time_zone,
        "row_error": error,
        "practice_form": PracticeForm(skills=skills or ["Group participation"], roles=roles),
        **OBSERVATION_CHOICES,
    }


def _row_response(
    request: HttpRequest, session: Session, attendance_id: Any, error: str = ""
) -> HttpResponse:
    roster = _with_readiness(session, selectors.roster(session=session))
    entries = {str(e.attendance.external_id): e for e in roster}
    entry = entries[str(attendance_id)]
    status = 422 if error else 200
    return render(
        request, "groupwork/_roster_row.html", _entry_context(session, entry, error), status=status
    )


def _roster_response(request: HttpRequest, session: Session, error: str = "") -> HttpResponse:
    # Only users who may run the session reach the roster actions that answer with this.
    context = {**_runner_context(session, error=error), "can_run": True}
    return render(request, "groupwork/_roster.html", context, status=422 if error else 200)


OBSERVATION_CHOICES = {
    "participation_choices": Participation.choices,
    "affect_choices": Affect.choices,
}


def _with_readiness(
    session: Session, entries: list[selectors.RosterEntry]
) -> list[selectors.RosterEntry]:
    """Each draft note gets `readiness`: what "Sign all" would refuse it for, shown on its
    roster row and above its text. The roster's names and the session's signed notes are
    read once, not per note."""
    people = {
        e.participant.pk: Peer(
            e.participant.legal_first_name,
            e.participant.legal_last_name,
            e.participant.preferred_name,
            e.participant.record_number,
        )
        for e in entries
    }
    signed = [e.note.sections for e in entries if e.note is not None and e.note.is_signed]
    for e in entries:
        # Hybrid groups: each person's place of service follows how they took part.
        place = roomcode.place_of_service(session, e.attendance)
        setattr(e, "place", roomcode.place_label(place))  # noqa: B010
    for e in entries:
        if e.note is not None:
            peers = [p for pid, p in people.items() if pid != e.participant.pk]
            readiness = gw.notes.note_readiness(e.note, peers, signed, e.attendance.minutes)
            setattr(e.note, "readiness", readiness)  # noqa: B010
    return entries


def _runner_context(session: Session, error: str = "") -> dict[str, Any]:
    entries = _with_readiness(session, selectors.roster(session=session))
    plan = selectors.plan_of(session)
    skills = list(plan.skills) if plan else []
    roles = sorted({r for s in (plan.role_play_scenarios if plan else ()) for r in s.roles})
    return {
        "session": session,
        "program": session.program,
        "plan": plan,
        "entries": entries,
        "present": [
            e
            for e in entries
            if e.attendance.status == AttendanceStatus.PRESENT and not e.attendance.removed
        ],
        "practice_skills": skills,
        "practice_roles": roles,
        "practice_form": PracticeForm(skills=skills or ["Group participation"], roles=roles),
        "shared_form": SharedNoteForm(
            initial={
                "shared_topic": session.shared_topic or (plan.title if plan else ""),
                "shared_interventions": session.shared_interventions,
                "shared_process": session.shared_process,
            }
        ),
        "sections": NOTE_SECTIONS,
        "roster_error": error,
        "tz": session.program.time_zone,
        "place": roomcode.place_label(roomcode.place_of_service(session)),
        **OBSERVATION_CHOICES,
    }


@require_http_methods(["GET"])
@requires(Perm.ROSTER_VIEW)
def sessions_list(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    today = program_today(access.program)
    start, _ = selectors.today_range(access.program, today - timedelta(days=today.weekday()))
    sessions = list(
        selectors.sessions_between(
            program=access.program, start=start, end=start + timedelta(days=7)
        )
    )
    todays = [
        s for s in sessions if s.starts_at.astimezone(clock.zone(access.program)).date() == today
    ]
    context = {
        "program": access.program,
        "access": access,
        "sessions": sessions,
        "todays": todays,
        "tz": access.program.time_zone,
        "week_start": start.date(),
    }
    return render(request, "groupwork/sessions.html", context)


@require_http_methods(["GET"])
@requires(Perm.ROSTER_VIEW)
def runner(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    access, session = _session(request, session_id)
    context = _runner_context(session)
    audit_record_reads(
        actor=request_user(request),
        objects=[e.participant for e in context["entries"]],
        program=access.program,
        view="session_runner",
    )
    context.update(
        {
            "access": access,
            "can_run": access.can(Perm.SESSION_RUN),
            "can_write": access.can(Perm.NOTE_WRITE),
            "can_override": access.can(Perm.NOTE_COSIGN),
            "resume": _take_pending(request, session) if access.can(Perm.NOTE_WRITE) else {},
            "sign_result": _take_sign_result(request, session),
        }
    )
    return render(request, "groupwork/runner.html", context)


def _local_time(session: Session, form: TimeForm) -> datetime:
    # A group that crosses local midnight takes "00:40" as after midnight, not before start.
    return clock.wall_time_near(
        form.cleaned_data["at"], session.starts_at, session.ends_at, session.program
    )


def _self_reported(attendance: Attendance, verb: str) -> datetime:
    """The participant's own arrival or departure, to the minute, when the facilitator
    confirms it: the stored instant, not its wall-clock time, so a repeated hour on a
    fall-back night cannot turn 01:30 EST into 01:30 EDT."""
    moment = attendance.self_arrived_at if verb == "arrive" else attendance.self_left_at
    if moment is None:
        raise ActionError({"at": "There is no self sign-in time to confirm; enter the time."})
    return moment.replace(second=0, microsecond=0)


def _attendance_action(
    request: ProgramRequest, session_id: UUID, attendance_id: UUID, verb: str
) -> HttpResponse:
    _, session = _session(request, session_id)
    attendance = selectors.attendance_get(session=session, attendance_id=attendance_id)
    actor = request_user(request)
    try:
        if verb == "arrive_now":
            gw.attendance_arrive(
                actor=actor,
                attendance=attendance,
                at=min(max(timezone.now(), session.starts_at), session.ends_at),
            )
        elif verb in ("arrive", "depart"):
            at = _self_reported(attendance, verb) if "confirm_self" in request.POST else None
            if at is None:
                form = TimeForm(request.POST)
                if not form.is_valid():
                    raise ActionError({"at": "Enter a time like 09:15."})
                at = _local_time(session, form)
            if verb == "arrive":
                gw.attendance_arrive(actor=actor, attendance=attendance, at=at)
            else:
                gw.attendance_depart(actor=actor, attendance=attendance, at=at)
        elif verb == "absent":
            absent = AbsentForm(request.POST)
            absent.is_valid()
            gw.attendance_absent(
                actor=actor,
                attendance=attendance,
                reason=absent.cleaned_data.get("reason", ""),
                excused=bool(absent.cleaned_data.get("excused")),
            )
        elif verb == "remove":
            gw.attendance_remove(actor=actor, attendance=attendance)
            return _roster_response(request, session)
    except ActionError as error:
        return _row_response(request, session, attendance.external_id, _errors_text(error))
    return _row_response(request, session, attendance.external_id)


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_arrive_now(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    return _attendance_action(request, session_id, attendance_id, "arrive_now")


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_arrive(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    return _attendance_action(request, session_id, attendance_id, "arrive")


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_depart(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    return _attendance_action(request, session_id, attendance_id, "depart")


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_absent(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    return _attendance_action(request, session_id, attendance_id, "absent")


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_remove(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    """Asks first (confirm=yes, core/confirm.py); the confirmed form from the confirm page
    returns to the runner, an htmx one swaps the roster."""
    _, session = _session(request, session_id)
    attendance = selectors.attendance_get(session=session, attendance_id=attendance_id)
    if not confirmed(request):
        return confirm_page(
            request,
            title="Remove from the roster?",
            question=f"Remove {attendance.participant.display_name} from this session's roster?",
            details=[
                "They will no longer be expected at this session or counted absent.",
                "Their row and anything already recorded stay in the record.",
            ],
            button="Remove from the roster",
            cancel_url=_runner_url(session),
            context={"program": session.program},
        )
    if request.headers.get("HX-Request") == "true":
        return _attendance_action(request, session_id, attendance_id, "remove")
    try:
        gw.attendance_remove(actor=request_user(request), attendance=attendance)
    except ActionError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, "Removed from the roster.")
    return redirect(_runner_url(session))


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def start_session(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    """One click: everyone still expected is marked present from the start time."""
    _, session = _session(request, session_id)
    try:
        gw.session_start(actor=request_user(request), session=session)
    except ActionError as error:
        session.refresh_from_db()
        return _roster_response(request, session, error=_errors_text(error))
    return _roster_response(request, session)


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def walk_in(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    access, session = _session(request, session_id)
    participant_id = request.POST.get("participant", "")
    try:
        participant = participant_selectors.participant_get(
            program=access.program, participant_id=participant_id
        )
    except Exception:  # noqa: BLE001 - any bad id is the same "choose someone" error
        return _roster_response(
            request, session, error="Add someone: choose a participant from the list."
        )
    try:
        row = gw.attendance_add(
            actor=request_user(request), session=session, participant=participant, walk_in=True
        )
        now = min(max(timezone.now(), session.starts_at), session.ends_at)
        gw.attendance_arrive(actor=request_user(request), attendance=row, at=now)
    except ActionError as error:
        return _roster_response(request, session, error=_errors_text(error))
    return _roster_response(request, session)


@require_http_methods(["GET"])
@requires(Perm.SESSION_RUN)
def walk_in_search(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    """Find someone to add; only the (audited) matches are shown, never the whole census."""
    access, session = _session(request, session_id)
    query = request.GET.get("q", "").strip()[:60]
    candidates = (
        list(selectors.walk_in_candidates(session=session, query=query)[:8])
        if len(query) >= 2
        else []
    )
    audit_record_reads(
        actor=request_user(request),
        objects=candidates,
        program=access.program,
        view="walk_in_search",
    )
    return render(
        request,
        "groupwork/_walk_in_results.html",
        {"candidates": candidates, "query": query, "session": session, "program": session.program},
    )


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def practice_save(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    _, session = _session(request, session_id)
    attendance = selectors.attendance_get(session=session, attendance_id=attendance_id)
    plan = selectors.plan_of(session)
    skills = list(plan.skills) if plan else ["Group participation"]
    roles = sorted({r for s in (plan.role_play_scenarios if plan else ()) for r in s.roles})
    form = PracticeForm(request.POST, skills=skills, roles=roles)
    if not form.is_valid():
        first = next(iter(form.errors))
        return _row_response(
            request,
            session,
            attendance.external_id,
            f"{form.fields[first].label or first}: {form.errors[first][0]}",
        )
    try:
        gw.practice_record_save(
            actor=request_user(request),
            session=session,
            participant=attendance.participant,
            **form.cleaned_data,
        )
    except ActionError as error:
        return _row_response(request, session, attendance.external_id, _errors_text(error))
    return _row_response(request, session, attendance.external_id)


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def agenda_toggle(
    request: ProgramRequest, program_id: UUID, session_id: UUID, block: int
) -> HttpResponse:
    _, session = _session(request, session_id)
    done = block not in session.agenda_done
    try:
        gw.session_agenda_toggle(
            actor=request_user(request), session=session, block_index=block, done=done
        )
    except ActionError as error:
        return HttpResponse(_errors_text(error), status=422)
    return render(
        request,
        "groupwork/_agenda.html",
        {
            "session": session,
            "plan": selectors.plan_of(session),
            "program": session.program,
            "can_run": True,
        },
    )


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def shared_save(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    _, session = _session(request, session_id)
    form = SharedNoteForm(request.POST)
    form.is_valid()
    try:
        gw.session_shared_note_save(
            actor=request_user(request),
            session=session,
            topic=form.cleaned_data.get("shared_topic", ""),
            interventions=form.cleaned_data.get("shared_interventions", ""),
            process=form.cleaned_data.get("shared_process", ""),
        )
    except ActionError as error:
        return render(
            request, "groupwork/_save_status.html", {"error": _errors_text(error)}, status=422
        )
    return render(request, "groupwork/_save_status.html", {"saved_at": timezone.now()})


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def notes_draft_all(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    access, session = _session(request, session_id)
    try:
        gw.note_draft_all(actor=request_user(request), session=session)
    except ActionError as error:
        message = _errors_text(error)
        return _notes_response(request, access, session, status=422, notes_error=message)
    return _notes_response(request, access, session)


def _notes_response(
    request: HttpRequest, access: ProgramAccess, session: Session, status: int = 200, **extra: Any
) -> HttpResponse:
    context = _runner_context(session)
    context.update(
        {
            "access": access,
            "can_write": access.can(Perm.NOTE_WRITE),
            "can_override": access.can(Perm.NOTE_COSIGN),
            # The roster rows' readiness badges follow the notes (out of band, so nothing
            # typed in a roster row is replaced).
            "oob_rows": True,
            **extra,
        }
    )
    return render(request, "groupwork/_notes.html", context, status=status)


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def note_save(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    """Autosave: one note's sections with its version (a stale save is refused, IN-03)."""
    _, session = _session(request, session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    keys = [key for key, _ in NOTE_SECTIONS[note.format]]
    sections = {key: request.POST.get(key, "") for key in keys if key in request.POST}
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return render(
            request,
            "groupwork/_note_status.html",
            {"note": note, "error": "version: reload the page."},
            status=422,
        )
    try:
        note = gw.note_update(
            actor=request_user(request), note=note, expected_version=version, sections=sections
        )
    except ActionError as error:
        return render(
            request,
            "groupwork/_note_status.html",
            {"note": note, "error": _errors_text(error)},
            status=409 if error.code == "conflict" else 422,
        )
    findings = gw.notes.guard_findings(note)
    setattr(note, "readiness", gw.notes.note_readiness(note))  # noqa: B010
    row_id = (
        session.attendance.filter(participant_id=note.participant_id)
        .values_list("external_id", flat=True)
        .first()
    )
    return render(
        request,
        "groupwork/_note_status.html",
        {"note": note, "findings": findings, "saved_at": timezone.now(), "row_id": row_id},
    )


def _note_form_response(
    request: HttpRequest, access: ProgramAccess, session: Session, note: Note, **extra: Any
) -> HttpResponse:
    setattr(note, "readiness", gw.notes.note_readiness(note))  # noqa: B010
    context = {
        "note": note,
        "session": session,
        "program": session.program,
        "sections": NOTE_SECTIONS,
        "can_write": True,
        "can_override": access.can(Perm.NOTE_COSIGN),
        **extra,
    }
    return render(request, "groupwork/_note_form.html", context)


@require_http_methods(["GET"])
@requires(Perm.NOTE_WRITE)
def note_replace_peers_preview(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    """What "Replace names with 'a peer'" would save, section by section, before it is saved:
    the clinician confirms (or cancels) this exact text, at this version of the note."""
    access, session = _session(request, session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    peers = gw.notes.note_peers(note)
    labels = dict(NOTE_SECTIONS[note.format])
    # The preview shows this participant's note (and their name): a read, like the runner.
    audit_record_reads(
        actor=request_user(request),
        objects=[note.participant],
        program=access.program,
        view="note_replace_peers_preview",
    )
    changes = []
    for key, text in note.sections.items():
        mentions = find_peer_mentions(text or "", peers)
        if mentions:
            changes.append(
                {
                    "label": labels.get(key, key),
                    "found": [m.text for m in mentions],
                    "after": replace_peer_mentions(text or "", peers),
                }
            )
    context = {"note": note, "session": session, "program": session.program, "changes": changes}
    return render(request, "groupwork/_replace_preview.html", context)


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def note_replace_peers(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    """Apply the previewed replacement. The form carries the version the preview was made
    from; if the note changed since, nothing is saved and the clinician previews again."""
    access, session = _session(request, session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return HttpResponse("version: preview the replacement first.", status=422)
    try:
        note = gw.note_replace_peers(
            actor=request_user(request), note=note, expected_version=version
        )
    except ActionError as error:
        return _note_form_response(request, access, session, note, note_error=_errors_text(error))
    return _note_form_response(request, access, session, note)


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def attendance_observe(
    request: ProgramRequest, program_id: UUID, session_id: UUID, attendance_id: UUID
) -> HttpResponse:
    """The roster row's participation and affect choices; an untouched draft is rebuilt with
    them and swapped in alongside the row."""
    access, session = _session(request, session_id)
    attendance = selectors.attendance_get(session=session, attendance_id=attendance_id)
    try:
        _, note = gw.attendance_observe(
            actor=request_user(request),
            attendance=attendance,
            participation=request.POST.get("participation", "").strip(),
            affect=request.POST.get("affect", "").strip(),
        )
    except ActionError as error:
        return _row_response(request, session, attendance.external_id, _errors_text(error))
    row = _row_response(request, session, attendance.external_id)
    if note is not None and access.can(Perm.NOTE_WRITE):
        row.content += _note_form_response(request, access, session, note, oob=True).content
    return row


@require_http_methods(["POST"])
@requires(Perm.NOTE_COSIGN)
def note_override(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    _access, session = _session(request, session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    form = OverrideForm(request.POST)
    try:
        if not form.is_valid():
            raise ActionError({"reason": "Give the reason for the override."})
        gw.note_guard_override(
            actor=request_user(request), note=note, reason=form.cleaned_data["reason"]
        )
    except ActionError as error:
        return HttpResponse(_errors_text(error), status=422)
    messages.success(request, "Override recorded; the note can be signed.")
    return redirect(_runner_url(session))


# A sign-all, or one note's signing, that needed re-authentication resumes after it (AUTH-07
# without pressing the button twice). Only a known action name, the session's id and (for one
# note) the note's id are kept in the server-side session, never a URL, and only for ten
# minutes; the runner of that session resumes it once.
PENDING_KEY = "openiop_pending_action"
RESUMABLE = frozenset({"sign_all", "sign_note"})
PENDING_SECONDS = 600
SIGN_RESULT_KEY = "openiop_sign_all_result"


def _remember_pending(
    request: HttpRequest, action: str, session: Session, note: Note | None = None
) -> None:
    assert action in RESUMABLE
    request.session[PENDING_KEY] = {
        "action": action,
        "session": str(session.external_id),
        "note": str(note.external_id) if note is not None else "",
        "at": clock.now().timestamp(),
    }


def _take_pending(request: HttpRequest, session: Session) -> dict[str, Any]:
    """What to resume on this session's runner: {"action": "sign_all"} or {"action":
    "sign_note", "note": <this session's draft note>}; {} for nothing. Taken only once the
    user has re-authenticated; anything malformed, stale, for another session or for a note
    that is no longer a draft of this session is dropped."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        request.session.pop(PENDING_KEY, None)
        return {}
    action, session_id, at = pending.get("action"), pending.get("session"), pending.get("at")
    fresh = isinstance(at, int | float) and 0 <= clock.now().timestamp() - at <= PENDING_SECONDS
    if action not in RESUMABLE or not isinstance(session_id, str) or not fresh:
        request.session.pop(PENDING_KEY, None)
        return {}
    if session_id != str(session.external_id) or not has_recent_auth(request):
        return {}
    request.session.pop(PENDING_KEY, None)
    if action != "sign_note":
        return {"action": action}
    note_id = _uuid_or_none(pending.get("note"))
    note = (
        Note.objects.filter(session=session, status=NoteStatus.DRAFT, external_id=note_id)
        .select_related("participant")
        .first()
        if note_id is not None
        else None
    )
    return {"action": action, "note": note} if note is not None else {}


def _uuid_or_none(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _reauth_response(request: HttpRequest, session: Session) -> HttpResponse:
    """403 `reauth_required` as for any step-up (AUTH-07), pointing back at this runner only
    (a URL built here, never one taken from the request); htmx goes straight to the form."""
    back = _runner_url(session)
    response = render(request, "accounts/reauth_required.html", {"next": back}, status=403)
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = reverse("accounts:reauth") + "?" + urlencode({"next": back})
    return response


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def notes_sign_all(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    """Sign every ready draft; needs a fresh re-authentication (AUTH-07), after which the
    runner resumes the signing by itself. The result stays at the top of the notes area and
    every note that was not signed says what it needs."""
    access, session = _session(request, session_id)
    try:
        require_recent_auth(request)
    except ReauthRequired:
        _remember_pending(request, "sign_all", session)
        return _reauth_response(request, session)
    signed, refused = gw.note_sign_all(actor=request_user(request), session=session)
    result = {"signed": len(signed), "refused": len(refused)}
    if request.headers.get("HX-Request"):
        return _notes_response(request, access, session, sign_result=result)
    request.session[SIGN_RESULT_KEY] = {"session": str(session.external_id), **result}
    return redirect(_runner_url(session) + "#notes")


def _take_sign_result(request: HttpRequest, session: Session) -> dict[str, int] | None:
    stored = request.session.get(SIGN_RESULT_KEY)
    if not isinstance(stored, dict) or stored.get("session") != str(session.external_id):
        return None
    request.session.pop(SIGN_RESULT_KEY, None)
    return {"signed": int(stored.get("signed", 0)), "refused": int(stored.get("refused", 0))}


@require_http_methods(["POST"])
@requires(Perm.NOTE_WRITE)
def note_sign_one(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    """Sign one note; needs a fresh re-authentication (AUTH-07), after which the runner
    resumes this signing by itself."""
    _, session = _session(request, session_id)
    note = selectors.note_get(session=session, note_id=note_id)
    try:
        require_recent_auth(request)
    except ReauthRequired:
        _remember_pending(request, "sign_note", session, note)
        return _reauth_response(request, session)
    try:
        gw.note_sign(actor=request_user(request), note=note)
    except ActionError as error:
        messages.error(request, f"{note.participant.display_name}: {_errors_text(error)}")
    else:
        messages.success(request, f"Signed the note for {note.participant.display_name}.")
    back = _runner_url(session) + f"#note-{note.external_id}"
    if request.headers.get("HX-Request"):  # the resumed signing: the whole runner again
        response = HttpResponse(status=204)
        response["HX-Redirect"] = back
        return response
    return redirect(back)


@require_http_methods(["POST"])
@requires(Perm.NOTE_COSIGN)
def note_cosign(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, note_id: UUID
) -> HttpResponse:
    """A supervisor co-signs a signed note (kept apart from the locked note itself)."""
    access = request.access
    require_recent_auth(request)
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    note = selectors.participant_notes(participant=participant).filter(external_id=note_id).first()
    if note is None:
        from django.http import Http404

        raise Http404("note not found")
    try:
        gw.note_cosign(actor=request_user(request), note=note)
    except ActionError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, "Co-signed.")
    return redirect(request.path.rsplit("cosign/", 1)[0])


@require_http_methods(["POST"])
@requires(Perm.SESSION_RUN)
def session_close(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    _, session = _session(request, session_id)
    if not confirmed(request):
        return confirm_page(
            request,
            title="Close this session?",
            question="Close the session and make its minutes final?",
            details=[
                "Anyone not marked as arrived is recorded absent.",
                "Anyone present without a departure time is recorded as leaving at the end.",
            ],
            button="Close the session",
            cancel_url=_runner_url(session),
            context={"program": session.program},
        )
    gw.session_close(actor=request_user(request), session=session)
    messages.success(request, "Session closed: absences recorded and minutes final.")
    return redirect(_runner_url(session))


@require_http_methods(["GET"])
@requires(Perm.NOTE_READ_BODY)
def session_print(request: ProgramRequest, program_id: UUID, session_id: UUID) -> HttpResponse:
    """The session's roster as a sign-in sheet: internal only, since it names every attendee.
    Notes are printed one participant at a time (`session_print_note`), never together."""
    access, session = _session(request, session_id)
    access.require(Perm.ROSTER_VIEW)
    context = _runner_context(session)
    audit_record_reads(
        actor=request_user(request),
        objects=[e.participant for e in context["entries"]],
        program=access.program,
        view="session_print",
    )
    context["access"] = access
    return render(request, "groupwork/print.html", context)


@require_http_methods(["GET"])
@requires(Perm.NOTE_READ_BODY)
def session_print_note(
    request: ProgramRequest, program_id: UUID, session_id: UUID, note_id: UUID
) -> HttpResponse:
    """One participant's printable note: the shared group section and only their own
    individual section, so the page can go into their record or be released to them without
    disclosing who else attended (clinical.md section 7)."""
    access, session = _session(request, session_id)
    note = (
        Note.objects.filter(program=access.program, session=session, external_id=note_id)
        .exclude(status=NoteStatus.ENTERED_IN_ERROR)
        .select_related("participant", "signed_by")
        .first()
    )
    if note is None:
        raise Http404("note not found")
    audit_record(
        actor=request_user(request), action="read", obj=note, detail={"view": "note_print"}
    )
    context = {
        "access": access,
        "program": access.program,
        "session": session,
        "plan": selectors.plan_of(session),
        "note": note,
        "participant": note.participant,
        "headcount": session.attendance.filter(
            status=AttendanceStatus.PRESENT, removed=False
        ).count(),
        "tz": session.program.time_zone,
        "place": _note_place(session, note),
    }
    return render(request, "groupwork/print_note.html", context)


def _note_place(session: Session, note: Note) -> str:
    """The note's place of service: the participant's own mode in a hybrid group."""
    row = session.attendance.filter(participant_id=note.participant_id).first()
    return roomcode.place_label(roomcode.place_of_service(session, row))


def _why_at_risk(entry: WeekHours, reasons: dict[UUID, list[str]] | None) -> list[str]:
    """The planner's reason for someone at risk, or what the page knows when it has none."""
    if entry.status != "at_risk":
        return []
    if reasons is None:
        return ["no plan has been applied to this week (Plan this week on the weekly board)"]
    return reasons.get(entry.participant.external_id) or [
        "this week's plan booked them to the minimum; sessions missed since then left the gap"
    ]


@require_http_methods(["GET"])
@requires(Perm.PARTICIPANT_LIST)
def ledger_view(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    """Everyone's week against the minimum: who has met it, who is on track (attended plus
    still booked reaches it) and who is at risk, with the planner's reason for them."""
    access = request.access
    week_start = iso_week_start(program_today(access.program))
    rows = week_hours(program=access.program, week_start=week_start)
    audit_record_reads(
        actor=request_user(request),
        objects=[r.participant for r in rows],
        program=access.program,
        view="ledger",
    )
    required = access.program.rules.min_weekly_minutes(access.program.population)
    reasons = plan_reasons(program=access.program, week_start=week_start)
    shown = [r for r in rows if r.status != "met"][:25]  # who still needs minutes
    chart = {
        "type": "bar",
        "horizontal": True,
        "stacked": True,
        "xTitle": "Minutes this week",
        "labels": [r.participant.display_name for r in shown],
        "datasets": [
            {"label": "Attended", "data": [r.row.total for r in shown], "color": "#1a7f37"},
            {
                "label": "Booked, still to attend",
                "data": [r.row.scheduled_remaining for r in shown],
                "color": "#0b5cad",
            },
            {
                "label": "Gap to minimum",
                "data": [r.row.booked_shortfall for r in shown],
                "color": "#b42318",
            },
        ],
    }
    counts = {s: sum(r.status == s for r in rows) for s in ("met", "on_track", "at_risk")}
    context = {
        "program": access.program,
        "access": access,
        "rows": [(r, _why_at_risk(r, reasons)) for r in rows],
        "counts": counts,
        "on_track": counts["met"] + counts["on_track"],
        "total": len(rows),
        "required": required,
        "week_start": week_start,
        "chart": chart,
        "chart_count": len(shown),
    }
    return render(request, "groupwork/ledger.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.NOTE_READ_BODY)
def note_detail(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, note_id: UUID
) -> HttpResponse:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    note = selectors.participant_notes(participant=participant).filter(external_id=note_id).first()
    if note is None:
        from django.http import Http404

        raise Http404("note not found")
    form = AddendumForm(request.POST or None)
    if request.method == "POST":
        access.require(Perm.NOTE_WRITE)
        if form.is_valid():
            try:
                gw.note_addendum_add(actor=request_user(request), note=note, **form.cleaned_data)
            except ActionError as error:
                apply_action_errors(form, error)
            else:
                messages.success(request, "Addendum added.")
                return redirect(request.path)
    else:
        audit_record(actor=request_user(request), action="read", obj=note, detail={"view": "note"})
    context = {
        "program": access.program,
        "access": access,
        "participant": participant,
        "note": note,
        "form": form,
        "sections": NOTE_SECTIONS,
        "hash_ok": gw.note_verify_hash(note),
        "can_write": access.can(Perm.NOTE_WRITE),
        "can_cosign": access.can(Perm.NOTE_COSIGN),
        "cosignature": NoteCosignature.objects.filter(note=note)
        .select_related("supervisor")
        .first(),
    }
    return render(
        request, "groupwork/note_detail.html", context, status=422 if form.errors else 200
    )


__all__ = ["Attendance", "Note"]
