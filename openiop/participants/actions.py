"""Every write to participants and enrollments. Views, the API, seed and tests call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from openiop.accounts.invitations import portal_access_end
from openiop.accounts.models import Membership, User, UserKind
from openiop.accounts.roles import Role
from openiop.audit.actions import audit_record
from openiop.consent.actions import part2_notice_receipt_record
from openiop.core.clock import program_today
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import (
    DischargeReason,
    Enrollment,
    Participant,
    Phase,
    PhaseChange,
    PortalLanguage,
    SexForScoring,
    StepDownDestination,
)
from openiop.portal.alumni import alumni_start
from openiop.programs.models import Population, Program, Track

# Admissions may be booked ahead, but not so far that a typo in the year slips through.
MAX_DAYS_AHEAD = 60
CASELOAD_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.PROGRAM_DIRECTOR)
# Adolescent programs commonly serve young people up to their 21st birthday.
ADOLESCENT_AGE_RANGE = (12, 20)
ADULT_MIN_AGE = 18

DEMOGRAPHIC_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "sex_for_scoring",
    "gender_identity",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "language",
)


@dataclass(frozen=True)
class Demographics:
    legal_first_name: str
    legal_last_name: str
    date_of_birth: date
    preferred_name: str = ""
    pronouns: str = ""
    sex_for_scoring: str = SexForScoring.UNKNOWN
    gender_identity: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    emergency_contact_name: str = ""
    emergency_contact_relationship: str = ""
    emergency_contact_phone: str = ""
    language: str = PortalLanguage.ENGLISH


def _validate_demographics(demo: Demographics, program: Program, on: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not demo.legal_first_name.strip():
        errors["legal_first_name"] = "Enter the participant's legal first name."
    if not demo.legal_last_name.strip():
        errors["legal_last_name"] = "Enter the participant's legal last name."
    if demo.sex_for_scoring not in SexForScoring.values:
        errors["sex_for_scoring"] = f"Choose one of: {', '.join(SexForScoring.values)}."
    if demo.language not in PortalLanguage.values:
        errors["language"] = f"Choose one of: {', '.join(PortalLanguage.values)}."
    if demo.date_of_birth >= on:
        errors["date_of_birth"] = "Date of birth must be before the admission date."
    else:
        errors.update(_age_errors(demo.date_of_birth, program, on))
    if bool(demo.emergency_contact_name.strip()) != bool(demo.emergency_contact_phone.strip()):
        field = (
            "emergency_contact_phone"
            if demo.emergency_contact_name.strip()
            else "emergency_contact_name"
        )
        errors[field] = "Give both the emergency contact's name and phone number, or neither."
    return errors


def _age_errors(born: date, program: Program, on: date) -> dict[str, str]:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if program.population == Population.ADULT and age < ADULT_MIN_AGE:
        return {"date_of_birth": f"This is an adult program; the participant would be {age}."}
    low, high = ADOLESCENT_AGE_RANGE
    if program.population == Population.ADOLESCENT and not low <= age <= high:
        return {
            "date_of_birth": f"This adolescent program serves ages {low}–{high}; "
            f"the participant would be {age}."
        }
    if age > 110:
        return {"date_of_birth": "Check the year: that would make the participant over 110."}
    return {}


def _validate_episode(
    *, program: Program, track: Track, primary_clinician: User, admitted_on: date
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if track.program_id != program.pk or not track.is_active:
        errors["track"] = "Choose an active track of this program."
    is_caseload_member = (
        primary_clinician.kind == UserKind.STAFF
        and Membership.objects.filter(
            user=primary_clinician, program=program, is_active=True, role__in=CASELOAD_ROLES
        ).exists()
    )
    if not is_caseload_member:
        errors["primary_clinician"] = "Choose a clinician who works in this program."
    if admitted_on > program_today(program) + timedelta(days=MAX_DAYS_AHEAD):
        errors["admitted_on"] = f"Admission can be booked at most {MAX_DAYS_AHEAD} days ahead."
    return errors


def _next_record_number(program: Program) -> str:
    locked = Program.objects.select_for_update().get(pk=program.pk)
    number = locked.next_record_number
    locked.next_record_number = number + 1
    locked.save(update_fields=["next_record_number"])
    return f"{locked.record_prefix}-{number:06d}"


def _open_enrollment(
    *,
    actor: User,
    participant: Participant,
    track: Track,
    admitted_on: date,
    primary_clinician: User,
    phase: str,
) -> Enrollment:
    enrollment = Enrollment(
        program=participant.program,
        participant=participant,
        track=track,
        admitted_on=admitted_on,
        phase=phase,
        primary_clinician=primary_clinician,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        raise ConflictError(
            {"participant": "This participant already has an open episode of care."}
        ) from None
    audit_record(actor=actor, action="create", obj=enrollment, detail={"phase": phase})
    return enrollment


@transaction.atomic
def participant_admit(
    *,
    actor: User,
    program: Program,
    demographics: Demographics,
    track: Track,
    admitted_on: date,
    primary_clinician: User,
    phase: str = Phase.ENGAGEMENT,
    part2_notice_given: bool = False,
) -> tuple[Participant, Enrollment]:
    """Register a new participant and open their first episode of care.

    `part2_notice_given`: the participant received the program's 42 CFR Part 2 notice at
    admission (§2.22); its receipt is recorded, dated today, in the same transaction."""
    errors = _validate_demographics(demographics, program, admitted_on)
    errors.update(
        _validate_episode(
            program=program,
            track=track,
            primary_clinician=primary_clinician,
            admitted_on=admitted_on,
        )
    )
    if phase not in Phase.values:
        errors["phase"] = f"Choose one of: {', '.join(Phase.values)}."
    if errors:
        raise ActionError(errors)
    participant = Participant(
        program=program,
        record_number=_next_record_number(program),
        created_by=actor,
        **{name: _clean(getattr(demographics, name)) for name in DEMOGRAPHIC_FIELDS},
    )
    participant.save()
    audit_record(actor=actor, action="create", obj=participant)
    enrollment = _open_enrollment(
        actor=actor,
        participant=participant,
        track=track,
        admitted_on=admitted_on,
        primary_clinician=primary_clinician,
        phase=phase,
    )
    if part2_notice_given:
        part2_notice_receipt_record(
            actor=actor, participant=participant, given_on=program_today(program)
        )
    return participant, enrollment


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


@transaction.atomic
def enrollment_readmit(
    *,
    actor: User,
    participant: Participant,
    track: Track,
    admitted_on: date,
    primary_clinician: User,
    phase: str = Phase.ENGAGEMENT,
) -> Enrollment:
    """Open a new episode for a participant whose previous episodes are all closed."""
    program = participant.program
    errors = _validate_episode(
        program=program, track=track, primary_clinician=primary_clinician, admitted_on=admitted_on
    )
    last = participant.enrollments.order_by("-admitted_on").first()
    if last is not None and last.discharged_on and admitted_on < last.discharged_on:
        errors["admitted_on"] = f"Must be on or after the last discharge ({last.discharged_on})."
    if phase not in Phase.values:
        errors["phase"] = f"Choose one of: {', '.join(Phase.values)}."
    if errors:
        raise ActionError(errors)
    return _open_enrollment(
        actor=actor,
        participant=participant,
        track=track,
        admitted_on=admitted_on,
        primary_clinician=primary_clinician,
        phase=phase,
    )


def _lock_open(enrollment: Enrollment) -> Enrollment:
    locked = (
        Enrollment.objects.select_for_update().select_related("participant").get(pk=enrollment.pk)
    )
    if not locked.is_open:
        raise ConflictError({"enrollment": "This episode of care is already closed."})
    return locked


@transaction.atomic
def enrollment_change_phase(
    *, actor: User, enrollment: Enrollment, to_phase: str, effective_on: date, reason: str
) -> PhaseChange:
    locked = _lock_open(enrollment)
    errors: dict[str, str] = {}
    if to_phase not in Phase.values:
        errors["to_phase"] = f"Choose one of: {', '.join(Phase.values)}."
    elif to_phase == locked.phase:
        errors["to_phase"] = "The participant is already in this phase."
    if effective_on < locked.admitted_on:
        errors["effective_on"] = f"Must be on or after admission ({locked.admitted_on})."
    if effective_on > program_today(locked.program) + timedelta(days=1):
        errors["effective_on"] = "A phase change cannot take effect in the future."
    if not reason.strip():
        errors["reason"] = "Say why the phase is changing (it goes in the chart)."
    if errors:
        raise ActionError(errors)
    change = PhaseChange.objects.create(
        program=locked.program,
        enrollment=locked,
        from_phase=locked.phase,
        to_phase=to_phase,
        effective_on=effective_on,
        reason=reason.strip(),
        created_by=actor,
    )
    locked.phase = to_phase
    locked.save(update_fields=["phase", "updated_at"])
    audit_record(
        actor=actor, action="update", obj=locked, detail={"from": change.from_phase, "to": to_phase}
    )
    enrollment.phase = to_phase
    return change


@transaction.atomic
def enrollment_discharge(
    *,
    actor: User,
    enrollment: Enrollment,
    discharged_on: date,
    reason: str,
    step_down_destination: str,
    note: str = "",
    keep_alumni: bool = False,
) -> Enrollment:
    """Close the episode. Portal access ends with it unless the participant chose an alumni
    account (`keep_alumni`), which keeps check-ins, the safety plan and "get help now"
    (openiop.portal.alumni)."""
    locked = _lock_open(enrollment)
    errors: dict[str, str] = {}
    if discharged_on < locked.admitted_on:
        errors["discharged_on"] = f"Must be on or after admission ({locked.admitted_on})."
    if discharged_on > program_today(locked.program) + timedelta(days=1):
        errors["discharged_on"] = "A discharge cannot be recorded for a future date."
    if reason not in DischargeReason.values:
        errors["reason"] = f"Choose one of: {', '.join(DischargeReason.values)}."
    if step_down_destination not in StepDownDestination.values:
        errors["step_down_destination"] = f"Choose one of: {', '.join(StepDownDestination.values)}."
    if errors:
        raise ActionError(errors)
    locked.discharged_on = discharged_on
    locked.discharge_reason = reason
    locked.step_down_destination = step_down_destination
    locked.discharge_note = note.strip()
    locked.save()
    # Discharge ends portal access (issue 15 §6) unless the participant keeps an alumni
    # account (§4).
    if keep_alumni:
        alumni_start(actor=actor, enrollment=locked)
    else:
        portal_access_end(actor=actor, participant=locked.participant)
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={
            "discharge_reason": reason,
            "destination": step_down_destination,
            "alumni": keep_alumni,
        },
    )
    return locked


@transaction.atomic
def participant_update(
    *, actor: User, participant: Participant, expected_version: int, changes: dict[str, Any]
) -> Participant:
    """Edit demographics with optimistic concurrency: a stale version is refused."""
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ActionError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    locked = (
        Participant.objects.select_for_update().select_related("program").get(pk=participant.pk)
    )
    if locked.version != expected_version:
        raise ConflictError(
            {
                "version": "Someone else changed this record since you opened it. Reload to see "
                "their changes, then make yours again."
            }
        )
    merged = Demographics(
        **{name: changes.get(name, getattr(locked, name)) for name in DEMOGRAPHIC_FIELDS}
    )
    first_admission = (
        locked.enrollments.order_by("admitted_on").values_list("admitted_on", flat=True).first()
    )
    errors = _validate_demographics(
        merged, locked.program, first_admission or program_today(locked.program)
    )
    if errors:
        raise ActionError(errors)
    changed = [
        name
        for name in DEMOGRAPHIC_FIELDS
        if getattr(locked, name) != _clean(getattr(merged, name))
    ]
    for name in changed:
        setattr(locked, name, _clean(getattr(merged, name)))
    locked.version += 1
    locked.save()
    # Which fields changed is recorded; their values (PHI) are not copied into the log.
    audit_record(actor=actor, action="update", obj=locked, detail={"fields": changed})
    return locked


@transaction.atomic
def participant_language_set(
    *, actor: User, participant: Participant, language: Any
) -> Participant:
    """The participant's own choice of portal language (docs/portal.md, "Languages"). Only
    the participant's own account may make it here; staff change it on the edit page
    (`participant_update`), with the record's version check."""
    if participant.user_id is None or actor.pk != participant.user_id:
        raise PermissionDenied("only the participant chooses their portal language here")
    if language not in PortalLanguage.values:
        raise ActionError({"language": f"Choose one of: {', '.join(PortalLanguage.values)}."})
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.language != language:
        locked.language = language
        # A staff edit form opened before this change must not silently undo it (IN-03).
        locked.version += 1
        locked.save(update_fields=["language", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        detail={"fields": ["language"], "language": language},
    )
    return locked
