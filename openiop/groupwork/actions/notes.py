"""Individual group notes: drafted from what happened, guarded, signed, locked, amended.

The draft is built from this participant's own attendance, practice, feedback and plan, so
no two drafts are alike (identical copy-paste notes are a top payer denial reason). Signing
is blocked while the text names another roster member (GRP-01) unless a supervisor records
an override reason, and a signed note never changes again: corrections are addenda (IN-01).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import Membership, User
from openiop.accounts.roles import Role
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError, ConflictError
from openiop.curriculum.library import library
from openiop.groupwork.drafting import (
    RecordFacts,
    observation_assessment,
    observation_sentence,
    record_facts,
    record_sentences,
    risk_sentence,
)
from openiop.groupwork.guard import Peer, find_peer_mentions, replace_peer_mentions
from openiop.groupwork.minutes import minutes_early, minutes_late
from openiop.groupwork.models import (
    NOTE_SECTIONS,
    Attendance,
    AttendanceStatus,
    Note,
    NoteAddendum,
    NoteCosignature,
    NoteFormat,
    NoteStatus,
    PracticeRecord,
    Session,
    SessionStatus,
)
from openiop.treatment.models import Objective


class PeerNamedError(ActionError):
    """Signing refused: the note names another group member."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields, code="peer_named")


def note_format_for(session: Session) -> str:
    # Programs choose DAP or BIRP in their rule pack; DAP is the default.
    rule = session.program.rules.rules.get("note_format")
    value = str(rule.value) if rule is not None else NoteFormat.DAP
    return value if value in NoteFormat.values else NoteFormat.DAP


