"""IN-01 and AU-02 underneath the ORM, on whichever database the suite runs on: raw SQL cannot
change or delete an audit row, a signed note or a scored assessment. PostgreSQL refuses it
with triggers in plpgsql (audit 0003, groupwork 0003, measures 0002), SQLite with its own
`BEFORE UPDATE/DELETE ... RAISE(ABORT)` triggers (audit, groupwork and measures 0004), which
allow exactly what the PostgreSQL ones allow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from openiop.audit.actions import RETENTION_YEARS, years_before
from openiop.audit.models import AuditCheckpoint, AuditEvent
from openiop.audit.tests.tamper import append_events
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Note
from openiop.measures.actions import assessment_mark_entered_in_error
from openiop.measures.models import Assessment
from openiop.measures.tests.helpers import record
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list[Any], match: str) -> None:
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _allowed(sql: str, params: list[Any]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
    return count


# --------------------------------------------------------------------------- audit (AU-02)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = %s",
        "UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq = %s",
        "DELETE FROM audit_auditevent WHERE seq = %s",
        "DELETE FROM audit_auditevent WHERE seq >= %s",
    ],
)
def test_AU_02_raw_sql_cannot_update_or_delete_an_audit_event(sql: str):
    append_events(5)
    _refused(sql, [3], "append-only")
    assert AuditEvent.objects.filter(outcome="success").count() == 5


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditcheckpoint SET purged = 99 WHERE seq = %s",
        "DELETE FROM audit_auditcheckpoint WHERE seq = %s",
    ],
)
def test_AU_02_raw_sql_cannot_update_or_delete_a_checkpoint(sql: str):
    now = clock.now()
    AuditCheckpoint.objects.create(seq=1, hash="a" * 64, before=now, purged=1, created_at=now)
    _refused(sql, [1], "append-only")
    assert AuditCheckpoint.objects.get().purged == 1


def _purge_flag_then_delete(seq: int) -> None:
    """Delete one event under the retention purge's flag, as `audit_purge` sets it."""
    cutoff = years_before(clock.now(), RETENTION_YEARS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL openiop.audit_purge = 'on'")
        else:
            cursor.execute(
                "INSERT INTO openiop_trigger_flag (name, value) VALUES ('audit_purge', %s)",
                [connection.ops.adapt_datetimefield_value(cutoff)],
            )
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [seq])
        if connection.vendor == "postgresql":  # SET LOCAL outlives a savepoint
            cursor.execute("SET LOCAL openiop.audit_purge = 'off'")
        else:
            cursor.execute("DELETE FROM openiop_trigger_flag WHERE name = 'audit_purge'")


def test_AU_05_purge_flag_deletes_only_events_older_than_six_years():
    with time_machine.travel(clock.now() - timedelta(days=7 * 365), tick=False):
        append_events(2)
    append_events(2)
    # A young event stays, even under the purge flag.
    with pytest.raises(DatabaseError, match="append-only"):
        _purge_flag_then_delete(3)
    _purge_flag_then_delete(1)
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [2, 3, 4]
    # Without the flag an old event is refused too.
    _refused("DELETE FROM audit_auditevent WHERE seq = %s", [2], "append-only")


# --------------------------------------------------------------------------- signed notes


@pytest.fixture
def notes(world: World) -> tuple[Note, Note]:
    """A signed note and a draft note of the same group session."""
    session, _, rows = make_group_session(world, members=2)
    for row in rows:
        gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    rows = [row.__class__.objects.get(pk=row.pk) for row in rows]
    first = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[0])
    first = gw.note_update(
        actor=world.clinician_a,
        note=first,
        expected_version=first.version,
        sections={"data": "Took part.", "assessment": "Engaged.", "plan": "Continue."},
    )
    signed = gw.note_sign(actor=world.clinician_a, note=first)
    draft = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[1])
    return Note.objects.get(pk=signed.pk), draft


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE groupwork_note SET sections = '{}' WHERE id = %s",
        "UPDATE groupwork_note SET status = 'draft' WHERE id = %s",
        "UPDATE groupwork_note SET content_hash = '' WHERE id = %s",
    ],
)
def test_IN_01_raw_sql_cannot_change_a_signed_note(world: World, notes, sql: str):
    signed, _ = notes
    _refused(sql, [signed.pk], "immutable")
    stored = Note.objects.get(pk=signed.pk)
    assert stored.sections == signed.sections and stored.content_hash == signed.content_hash
    assert gw.note_verify_hash(stored)


def test_IN_01_raw_sql_cannot_delete_a_note_signed_or_draft(world: World, notes):
    for note in notes:
        _refused("DELETE FROM groupwork_note WHERE id = %s", [note.pk], "never deleted")
    assert Note.objects.filter(pk__in=[n.pk for n in notes]).count() == 2


def test_IN_01_drafts_stay_editable_and_signed_notes_take_addenda(world: World, notes):
    signed, draft = notes
    assert _allowed("UPDATE groupwork_note SET version = version + 1 WHERE id = %s", [draft.pk])
    addendum = gw.note_addendum_add(
        actor=world.clinician_a, note=signed, reason="Late information", text="Slept well."
    )
    assert list(signed.addenda.all()) == [addendum]
    assert Note.objects.get(pk=signed.pk).sections == signed.sections


# --------------------------------------------------------------------------- scored assessments


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE measures_assessment SET total = 27 WHERE id = %s",
        "UPDATE measures_assessment SET answers = '[3, 3, 3]' WHERE id = %s",
        "UPDATE measures_assessment SET status = 'draft' WHERE id = %s",
        # the column added after the PostgreSQL trigger was written (measures 0003)
        "UPDATE measures_assessment SET inconsistent = '[\"q3\"]' WHERE id = %s",
        "DELETE FROM measures_assessment WHERE id = %s",
    ],
)
def test_IN_01_raw_sql_cannot_change_or_delete_a_scored_assessment(world: World, sql: str):
    assessment = record(world, world.participant_a)
    _refused(sql, [assessment.pk], "immutable|never deleted")
    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.total, stored.answers, stored.status, stored.inconsistent) == (
        assessment.total,
        assessment.answers,
        "scored",
        [],
    )


def test_IN_01_entered_in_error_is_the_one_raw_change_allowed(world: World):
    assessment = record(world, world.participant_a)
    # The entered-in-error columns may change while the assessment is not yet in error ...
    assert _allowed(
        "UPDATE measures_assessment SET entered_in_error_reason = 'x' WHERE id = %s",
        [assessment.pk],
    )
    assessment_mark_entered_in_error(
        actor=world.clinician_a, assessment=assessment, reason="Keyed for the wrong person"
    )
    # ... and once it is, nothing changes any more, not even those columns.
    for sql in (
        "UPDATE measures_assessment SET entered_in_error_reason = 'y' WHERE id = %s",
        "UPDATE measures_assessment SET entered_in_error = FALSE WHERE id = %s",
    ):
        _refused(sql, [assessment.pk], "immutable")
    stored = Assessment.objects.get(pk=assessment.pk)
    assert stored.entered_in_error and stored.entered_in_error_reason.startswith("Keyed")
