from __future__ import annotations

from datetime import date, timedelta

import pytest

from openiop.accounts.roles import Role
from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError, ConflictError
from openiop.participants import actions
from openiop.participants.models import Enrollment, Participant, Phase, PhaseChange
from openiop.testing import World, admit, make_program, make_staff, make_track, today

pytestmark = pytest.mark.django_db


def _demo(**overrides):
    base = {
        "legal_first_name": "Robin",
        "legal_last_name": "Fernby",
        "date_of_birth": date(1988, 2, 3),
    }
    base.update(overrides)
    return actions.Demographics(**base)


def test_admit_creates_participant_episode_and_audit(world: World):
    before = AuditEvent.objects.count()
    participant, enrollment = actions.participant_admit(
        actor=world.clinician_a,
        program=world.program_a,
        demographics=_demo(preferred_name="Rob", pronouns="they/them"),
        track=world.track_a,
        admitted_on=today(),
        primary_clinician=world.clinician_a,
    )
    assert participant.record_number.startswith("P-")
    assert enrollment.phase == Phase.ENGAGEMENT and enrollment.is_open
    assert participant.display_name == "Rob Fernby"
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.object_type for e in events] == [
        "participants.participant",
        "participants.enrollment",
    ]
    assert all(e.actor_id == world.clinician_a.pk for e in events)


def test_record_numbers_are_sequential_per_program(world: World):
    p1, _ = admit(world.program_a, world.track_a, world.clinician_a, first="One")
    p2, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Two")
    n1, n2 = int(p1.record_number.split("-")[1]), int(p2.record_number.split("-")[1])
    assert n2 == n1 + 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_first_name": "  "}, "legal_first_name"),
        ({"legal_last_name": ""}, "legal_last_name"),
        ({"date_of_birth": today() + timedelta(days=1)}, "date_of_birth"),
        ({"date_of_birth": today() - timedelta(days=365 * 15)}, "date_of_birth"),
        ({"sex_for_scoring": "x"}, "sex_for_scoring"),
        ({"emergency_contact_name": "Kim"}, "emergency_contact_phone"),
    ],
)
def test_admit_rejects_bad_demographics_naming_the_field(world: World, overrides, field):
    count = Participant.objects.count()
    with pytest.raises(ActionError) as exc:
        actions.participant_admit(
            actor=world.clinician_a,
            program=world.program_a,
            demographics=_demo(**overrides),
            track=world.track_a,
            admitted_on=today(),
            primary_clinician=world.clinician_a,
        )
    assert field in exc.value.errors
    assert Participant.objects.count() == count


def test_admit_rejects_track_and_clinician_of_another_program(world: World):
    count = Participant.objects.count()
    with pytest.raises(ActionError) as exc:
        actions.participant_admit(
            actor=world.clinician_a,
            program=world.program_a,
            demographics=_demo(),
            track=world.track_b,
            admitted_on=today(),
            primary_clinician=world.clinician_b,
        )
    assert set(exc.value.errors) == {"track", "primary_clinician"}
    assert Participant.objects.count() == count  # nothing half-saved


def test_billing_staff_cannot_be_primary_clinician(world: World):
    with pytest.raises(ActionError) as exc:
        actions.participant_admit(
            actor=world.clinician_a,
            program=world.program_a,
            demographics=_demo(),
            track=world.track_a,
            admitted_on=today(),
            primary_clinician=world.billing_a,
        )
    assert "primary_clinician" in exc.value.errors


def test_adolescent_program_checks_age():
    program = make_program(population="adolescent")
    track = make_track(program)
    clinician = make_staff(program, Role.CLINICIAN)
    admit(program, track, clinician, born=today() - timedelta(days=365 * 15))
    with pytest.raises(ActionError) as exc:
        admit(program, track, clinician, born=date(1980, 1, 1))
    assert "date_of_birth" in exc.value.errors


def test_admission_far_in_future_is_refused(world: World):
    with pytest.raises(ActionError) as exc:
        admit(
            world.program_a,
            world.track_a,
            world.clinician_a,
            admitted_on=today() + timedelta(days=90),
        )
    assert "admitted_on" in exc.value.errors


def test_change_phase_records_history_and_validates(world: World):
    change = actions.enrollment_change_phase(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        to_phase=Phase.EARLY_RECOVERY,
        effective_on=today(),
        reason="Attending reliably",
    )
    assert change.from_phase == Phase.ENGAGEMENT
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.phase == Phase.EARLY_RECOVERY
    with pytest.raises(ActionError) as exc:
        actions.enrollment_change_phase(
            actor=world.clinician_a,
            enrollment=world.enrollment_a,
            to_phase=Phase.EARLY_RECOVERY,
            effective_on=today(),
            reason="",
        )
    assert set(exc.value.errors) == {"to_phase", "reason"}
    assert PhaseChange.objects.filter(enrollment=world.enrollment_a).count() == 1