def _attendance_sentence(session: Session, attendance: Attendance) -> str:
    duration = int((session.ends_at - session.starts_at).total_seconds() // 60)
    parts = [f"Attended {attendance.minutes} of {duration} minutes"]
    late = minutes_late(session_start=session.starts_at, arrived_at=attendance.arrived_at)
    early = minutes_early(session_end=session.ends_at, departed_at=attendance.departed_at)
    if late:
        parts.append(f"arrived {late} minutes late")
    if early:
        parts.append(f"left {early} minutes early")
    return ", ".join(parts) + "."


def _practice_sentences(records: Iterable[PracticeRecord]) -> list[str]:
    lines = []
    for r in records:
        line = f"Practised {r.skill}"
        if r.role_taken:
            line += f" in the role of {r.role_taken}"
        if r.rating:
            line += f"; facilitator rating {r.rating}/5"
        if r.feedback_themes:
            line += f"; peer feedback noted: {', '.join(r.feedback_themes)}"
        lines.append(line + ".")
        if r.comment:
            lines.append(r.comment)
    return lines


def _skill_assessment(practice: list[PracticeRecord]) -> str:
    """A starting point for the clinician's own assessment, from the facilitator ratings."""
    rated = [r for r in practice if r.rating]
    if not rated:
        return ""  # nothing observed to build on: the clinician writes the assessment
    best = max(rated, key=lambda r: r.rating or 0)
    level = {5: "fluently", 4: "independently", 3: "with some prompting"}.get(
        best.rating or 0, "with support"
    )
    return f"Demonstrated {best.skill} {level}."


def cited_objectives(session: Session, attendance: Attendance) -> list[Objective]:
    """Open objectives of the participant's active plan whose interventions are delivered by
    this session's curriculum module: the golden thread from note to plan."""
    if not session.plan_code:
        return []
    module = library().plan(session.plan_code).module
    objectives = Objective.objects.filter(
        goal__problem__plan__participant_id=attendance.participant_id,
        goal__problem__plan__status="active",
        status__in=["not_started", "in_progress"],
    ).prefetch_related("interventions")
    return [
        o
        for o in objectives
        if any(module in (i.curriculum_modules or []) for i in o.interventions.all())
    ]


def draft_sections(
    session: Session,
    attendance: Attendance,
    practice: list[PracticeRecord],
    objectives: list[Objective],
    fmt: str,
    facts: RecordFacts | None = None,
) -> dict[str, str]:
    """The individual sections: this participant's attendance, the facilitator's quick
    participation and affect choices, their practice, and what their own record says
    (check-in, diary card, goal setback, open safety event), so no two drafts are alike."""
    plan = library().plan(session.plan_code) if session.plan_code else None
    topic = plan.title if plan else session.title
    facts = facts or RecordFacts()
    observed = [
        _attendance_sentence(session, attendance),
        *filter(None, [observation_sentence(attendance)]),
        *_practice_sentences(practice),
        *record_sentences(facts, session),
    ]
    goals = "; ".join(o.statement for o in objectives)
    intervention = f"Group {topic}" + (
        f" ({', '.join(plan.skills)})" if plan and plan.skills else ""
    )
    homework = f"Homework: {plan.homework.title}." if plan and plan.homework.kind != "none" else ""
    plan_line = " ".join(filter(None, [homework, "Continue in group as scheduled."]))
    response = " ".join(
        filter(
            None,
            [
                observation_assessment(attendance),
                _skill_assessment(practice),
                risk_sentence(facts),
                f"Progress toward: {goals}." if goals else "",
            ],
        )
    )
    if fmt == NoteFormat.BIRP:
        return {
            "behavior": " ".join(observed),
            "intervention": intervention + ".",
            "response": response,
            "plan": plan_line,
        }
    return {
        "data": " ".join(observed) + f" Topic: {topic}.",
        "assessment": response,
        "plan": plan_line,
    }


def session_peers(session: Session, participant_id: int) -> list[Peer]:
    """Everyone else on the session's roster (including absent and removed members)."""
    rows = session.attendance.exclude(participant_id=participant_id).select_related("participant")
    return [
        Peer(
            a.participant.legal_first_name,
            a.participant.legal_last_name,
            a.participant.preferred_name,
            a.participant.record_number,
        )
        for a in rows
    ]


@transaction.atomic
def note_draft(
    *,
    actor: User,
    session: Session,
    attendance: Attendance,
    facts: RecordFacts | None = None,
) -> Note:
    """The participant's draft for this session (created once, then kept as typed). Text
    taken from the record (a goal, a check-in) that names another member is drafted with
    "a peer" instead: a draft never carries another participant's name."""
    if attendance.status not in (AttendanceStatus.PRESENT,) or attendance.removed:
        raise ActionError(
            {"attendance": "Only participants who attended get a note; absences are recorded."}
        )
    existing = (
        Note.objects.filter(session=session, participant_id=attendance.participant_id)
        .exclude(status=NoteStatus.ENTERED_IN_ERROR)
        .first()
    )
    if existing is not None:
        return existing
    fmt = note_format_for(session)
    practice = list(
        PracticeRecord.objects.filter(session=session, participant_id=attendance.participant_id)
    )
    objectives = cited_objectives(session, attendance)
    if facts is None:
        pid = attendance.participant_id
        facts = record_facts(session=session, participant_ids=[pid])[pid]
    sections = draft_sections(session, attendance, practice, objectives, fmt, facts)
    peers = session_peers(session, attendance.participant_id)
    note = Note.objects.create(
        program=session.program,
        participant_id=attendance.participant_id,
        session=session,
        author=actor,
        format=fmt,
        sections={key: replace_peer_mentions(text, peers) for key, text in sections.items()},
        created_by=actor,
    )
    note.objectives.set(objectives)
    audit_record(actor=actor, action="create", obj=note)
    return note


@transaction.atomic
def note_draft_all(*, actor: User, session: Session) -> list[Note]:
    """The "Draft notes for everyone present" button: a draft for each participant present
    (one that exists is kept as typed and returned). All are made, or none."""
    if session.status == SessionStatus.CANCELLED:
        raise ActionError({"session": "This session was cancelled; it has no notes."})
    present = list(
        session.attendance.filter(removed=False, status=AttendanceStatus.PRESENT).select_related(
            "participant"
        )
    )
    facts = record_facts(session=session, participant_ids=[row.participant_id for row in present])
    return [
        note_draft(actor=actor, session=session, attendance=row, facts=facts[row.participant_id])
        for row in present
    ]


def _lock_draft(note: Note, expected_version: int | None) -> Note:
    locked = (
        Note.objects.select_for_update(of=("self",))
        .select_related("session", "participant")
        .get(pk=note.pk)
    )
    if locked.status != NoteStatus.DRAFT:
        raise ConflictError({"note": "This note is signed; add an addendum instead."})
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            {"version": "This note changed since you opened it. Reload to see the other edit."}
        )
    return locked


@transaction.atomic
def note_update(
    *,
    actor: User,
    note: Note,
    expected_version: int,
    sections: dict[str, str],
    objective_ids: list[int] | None = None,
) -> Note:
    locked = _lock_draft(note, expected_version)
    allowed = {key for key, _ in NOTE_SECTIONS[locked.format]}
    unknown = set(sections) - allowed
    if unknown:
        raise ActionError(dict.fromkeys(sorted(unknown), "Not a section of this note format."))
    locked.sections = {**locked.sections, **{k: v.strip() for k, v in sections.items()}}
    locked.version += 1
    locked.save()
    if objective_ids is not None:
        objectives = Objective.objects.filter(
            pk__in=objective_ids, goal__problem__plan__participant=locked.participant
        )
        locked.objectives.set(objectives)
    audit_record(actor=actor, action="update", obj=locked, detail={"sections": sorted(sections)})
    return locked


