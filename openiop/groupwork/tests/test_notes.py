from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from openiop.core.errors import ActionError, ConflictError
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Note, NoteStatus, SignedNoteError
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(world: World):
    session, people, rows = make_group_session(world, members=3)
    for row in rows:
        gw.attendance_arrive(
            actor=world.clinician_a,
            attendance=row,
            at=session.starts_at + timedelta(minutes=5 * rows.index(row)),
        )
    gw.practice_record_save(
        actor=world.clinician_a,
        session=session,
        participant=people[0],
        skill="Thought record",
        role_taken="person practising",
        rating=4,
        feedback_themes=["clear request"],
    )
    return session, people, [r.__class__.objects.get(pk=r.pk) for r in rows]


def _draft(world, session, row) -> Note:
    return gw.note_draft(actor=world.clinician_a, session=session, attendance=row)


def test_draft_is_individual(world: World, group):
    session, _, rows = group
    first, second = _draft(world, session, rows[0]), _draft(world, session, rows[1])
    assert "Attended 180 of 180 minutes" in first.sections["data"]
    assert "Practised Thought record" in first.sections["data"]
    assert "arrived 5 minutes late" in second.sections["data"]
    assert first.sections != second.sections
    assert _draft(world, session, rows[0]).pk == first.pk  # drafting again keeps the draft


def test_absent_participant_gets_no_note(world: World, group):
    session, _, rows = group
    gw.attendance_absent(actor=world.clinician_a, attendance=rows[2], reason="Sick")
    with pytest.raises(ActionError) as exc:
        _draft(world, session, rows[2].__class__.objects.get(pk=rows[2].pk))
    assert "attendance" in exc.value.errors


def test_GRP_01_signing_blocked_while_a_peer_is_named(world: World, group):
    session, people, rows = group
    note = _draft(world, session, rows[0])
    peer = people[1]
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={
            "assessment": f"Supported {peer.legal_first_name.upper()}'s attempt; engaged well."
        },
    )
    with pytest.raises(gw.PeerNamedError) as exc:
        gw.note_sign(actor=world.clinician_a, note=note)
    assert "assessment" in exc.value.errors
    fixed = gw.note_replace_peers(actor=world.clinician_a, note=note, expected_version=note.version)
    assert "a peer's attempt" in fixed.sections["assessment"]
    signed = gw.note_sign(actor=world.clinician_a, note=fixed)
    assert signed.status == NoteStatus.SIGNED and signed.content_hash


def test_GRP_01_record_number_and_preferred_name_are_caught(world: World, group):
    session, people, rows = group
    people[1].preferred_name = "Dori"
    people[1].save()
    note = _draft(world, session, rows[0])
    for text in (f"Sat next to {people[1].record_number.lower()}.", "Dori offered feedback."):
        updated = gw.note_update(
            actor=world.clinician_a,
            note=note,
            expected_version=note.version,
            sections={"assessment": text},
        )
        with pytest.raises(gw.PeerNamedError):
            gw.note_sign(actor=world.clinician_a, note=updated)
        note = updated


def test_GRP_01_supervisor_override_records_reason(world: World, group):
    session, people, rows = group
    note = _draft(world, session, rows[0])
    note = gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=note.version,
        sections={"assessment": f"Talked about {people[1].legal_last_name} Park, a local place."},
    )
    with pytest.raises(ActionError):
        gw.note_guard_override(actor=world.clinician_a, note=note, reason="It is a park name")
    gw.note_guard_override(
        actor=world.supervisor_a, note=note, reason="The name is a park in town, not a member."
    )
    signed = gw.note_sign(actor=world.clinician_a, note=Note.objects.get(pk=note.pk))
    assert signed.guard_override_reason.startswith("The name is a park")
    assert signed.guard_override_by == world.supervisor_a


