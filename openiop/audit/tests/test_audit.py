from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.db import transaction

from openiop.audit.actions import audit_record
from openiop.audit.models import AuditEvent, AuditHead
from openiop.audit.tests.tamper import raw_as_attacker, run_cli
from openiop.audit.verify import audit_verify
from openiop.participants import actions
from openiop.participants.models import Participant
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _raw(sql: str, params: list) -> None:
    # Tampering goes around the ORM (and, on PostgreSQL, around the append-only triggers),
    # as an attacker with superuser access to the database would.
    raw_as_attacker(sql, params)


def _make_events(n: int, world: World) -> None:
    for i in range(n):
        audit_record(
            actor=world.clinician_a, action="read", obj=world.participant_a, detail={"i": i}
        )


def test_chain_is_gap_free_and_verifies(world: World):
    _make_events(20, world)
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    result = audit_verify()
    assert result.ok and result.checked == len(seqs)


def test_verify_detects_edited_row(world: World):
    _make_events(30, world)
    _raw("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["export", 15])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 15


def test_verify_detects_deleted_row(world: World):
    _make_events(30, world)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [20])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 20


def test_verify_detects_truncated_tail(world: World):
    _make_events(30, world)
    last = AuditHead.objects.get(id=1).last_seq
    _raw("DELETE FROM audit_auditevent WHERE seq > %s", [last - 5])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == last - 4


def test_audit_verify_command_exit_codes(world: World, capsys):
    _make_events(5, world)
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    _raw("UPDATE audit_auditevent SET object_id = %s WHERE seq = %s", ["x", 3])
    with pytest.raises(SystemExit) as exc:
        run_cli(["audit", "verify"])
    assert exc.value.code == 1
    assert "sequence 3" in capsys.readouterr().err


def test_REL_02_write_and_audit_roll_back_together(world: World, monkeypatch):
    """Fault injection: the audit append fails after the participant row was written."""
    from openiop.audit import actions as audit_actions

    events_before = AuditEvent.objects.count()
    people_before = Participant.objects.count()
    real_append = audit_actions.audit_append
    calls = {"n": 0}

    def failing_append(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # participant event written, enrollment event fails
            raise RuntimeError("disk full")
        return real_append(**kwargs)

    monkeypatch.setattr(audit_actions, "audit_append", failing_append)
    with pytest.raises(RuntimeError):
        actions.participant_admit(
            actor=world.clinician_a,
            program=world.program_a,
            demographics=actions.Demographics(
                legal_first_name="Fault", legal_last_name="Injected", date_of_birth=date(1990, 1, 1)
            ),
            track=world.track_a,
            admitted_on=today(),
            primary_clinician=world.clinician_a,
        )
    assert Participant.objects.count() == people_before
    assert AuditEvent.objects.count() == events_before
    assert audit_verify().ok


def test_REL_02_exception_after_write_rolls_back_both(world: World):
    events_before = AuditEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.participant_update(
            actor=world.clinician_a,
            participant=world.participant_a,
            expected_version=1,
            changes={"phone": "1"},
        )
        _ = 1 / 0
    world.participant_a.refresh_from_db()
    assert world.participant_a.phone == "" and world.participant_a.version == 1
    assert AuditEvent.objects.count() == events_before


def test_events_carry_opaque_ids_only(world: World):
    event = audit_record(actor=world.clinician_a, action="read", obj=world.participant_a)
    assert event.participant_external_id == world.participant_a.external_id
    assert event.program_external_id == world.program_a.external_id
    text = str(AuditEvent.objects.filter(pk=event.pk).values().get())
    assert "Quillby" not in text and "Avery" not in text