def note_peers(note: Note) -> list[Peer]:
    """Everyone else on the session's roster (including absent and removed members)."""
    if note.session is None:
        return []
    return session_peers(note.session, note.participant_id)


def guard_findings(note: Note, peers: list[Peer] | None = None) -> dict[str, list[str]]:
    peers = note_peers(note) if peers is None else peers
    found: dict[str, list[str]] = {}
    for key, text in note.sections.items():
        mentions = find_peer_mentions(text or "", peers)
        if mentions:
            found[key] = [m.text for m in mentions]
    return found


@transaction.atomic
def note_replace_peers(*, actor: User, note: Note, expected_version: int) -> Note:
    """The one-click fix: every co-member mention becomes "a peer"."""
    locked = _lock_draft(note, expected_version)
    peers = note_peers(locked)
    locked.sections = {k: replace_peer_mentions(v or "", peers) for k, v in locked.sections.items()}
    locked.version += 1
    locked.save()
    audit_record(actor=actor, action="update", obj=locked, detail={"guard": "replaced"})
    return locked


def _is_supervisor(user: User, note: Note) -> bool:
    return Membership.objects.filter(
        user=user,
        program_id=note.program_id,
        is_active=True,
        role__in=[Role.SUPERVISOR, Role.PROGRAM_DIRECTOR],
    ).exists()


@transaction.atomic
def note_guard_override(*, actor: User, note: Note, reason: str) -> Note:
    """A supervisor lets a note that names a peer be signed, with a recorded reason
    (e.g. the 'name' is a place or a public figure)."""
    locked = _lock_draft(note, None)
    if not _is_supervisor(actor, locked):
        raise ActionError({"reason": "Only a clinical supervisor can override the guard."})
    if len(reason.strip()) < 10:
        raise ActionError(
            {"reason": "Give the reason for the override (it is kept with the note)."}
        )
    locked.guard_override_reason = reason.strip()
    locked.guard_override_by = actor
    locked.save()
    audit_record(actor=actor, action="update", obj=locked, detail={"guard": "override"})
    return locked


# The sentence drafts open with (`_attendance_sentence`).
_DRAFTED_MINUTES = re.compile(r"\bAttended (\d+) of (\d+) minutes\b")
_UNSET = object()


def _attendance_minutes(note: Note) -> int | None:
    if note.session_id is None:
        return None
    return (
        Attendance.objects.filter(session_id=note.session_id, participant_id=note.participant_id)
        .values_list("minutes", flat=True)
        .first()
    )


def _stale_minutes(note: Note, minutes: int | None) -> tuple[str, str] | None:
    """(section, message) when the draft states other minutes than attendance now records:
    the arrival or departure changed after the draft was made. Signing it would lock a note
    that disagrees with the hours ledger and billing (issue 18, item 1)."""
    if minutes is None:
        return None
    for key, _label in NOTE_SECTIONS[note.format]:
        found = _DRAFTED_MINUTES.search(note.sections.get(key) or "")
        if found and int(found.group(1)) != minutes:
            return key, (
                f"Says {found.group(1)} minutes attended, but attendance now records {minutes}. "
                "Correct the minutes in the text or draft again before signing."
            )
    return None


def _sign_errors(
    note: Note, peers: list[Peer] | None = None, minutes: Any = _UNSET
) -> dict[str, str]:
    """Why signing would be refused, by section. `minutes` (the attendance row's) may be passed
    in by callers that have it, to spare a query per note."""
    errors: dict[str, str] = {}
    for key, label in NOTE_SECTIONS[note.format]:
        if not (note.sections.get(key) or "").strip():
            errors[key] = f"Write the {label.lower()} section before signing."
    stale = _stale_minutes(note, _attendance_minutes(note) if minutes is _UNSET else minutes)
    if stale is not None and stale[0] not in errors:
        errors[stale[0]] = stale[1]
    findings = guard_findings(note, peers)
    if findings and not note.guard_override_reason:
        for key, names in findings.items():
            errors[key] = (
                f"Names another group member ({', '.join(sorted(set(names)))}). "
                "Use 'Replace with a peer' or ask a supervisor to override."
            )
    return errors


def _duplicate_of_peer(note: Note) -> bool:
    if note.session_id is None:
        return False
    # Compared with signed notes: the second of two identical drafts is the one refused.
    others = (
        Note.objects.filter(session_id=note.session_id, status=NoteStatus.SIGNED)
        .exclude(pk=note.pk)
        .values_list("sections", flat=True)
    )
    return any(other == note.sections for other in others)


