"""Part 2 consents and the accounting of disclosures over JSON. Same actions and scoping as
the web pages; releases themselves happen only through the disclosure gate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.accounts.access import ProgramAccess, program_access
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.api.schemas import StrictIn
from openiop.audit.actions import audit_record
from openiop.consent import actions, selectors
from openiop.consent.models import Consent, Disclosure
from openiop.core.clock import program_today
from openiop.participants.models import Participant
from openiop.participants.selectors import participant_get

router = Router(tags=["consent"])

InfoCode = Literal[
    "demographics",
    "episode_of_care",
    "attendance",
    "diagnosis",
    "treatment_plan",
    "assessments",
    "medications",
    "discharge_summary",
    "all_sud_records",
]
PurposeCode = Literal[
    "treatment", "payment", "health_care_operations", "court", "patient_request", "other"
]
RecipientTypeCode = Literal["individual", "entity", "treating_provider", "tpo"]
SignerRelationCode = Literal["patient", "guardian", "personal_representative"]


class ConsentIn(StrictIn):
    # Elements may be omitted here so the action names every missing one (P2-01).
    discloser_name: str = Field("", max_length=200)
    information: list[InfoCode] = Field(default_factory=list, max_length=20)
    information_description: str = Field("", max_length=2000)
    recipient_name: str = Field("", max_length=200)
    recipient_type: RecipientTypeCode | Literal[""] = ""
    purposes: list[PurposeCode] = Field(default_factory=list, max_length=10)
    purpose_text: str = Field("", max_length=2000)
    revocation_acknowledged: bool = False
    expires_on: date | None = None
    expiry_event: str = Field("", max_length=300)
    signed_by: str = Field("", max_length=200)
    signer_relation: SignerRelationCode | Literal[""] = ""
    signer_authority: str = Field("", max_length=2000)
    signed_on: date | None = None


class RevokeIn(StrictIn):
    revoked_on: date
    reason: str = Field("", max_length=2000)


class ConsentOut(Schema):
    id: UUID
    participant: UUID
    status: str
    discloser_name: str
    information: list[str]
    information_description: str
    recipient_name: str
    recipient_type: str
    purposes: list[str]
    purpose_text: str
    revocation_acknowledged: bool
    revocation_statement_version: str
    expires_on: date | None
    expiry_event: str
    signed_by: str
    signer_relation: str
    signer_authority: str
    signed_on: date | None
    revoked_on: date | None
    revoked_at: datetime | None
    revocation_reason: str


class DisclosureOut(Schema):
    id: UUID
    disclosed_at: datetime
    recipient: str
    information: list[str]
    purpose: str
    purpose_text: str
    basis: str
    consent: UUID | None
    basis_details: dict[str, str]
    disclosed_by: str
    notice_version: str
    content_sha256: str
    content_format: str


def _scoped(
    request: HttpRequest, program_id: UUID, participant_id: UUID, perm: Perm
) -> tuple[ProgramAccess, Participant]:
    access = program_access(request_user(request), program_id)
    access.require(perm)
    return access, participant_get(program=access.program, participant_id=participant_id)


def consent_out(c: Consent, today: date) -> ConsentOut:
    return ConsentOut(
        id=c.external_id,
        participant=c.participant.external_id,
        status=c.status_on(today).value,
        **{
            name: getattr(c, name)
            for name in ConsentOut.model_fields
            if name not in ("id", "participant", "status")
        },
    )


def disclosure_out(d: Disclosure) -> DisclosureOut:
    return DisclosureOut(
        id=d.external_id,
        disclosed_at=d.disclosed_at,
        recipient=d.recipient_name,
        information=d.information,
        purpose=d.purpose,
        purpose_text=d.purpose_text,
        basis=d.basis,
        consent=d.consent.external_id if d.consent else None,
        basis_details=d.basis_details,
        disclosed_by=str(d.disclosed_by),
        notice_version=d.notice.version,
        content_sha256=d.content_sha256,
        content_format=d.content_format,
    )


CONSENTS = "/{program_id}/participants/{participant_id}/consents"


@router.get(CONSENTS, response=list[ConsentOut], summary="Part 2 consents of a participant")
def list_consents(request: HttpRequest, program_id: UUID, participant_id: UUID) -> list[ConsentOut]:
    access, participant = _scoped(request, program_id, participant_id, Perm.CONSENT_VIEW)
    consents = selectors.consent_list(program=access.program, participant=participant)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "api.consents"}
    )
    today = program_today(access.program)
    return [consent_out(c, today) for c in consents.select_related("participant")]


@router.post(CONSENTS, response={201: ConsentOut}, summary="Record a consent")
def create_consent(
    request: HttpRequest, program_id: UUID, participant_id: UUID, payload: ConsentIn
) -> Status[ConsentOut]:
    access, participant = _scoped(request, program_id, participant_id, Perm.CONSENT_MANAGE)
    consent = actions.consent_create(
        actor=request_user(request),
        participant=participant,
        terms=actions.ConsentTerms(**payload.model_dump()),
    )
    return Status(201, consent_out(consent, program_today(access.program)))


@router.post(
    CONSENTS + "/{consent_id}/revoke", response=ConsentOut, summary="Revoke a consent at once"
)
def revoke_consent(
    request: HttpRequest,
    program_id: UUID,
    participant_id: UUID,
    consent_id: UUID,
    payload: RevokeIn,
) -> ConsentOut:
    access, participant = _scoped(request, program_id, participant_id, Perm.CONSENT_MANAGE)
    consent = selectors.consent_get(
        program=access.program, participant=participant, consent_id=consent_id
    )
    revoked = actions.consent_revoke(
        actor=request_user(request),
        consent=consent,
        revoked_on=payload.revoked_on,
        reason=payload.reason,
    )
    return consent_out(revoked, program_today(access.program))


@router.get(
    "/{program_id}/participants/{participant_id}/disclosures",
    response=list[DisclosureOut],
    summary="Accounting of disclosures",
)
def list_disclosures(
    request: HttpRequest, program_id: UUID, participant_id: UUID
) -> list[DisclosureOut]:
    access, participant = _scoped(request, program_id, participant_id, Perm.CONSENT_VIEW)
    disclosures = selectors.disclosure_list(program=access.program, participant=participant)
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "api.disclosures"},
    )
    return [disclosure_out(d) for d in disclosures]