def test_discharge_then_readmit_new_episode(world: World):
    closed = actions.enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(),
        reason="stepped_down",
        step_down_destination="outpatient",
        note="Stepping down to weekly therapy",
    )
    assert not closed.is_open
    with pytest.raises(ConflictError):
        actions.enrollment_discharge(
            actor=world.clinician_a,
            enrollment=world.enrollment_a,
            discharged_on=today(),
            reason="completed",
            step_down_destination="outpatient",
        )
    second = actions.enrollment_readmit(
        actor=world.clinician_a,
        participant=world.participant_a,
        track=world.track_a,
        admitted_on=today(),
        primary_clinician=world.clinician_a,
    )
    assert second.is_open
    assert Enrollment.objects.filter(participant=world.participant_a).count() == 2


def test_readmit_refused_while_episode_open(world: World):
    with pytest.raises(ConflictError) as exc:
        actions.enrollment_readmit(
            actor=world.clinician_a,
            participant=world.participant_a,
            track=world.track_a,
            admitted_on=today(),
            primary_clinician=world.clinician_a,
        )
    assert "participant" in exc.value.errors


def test_discharge_validates_fields(world: World):
    with pytest.raises(ActionError) as exc:
        actions.enrollment_discharge(
            actor=world.clinician_a,
            enrollment=world.enrollment_a,
            discharged_on=world.enrollment_a.admitted_on - timedelta(days=1),
            reason="bored",
            step_down_destination="moon",
        )
    assert set(exc.value.errors) == {"discharged_on", "reason", "step_down_destination"}
    world.enrollment_a.refresh_from_db()
    assert world.enrollment_a.is_open


def test_update_uses_optimistic_concurrency(world: World):
    p = world.participant_a
    actions.participant_update(
        actor=world.clinician_a, participant=p, expected_version=1, changes={"pronouns": "he/him"}
    )
    with pytest.raises(ConflictError) as exc:
        actions.participant_update(
            actor=world.supervisor_a,
            participant=p,
            expected_version=1,
            changes={"pronouns": "she/her"},
        )
    assert "version" in exc.value.errors
    p.refresh_from_db()
    assert p.pronouns == "he/him" and p.version == 2


def test_update_refuses_protected_fields(world: World):
    with pytest.raises(ActionError) as exc:
        actions.participant_update(
            actor=world.clinician_a,
            participant=world.participant_a,
            expected_version=1,
            changes={"record_number": "X-1", "program": 5},
        )
    assert set(exc.value.errors) == {"record_number", "program"}


def test_update_audit_names_fields_not_values(world: World):
    actions.participant_update(
        actor=world.clinician_a,
        participant=world.participant_a,
        expected_version=1,
        changes={"phone": "555-0199"},
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.detail == {"fields": ["phone"]}
    assert "555-0199" not in str(event.detail)


def _admit_with_notice(world: World):
    return actions.participant_admit(
        actor=world.intake_a,
        program=world.program_a,
        demographics=_demo(),
        track=world.track_a,
        admitted_on=today(),
        primary_clinician=world.clinician_a,
        part2_notice_given=True,
    )


def test_admit_with_part2_notice_records_the_receipt_and_audits_it(world: World):
    from openiop.consent.models import NoticeReceiptMethod, Part2NoticeReceipt

    before = AuditEvent.objects.count()
    participant, _ = _admit_with_notice(world)
    receipt = Part2NoticeReceipt.objects.get(participant=participant)
    assert receipt.program == world.program_a and receipt.given_on == today()
    assert receipt.method == NoticeReceiptMethod.IN_PERSON
    assert receipt.created_by == world.intake_a
    created = AuditEvent.objects.filter(seq__gt=before, action="create")
    assert created.filter(object_id=str(receipt.external_id)).exists()
    assert created.filter(object_id=str(participant.external_id)).exists()


def test_admit_without_part2_notice_records_no_receipt(world: World):
    from openiop.consent.models import Part2NoticeReceipt

    actions.participant_admit(
        actor=world.intake_a,
        program=world.program_a,
        demographics=_demo(),
        track=world.track_a,
        admitted_on=today(),
        primary_clinician=world.clinician_a,
    )
    assert not Part2NoticeReceipt.objects.exists()


def test_admit_with_part2_notice_saves_nothing_when_the_receipt_fails(world: World, monkeypatch):
    from openiop.audit import actions as audit_actions

    real = audit_actions.audit_record

    def fail_on_receipt(*, obj, **kwargs):
        if type(obj).__name__ == "Part2NoticeReceipt":
            raise RuntimeError("audit store unavailable")
        return real(obj=obj, **kwargs)

    monkeypatch.setattr("openiop.consent.actions.audit_record", fail_on_receipt)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        _admit_with_notice(world)
    assert not Participant.objects.filter(legal_last_name="Fernby").exists()
    assert not Enrollment.objects.filter(participant__legal_last_name="Fernby").exists()
    assert AuditEvent.objects.count() == before