def note_readiness(
    note: Note,
    peers: list[Peer] | None = None,
    signed: list[dict[str, str]] | None = None,
    minutes: Any = _UNSET,
) -> list[str]:
    """Why a draft would be refused by "Sign all", in a few words per reason ("assessment",
    "a group member's name out of data"); empty when it is ready. `peers`, the session's
    signed `signed` sections and the attendance row's `minutes` may be passed in so a whole
    roster costs no query per note."""
    if note.status != NoteStatus.DRAFT:
        return []
    labels = dict(NOTE_SECTIONS[note.format])
    reasons: list[str] = []
    named: list[str] = []
    for key, message in _sign_errors(note, peers, minutes).items():
        if "group member" in message:
            named.append(labels.get(key, key).lower())
        elif message.startswith("Says "):
            reasons.append(f"minutes in the {labels.get(key, key).lower()} to update")
        else:
            reasons.append(labels.get(key, key).lower())
    if named:
        reasons.append(f"a group member's name out of {' and '.join(named)}")
    if signed is None:
        duplicate = _duplicate_of_peer(note)
    else:
        duplicate = any(other == note.sections for other in signed)
    if duplicate:
        reasons.append("individual wording (same as another member's signed note)")
    return reasons


@transaction.atomic
def note_sign(*, actor: User, note: Note) -> Note:
    """Sign and lock. The caller has checked step-up re-authentication (AUTH-07)."""
    locked = _lock_draft(note, None)
    errors = _sign_errors(locked)
    if _duplicate_of_peer(locked):
        errors["data" if locked.format == NoteFormat.DAP else "behavior"] = (
            "This note is word-for-word the same as another member's; individualise it."
        )
    if errors:
        if any("group member" in msg for msg in errors.values()):
            raise PeerNamedError(errors)
        raise ActionError(errors)
    locked.status = NoteStatus.SIGNED
    locked.signed_by = actor
    locked.signed_at = timezone.now()
    locked.content_hash = locked.compute_hash()
    # Saved with a queryset update from draft state: the model guard only refuses rows that
    # are already signed.
    Note.objects.filter(pk=locked.pk, status=NoteStatus.DRAFT).update(
        status=locked.status,
        signed_by=actor,
        signed_at=locked.signed_at,
        content_hash=locked.content_hash,
        updated_at=locked.signed_at,
    )
    audit_record(actor=actor, action="update", obj=locked, detail={"signed": True})
    return locked


@transaction.atomic
def note_sign_all(
    *, actor: User, session: Session
) -> tuple[list[Note], dict[str, dict[str, list[str]]]]:
    """Sign every draft of the session that passes; report the others by note id."""
    signed: list[Note] = []
    refused: dict[str, dict[str, list[str]]] = {}
    for note in Note.objects.filter(session=session, status=NoteStatus.DRAFT).select_related(
        "participant"
    ):
        try:
            with transaction.atomic():
                signed.append(note_sign(actor=actor, note=note))
        except ActionError as error:
            refused[str(note.external_id)] = error.errors
    return signed, refused


@transaction.atomic
def note_addendum_add(*, actor: User, note: Note, reason: str, text: str) -> NoteAddendum:
    if note.status != NoteStatus.SIGNED:
        raise ActionError({"note": "Edit the draft directly; addenda are for signed notes."})
    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why the addendum is needed."
    if not text.strip():
        errors["text"] = "Write the addendum."
    if find_peer_mentions(text, note_peers(note)):
        errors["text"] = "Names another group member; write 'a peer' instead."
    if errors:
        raise ActionError(errors)
    addendum = NoteAddendum.objects.create(
        program=note.program,
        note=note,
        author=actor,
        reason=reason.strip(),
        text=text.strip(),
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=addendum, detail={"note": str(note.external_id)})
    return addendum


@transaction.atomic
def note_cosign(*, actor: User, note: Note) -> NoteCosignature:
    if note.status != NoteStatus.SIGNED:
        raise ActionError({"note": "Only signed notes can be co-signed."})
    if not _is_supervisor(actor, note) or actor.pk == note.signed_by_id:
        raise ActionError({"note": "A supervisor other than the author co-signs."})
    if NoteCosignature.objects.filter(note=note).exists():
        raise ConflictError({"note": "Already co-signed."})
    cosign = NoteCosignature.objects.create(
        program=note.program,
        note=note,
        supervisor=actor,
        signed_at=timezone.now(),
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=cosign, detail={"note": str(note.external_id)})
    return cosign


def note_verify_hash(note: Note) -> bool:
    """IN-02: the stored content hash still matches the note (checked on read and export)."""
    return not note.is_signed or note.content_hash == note.compute_hash()
