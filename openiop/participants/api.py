"""Participants and episodes of care over JSON. Same actions and scoping as the web UI."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.models import User
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import clinicians_for_program
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record, audit_record_reads
from openiop.core.errors import ActionError
from openiop.participants import actions, selectors
from openiop.participants.models import Enrollment, Participant, Phase
from openiop.programs.models import Track

router = Router(tags=["participants"])

PhaseCode = Literal["engagement", "early_recovery", "maintenance", "community_integration"]
SexCode = Literal["female", "male", "unknown"]
LanguageCode = Literal["en", "es"]
DischargeReasonCode = Literal[
    "completed",
    "stepped_down",
    "stepped_up",
    "left_against_advice",
    "lost_contact",
    "transferred",
    "administrative",
    "other",
]
DestinationCode = Literal[
    "outpatient",
    "php",
    "residential",
    "inpatient",
    "peer_support",
    "primary_care",
    "none",
    "unknown",
]


class PersonRef(Schema):
    id: UUID
    name: str


class TrackRef(Schema):
    id: UUID
    name: str
    code: str


class EnrollmentOut(Schema):
    id: UUID
    participant: UUID
    track: TrackRef
    admitted_on: date
    phase: str
    primary_clinician: PersonRef
    is_open: bool
    discharged_on: date | None
    discharge_reason: str
    step_down_destination: str
    discharge_note: str


class ParticipantSummaryOut(Schema):
    id: UUID
    record_number: str
    display_name: str
    pronouns: str
    episode: EnrollmentOut | None


class ParticipantOut(Schema):
    id: UUID
    record_number: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    pronouns: str
    date_of_birth: date
    sex_for_scoring: str
    language: str
    gender_identity: str
    phone: str
    email: str
    address: str
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    version: int
    episodes: list[EnrollmentOut]


class ParticipantPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ParticipantSummaryOut]


class DemographicsIn(StrictIn):
    legal_first_name: str = Field(min_length=1, max_length=100)
    legal_last_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    pronouns: str = Field("", max_length=40)
    date_of_birth: date
    sex_for_scoring: SexCode = "unknown"
    language: LanguageCode = Field("en", description="The participant portal's language.")
    gender_identity: str = Field("", max_length=100)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=1000)
    emergency_contact_name: str = Field("", max_length=200)
    emergency_contact_relationship: str = Field("", max_length=100)
    emergency_contact_phone: str = Field("", max_length=32)


class EpisodeIn(StrictIn):
    track: UUID
    admitted_on: date
    primary_clinician: UUID
    phase: PhaseCode = "engagement"


class AdmitIn(DemographicsIn):
    track: UUID
    admitted_on: date
    primary_clinician: UUID
    phase: PhaseCode = "engagement"
    part2_notice_given: bool = Field(
        False,
        description="The participant received the 42 CFR Part 2 notice (§2.22): its receipt is "
        "recorded with the admission, as the admit page's box does.",
    )


class ParticipantPatchIn(StrictIn):
    version: int = Field(ge=1, description="The version you read; a stale version gets 409.")
    legal_first_name: str | None = Field(None, min_length=1, max_length=100)
    legal_last_name: str | None = Field(None, min_length=1, max_length=100)
    preferred_name: str | None = Field(None, max_length=100)
    pronouns: str | None = Field(None, max_length=40)
    date_of_birth: date | None = None
    sex_for_scoring: SexCode | None = None
    language: LanguageCode | None = None
    gender_identity: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    address: str | None = Field(None, max_length=1000)
    emergency_contact_name: str | None = Field(None, max_length=200)
    emergency_contact_relationship: str | None = Field(None, max_length=100)
    emergency_contact_phone: str | None = Field(None, max_length=32)


class PhaseChangeIn(StrictIn):
    to_phase: PhaseCode
    effective_on: date
    reason: str = Field(min_length=1, max_length=2000)


class DischargeIn(StrictIn):
    discharged_on: date
    reason: DischargeReasonCode
    step_down_destination: DestinationCode
    note: str = Field("", max_length=4000)
    keep_alumni: bool = Field(
        False,
        description="Keep the participant's portal account as an alumni account (check-ins, "
        "safety plan, help); otherwise discharge ends portal access.",
    )


class ListFilters(Schema):
    q: str = Field("", max_length=100)
    track: UUID | None = None
    phase: PhaseCode | None = None
    clinician: UUID | None = None
    status: Literal["active", "discharged", "all"] = "active"
    # At most 50 a page: each shown participant is an audit row, and 50 fit one INSERT
    # on every database, so a page costs the same queries however large the program.
    limit: int = Field(50, ge=1, le=50)
    offset: int = Field(0, ge=0)


def _access(request: HttpRequest, program_id: UUID, perm: Perm) -> ProgramAccess:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    return access


def enrollment_out(e: Enrollment) -> EnrollmentOut:
    return EnrollmentOut(
        id=e.external_id,
        participant=e.participant.external_id,
        track=TrackRef(id=e.track.external_id, name=e.track.name, code=e.track.code),
        admitted_on=e.admitted_on,
        phase=e.phase,
        primary_clinician=PersonRef(
            id=e.primary_clinician.external_id, name=str(e.primary_clinician)
        ),
        is_open=e.is_open,
        discharged_on=e.discharged_on,
        discharge_reason=e.discharge_reason,
        step_down_destination=e.step_down_destination,
        discharge_note=e.discharge_note,
    )


def participant_out(p: Participant) -> ParticipantOut:
    fields = {name: getattr(p, name) for name in actions.DEMOGRAPHIC_FIELDS}
    for episode in selectors.episodes_of(p):
        episode.participant = p  # avoid a query per episode when serialising
    return ParticipantOut(
        id=p.external_id,
        record_number=p.record_number,
        version=p.version,
        episodes=[enrollment_out(e) for e in selectors.episodes_of(p)],
        **fields,
    )


def _track(program_access_: ProgramAccess, track_id: UUID) -> Track:
    track = (
        selectors.tracks_for_program(program=program_access_.program)
        .filter(external_id=track_id)
        .first()
    )
    if track is None:
        raise ActionError({"track": "No active track of this program has that id."})
    return track


def _clinician(access: ProgramAccess, clinician_id: UUID) -> User:
    clinician = (
        clinicians_for_program(program=access.program).filter(external_id=clinician_id).first()
    )
    if clinician is None:
        raise ActionError({"primary_clinician": "No clinician of this program has that id."})
    return clinician


@router.get("/{program_id}/participants", response=ParticipantPage, summary="Search participants")
def list_participants(
    request: HttpRequest, program_id: UUID, filters: Query[ListFilters]
) -> ParticipantPage:
    access = _access(request, program_id, Perm.PARTICIPANT_LIST)
    qs = selectors.participant_list(
        program=access.program,
        filters=selectors.ParticipantFilters(
            q=filters.q,
            track=filters.track,
            phase=filters.phase or "",
            clinician=filters.clinician,
            status=filters.status,
        ),
    )
    count = qs.count()
    shown = list(qs[filters.offset : filters.offset + filters.limit])
    audit_record_reads(
        actor=request_user(request),
        objects=shown,
        program=access.program,
        view="api.participant_list",
    )
    items = []
    for p in shown:
        episode = selectors.latest_episode(p)
        if episode is not None:
            episode.participant = p
        items.append(
            ParticipantSummaryOut(
                id=p.external_id,
                record_number=p.record_number,
                display_name=p.display_name,
                pronouns=p.pronouns,
                episode=enrollment_out(episode) if episode else None,
            )
        )
    return ParticipantPage(count=count, limit=filters.limit, offset=filters.offset, items=items)


@router.post(
    "/{program_id}/participants", response={201: ParticipantOut}, summary="Admit a participant"
)
def admit_participant(
    request: HttpRequest, program_id: UUID, payload: AdmitIn
) -> Status[ParticipantOut]:
    access = _access(request, program_id, Perm.PARTICIPANT_ADMIT)
    data = payload.model_dump()
    participant, _ = actions.participant_admit(
        actor=request_user(request),
        program=access.program,
        demographics=actions.Demographics(**{n: data[n] for n in actions.DEMOGRAPHIC_FIELDS}),
        track=_track(access, payload.track),
        admitted_on=payload.admitted_on,
        primary_clinician=_clinician(access, payload.primary_clinician),
        phase=payload.phase,
        part2_notice_given=payload.part2_notice_given,
    )
    fresh = selectors.participant_get(
        program=access.program, participant_id=participant.external_id
    )
    return Status(201, participant_out(fresh))


@router.get(
    "/{program_id}/participants/{participant_id}",
    response=ParticipantOut,
    summary="One participant",
)
def get_participant(request: HttpRequest, program_id: UUID, participant_id: UUID) -> ParticipantOut:
    access = _access(request, program_id, Perm.PARTICIPANT_VIEW_CHART)
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "api.participant"},
    )
    return participant_out(participant)


@router.patch(
    "/{program_id}/participants/{participant_id}",
    response=ParticipantOut,
    summary="Edit demographics",
)
def patch_participant(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: ParticipantPatchIn
) -> ParticipantOut:
    access = _access(request, program_id, Perm.PARTICIPANT_EDIT)
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    actions.participant_update(
        actor=request_user(request),
        participant=participant,
        expected_version=payload.version,
        changes=changes,
    )
    return participant_out(
        selectors.participant_get(program=access.program, participant_id=participant_id)
    )


@router.get(
    "/{program_id}/participants/{participant_id}/enrollments",
    response=list[EnrollmentOut],
    summary="Episodes of care",
)
def list_enrollments(
    request: HttpRequest, program_id: UUID, participant_id: UUID
) -> list[EnrollmentOut]:
    access = _access(request, program_id, Perm.PARTICIPANT_VIEW_CHART)
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "api.enrollments"},
    )
    return participant_out(participant).episodes


@router.post(
    "/{program_id}/participants/{participant_id}/enrollments",
    response={201: EnrollmentOut},
    summary="Open a new episode of care",
)
def readmit(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: EpisodeIn
) -> Status[EnrollmentOut]:
    access = _access(request, program_id, Perm.PARTICIPANT_ADMIT)
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    enrollment = actions.enrollment_readmit(
        actor=request_user(request),
        participant=participant,
        track=_track(access, payload.track),
        admitted_on=payload.admitted_on,
        primary_clinician=_clinician(access, payload.primary_clinician),
        phase=payload.phase,
    )
    return Status(201, enrollment_out(enrollment))


def _enrollment(access: ProgramAccess, participant_id: UUID, enrollment_id: UUID) -> Enrollment:
    participant = selectors.participant_get(program=access.program, participant_id=participant_id)
    return selectors.enrollment_get(
        program=access.program, participant=participant, enrollment_id=enrollment_id
    )


@router.post(
    "/{program_id}/participants/{participant_id}/enrollments/{enrollment_id}/phase",
    response=EnrollmentOut,
    summary="Change phase of care",
)
def change_phase(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    enrollment_id: UUID,
    payload: PhaseChangeIn,
) -> EnrollmentOut:
    access = _access(request, program_id, Perm.ENROLLMENT_CHANGE_PHASE)
    enrollment = _enrollment(access, participant_id, enrollment_id)
    actions.enrollment_change_phase(
        actor=request_user(request), enrollment=enrollment, **payload.model_dump()
    )
    return enrollment_out(enrollment)


@router.post(
    "/{program_id}/participants/{participant_id}/enrollments/{enrollment_id}/discharge",
    response=EnrollmentOut,
    summary="Discharge",
)
def discharge(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    enrollment_id: UUID,
    payload: DischargeIn,
) -> EnrollmentOut:
    access = _access(request, program_id, Perm.ENROLLMENT_DISCHARGE)
    enrollment = _enrollment(access, participant_id, enrollment_id)
    closed = actions.enrollment_discharge(
        actor=request_user(request), enrollment=enrollment, **payload.model_dump()
    )
    return enrollment_out(closed)


__all__ = ["Phase", "router"]