def test_IN_01_signed_note_rejects_orm_save_queryset_update_and_raw_sql(world: World, group):
    session, _, rows = group
    note = gw.note_sign(actor=world.clinician_a, note=_draft(world, session, rows[0]))
    note = Note.objects.get(pk=note.pk)
    signed_sections, signed_hash = dict(note.sections), note.content_hash
    note.sections = {"data": "rewritten", "assessment": "x", "plan": "y"}
    with pytest.raises(SignedNoteError):
        note.save()
    with pytest.raises(SignedNoteError):
        Note.objects.filter(pk=note.pk).update(sections={})
    with pytest.raises(SignedNoteError):
        note.delete()
    if connection.vendor == "postgresql":
        with (
            pytest.raises(Exception, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE groupwork_note SET sections = '{}' WHERE id = %s", [note.pk])
    stored = Note.objects.get(pk=note.pk)
    assert stored.sections == signed_sections and stored.content_hash == signed_hash
    assert stored.content_hash == stored.compute_hash()
    assert gw.note_verify_hash(stored)


def test_IN_02_hash_detects_tampering(world: World, group):
    session, _, rows = group
    note = gw.note_sign(actor=world.clinician_a, note=_draft(world, session, rows[0]))
    tampered = Note.objects.get(pk=note.pk)
    tampered.sections = {**tampered.sections, "data": "something else"}
    assert not gw.note_verify_hash(tampered)


def test_addendum_keeps_original_visible(world: World, group):
    session, _, rows = group
    note = gw.note_sign(actor=world.clinician_a, note=_draft(world, session, rows[0]))
    original = dict(Note.objects.get(pk=note.pk).sections)
    addendum = gw.note_addendum_add(
        actor=world.clinician_a, note=note, reason="Late information", text="Reported good sleep."
    )
    assert Note.objects.get(pk=note.pk).sections == original
    assert list(note.addenda.all()) == [addendum]
    with pytest.raises(ActionError):
        gw.note_addendum_add(actor=world.clinician_a, note=note, reason="", text="")


def test_IN_03_stale_draft_edit_is_refused(world: World, group):
    session, _, rows = group
    note = _draft(world, session, rows[0])
    gw.note_update(
        actor=world.clinician_a,
        note=note,
        expected_version=1,
        sections={"assessment": "First edit."},
    )
    with pytest.raises(ConflictError) as exc:
        gw.note_update(
            actor=world.supervisor_a,
            note=note,
            expected_version=1,
            sections={"assessment": "Second edit."},
        )
    assert "version" in exc.value.errors
    assert Note.objects.get(pk=note.pk).sections["assessment"] == "First edit."


def test_sign_all_signs_the_clean_and_reports_the_rest(world: World, group):
    session, people, rows = group
    notes = [_draft(world, session, r) for r in rows]
    gw.note_update(
        actor=world.clinician_a,
        note=notes[2],
        expected_version=1,
        sections={"assessment": f"Paired with {people[0].legal_first_name}."},
    )
    for n in notes[:2]:
        gw.note_update(
            actor=world.clinician_a, note=n, expected_version=1, sections={"assessment": "Engaged."}
        )
    signed, refused = gw.note_sign_all(actor=world.clinician_a, session=session)
    assert len(signed) == 2 and list(refused) == [str(notes[2].external_id)]


def test_identical_notes_are_refused(world: World, group):
    session, _, rows = group
    a, b = _draft(world, session, rows[0]), _draft(world, session, rows[1])
    same = {"data": "Attended.", "assessment": "Engaged.", "plan": "Continue."}
    gw.note_update(actor=world.clinician_a, note=a, expected_version=1, sections=same)
    gw.note_update(actor=world.clinician_a, note=b, expected_version=1, sections=same)
    gw.note_sign(actor=world.clinician_a, note=a)
    with pytest.raises(ActionError) as exc:
        gw.note_sign(actor=world.clinician_a, note=b)
    assert "data" in exc.value.errors


def test_cosign_by_supervisor_only(world: World, group):
    session, _, rows = group
    note = gw.note_sign(actor=world.clinician_a, note=_draft(world, session, rows[0]))
    with pytest.raises(ActionError):
        gw.note_cosign(actor=world.clinician_a, note=note)
    cosign = gw.note_cosign(actor=world.supervisor_a, note=note)
    assert cosign.supervisor == world.supervisor_a
