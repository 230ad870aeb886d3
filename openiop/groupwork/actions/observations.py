"""The facilitator's quick participation and affect choices on a roster row.

They feed the participant's note draft. A draft that still reads exactly as it was generated
is rebuilt with the new choices; a draft someone has typed in is left as typed (the choices
are still saved and show on the row), so a choice never overwrites a clinician's words.
"""

from __future__ import annotations

from django.db import transaction

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.groupwork.actions.notes import (
    cited_objectives,
    draft_sections,
    note_format_for,
    session_peers,
)
from openiop.groupwork.drafting import record_facts
from openiop.groupwork.guard import replace_peer_mentions
from openiop.groupwork.models import (
    Affect,
    Attendance,
    AttendanceStatus,
    Note,
    NoteStatus,
    Participation,
    PracticeRecord,
)


@transaction.atomic
def attendance_observe(
    *, actor: User, attendance: Attendance, participation: str, affect: str
) -> tuple[Attendance, Note | None]:
    """Save the choices (blank clears one); return the row and the draft rebuilt from them,
    if there was an untouched draft to rebuild."""
    errors: dict[str, str] = {}
    if participation and participation not in Participation.values:
        errors["participation"] = "Choose one of the participation options."
    if affect and affect not in Affect.values:
        errors["affect"] = "Choose one of the affect options."
    row = Attendance.objects.select_for_update().select_related("session").get(pk=attendance.pk)
    if row.removed or row.status != AttendanceStatus.PRESENT:
        errors["participation"] = "Participation is recorded for people present."
    if errors:
        raise ActionError(errors)
    before = (row.participation, row.affect)
    row.participation, row.affect = participation, affect
    row.save(update_fields=["participation", "affect", "updated_at"])
    audit_record(
        actor=actor, action="update", obj=row, detail={"fields": ["participation", "affect"]}
    )
    session = row.session
    note = (
        Note.objects.select_for_update(of=("self",))
        .filter(session=session, participant_id=row.participant_id, status=NoteStatus.DRAFT)
        .first()
    )
    if note is None:
        return row, None
    practice = list(
        PracticeRecord.objects.filter(session=session, participant_id=row.participant_id)
    )
    facts = record_facts(session=session, participant_ids=[row.participant_id])[row.participant_id]
    objectives = cited_objectives(session, row)
    peers = session_peers(session, row.participant_id)

    def generated() -> dict[str, str]:
        sections = draft_sections(
            session, row, practice, objectives, note_format_for(session), facts
        )
        return {key: replace_peer_mentions(text, peers) for key, text in sections.items()}

    now = generated()
    row.participation, row.affect = before
    untouched = note.sections == generated()
    row.participation, row.affect = participation, affect
    if not untouched or note.sections == now:
        return row, None
    note.sections = now
    note.version += 1
    note.save()
    audit_record(actor=actor, action="update", obj=note, detail={"redrafted": "observation"})
    return row, note
