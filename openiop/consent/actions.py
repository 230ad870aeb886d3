"""Writes for 42 CFR Part 2: consents, revocation, notice receipts and THE disclosure gate.

Every release of a participant's records outside the program goes through
`disclosure_authorize_and_record`; nothing else writes a `Disclosure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.consent.models import (
    Consent,
    ConsentStatus,
    Disclosure,
    DisclosureBasis,
    InfoCategory,
    NoticeKind,
    NoticeReceiptMethod,
    Part2NoticeReceipt,
    Purpose,
    RecipientType,
    SignerRelation,
    consent_missing_elements,
    sha256_hex,
)
from openiop.consent.selectors import current_notice, revocation_statement
from openiop.consent.summary import (
    SUMMARY_FORMAT,
    SUMMARY_INFORMATION,
    ReleaseRequest,
    summary_document,
)
from openiop.core.clock import program_today
from openiop.core.errors import ActionError, ConflictError
from openiop.participants.models import Participant
from openiop.participants.selectors import current_episode

# Details each non-consent basis must record (§2.51(c), §2.53, §2.64-2.65), and those it may.
BASIS_REQUIRED_DETAILS: dict[str, tuple[str, ...]] = {
    DisclosureBasis.MEDICAL_EMERGENCY: ("medical_personnel", "nature_of_emergency"),
    DisclosureBasis.AUDIT_EVALUATION: (),
    DisclosureBasis.COURT_ORDER: ("order_reference",),
}
BASIS_OPTIONAL_DETAILS: dict[str, tuple[str, ...]] = {
    DisclosureBasis.MEDICAL_EMERGENCY: ("affiliation",),
    DisclosureBasis.AUDIT_EVALUATION: ("auditor", "description"),
    DisclosureBasis.COURT_ORDER: ("court", "order_date"),
}
DETAIL_LABELS = {
    "medical_personnel": "the name of the medical personnel who received the information",
    "nature_of_emergency": "the nature of the medical emergency",
    "order_reference": "the court order's reference",
}
# Formats whose bytes we can search for the notice; others are the caller's duty (docs).
NOTICE_CHECKED_FORMATS = ("text/plain", "text/csv")
CONTENT_FORMATS = (*NOTICE_CHECKED_FORMATS, "text/html", "application/pdf", "application/json")


@dataclass(frozen=True)
class ConsentTerms:
    """The §2.31(a) elements as entered; the patient is the `participant` argument."""

    discloser_name: str = ""
    information: Sequence[str] = ()
    information_description: str = ""
    recipient_name: str = ""
    recipient_type: str = ""
    purposes: Sequence[str] = ()
    purpose_text: str = ""
    revocation_acknowledged: bool = False
    expires_on: date | None = None
    expiry_event: str = ""
    signed_by: str = ""
    signer_relation: str = ""
    signer_authority: str = ""
    signed_on: date | None = None


def _choice_errors(terms: ConsentTerms) -> dict[str, str]:
    errors: dict[str, str] = {}
    if set(terms.information) - set(InfoCategory.values):
        errors["information"] = f"Choose from: {', '.join(InfoCategory.values)}."
    if set(terms.purposes) - set(Purpose.values):
        errors["purposes"] = f"Choose from: {', '.join(Purpose.values)}."
    if terms.recipient_type and terms.recipient_type not in RecipientType.values:
        errors["recipient_type"] = f"Choose one of: {', '.join(RecipientType.values)}."
    if terms.signer_relation and terms.signer_relation not in SignerRelation.values:
        errors["signer_relation"] = f"Choose one of: {', '.join(SignerRelation.values)}."
    return errors


def _date_errors(terms: ConsentTerms, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if terms.signed_on is not None and terms.signed_on > today:
        errors["signed_on"] = "A consent cannot be signed in the future."
    signed, expires = terms.signed_on, terms.expires_on
    if signed is not None and expires is not None and expires < signed:
        errors["expires_on"] = "The expiry date must be on or after the signing date."
    return errors


def _clean_terms(terms: ConsentTerms) -> dict[str, Any]:
    return {
        name: value.strip() if isinstance(value, str) else value
        for name, value in terms.__dict__.items()
    } | {
        # Stored in the canonical order, once each, so equal consents compare equal.
        "information": [c for c in InfoCategory.values if c in set(terms.information)],
        "purposes": [p for p in Purpose.values if p in set(terms.purposes)],
    }


@transaction.atomic
def consent_create(*, actor: User, participant: Participant | None, terms: ConsentTerms) -> Consent:
    """Record a signed consent. Every missing §2.31(a) element is named; none is saved."""
    version, statement = revocation_statement()
    consent = Consent(
        program=participant.program if participant else None,
        participant=participant,
        revocation_statement_version=version,
        revocation_statement=statement,
        created_by=actor,
        **_clean_terms(terms),
    )
    errors = consent_missing_elements(consent)
    errors.update(_choice_errors(terms))
    if participant is not None:
        errors.update(_date_errors(terms, program_today(participant.program)))
    if errors:
        raise ActionError(errors)
    consent.save()
    audit_record(
        actor=actor,
        action="create",
        obj=consent,
        detail={"information": consent.information, "purposes": consent.purposes},
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User, consent: Consent, revoked_on: date, reason: str) -> Consent:
    """Revoke at once: from this commit the gate refuses every disclosure under it."""
    # Locked so a disclosure checking this consent waits for the revocation, then sees it.
    locked = Consent.objects.select_for_update().select_related("program").get(pk=consent.pk)
    if locked.revoked_at is not None:
        raise ConflictError({"consent": "This consent is already revoked."})
    if revoked_on > program_today(locked.program):
        raise ActionError({"revoked_on": "A revocation cannot be dated in the future."})
    if locked.signed_on is not None and revoked_on < locked.signed_on:
        raise ActionError({"revoked_on": "A revocation cannot predate the signature."})
    locked.revoked_at = timezone.now()
    locked.revoked_on = revoked_on
    locked.revocation_reason = reason.strip()
    locked.revoked_by = actor
    locked.save(
        update_fields=[
            "revoked_at",
            "revoked_on",
            "revocation_reason",
            "revoked_by",
            "updated_at",
        ]
    )
    audit_record(actor=actor, action="update", obj=locked, detail={"revoked": True})
    return locked


@transaction.atomic
def part2_notice_receipt_record(
    *,
    actor: User,
    participant: Participant,
    given_on: date,
    method: str = NoticeReceiptMethod.IN_PERSON,
) -> Part2NoticeReceipt:
    """Record that the participant received the Part 2 patient notice (§2.22)."""
    if method not in NoticeReceiptMethod.values:
        raise ActionError({"method": f"Choose one of: {', '.join(NoticeReceiptMethod.values)}."})
    if given_on > program_today(participant.program):
        raise ActionError({"given_on": "The notice cannot be recorded as given in the future."})
    receipt = Part2NoticeReceipt.objects.create(
        program=participant.program,
        participant=participant,
        notice=current_notice(NoticeKind.PATIENT_NOTICE, on=program_today(participant.program)),
        given_on=given_on,
        method=method,
        created_by=actor,
    )
    audit_record(actor=actor, action="create", obj=receipt, detail={"method": method})
    return receipt


# --- the disclosure gate ---------------------------------------------------------------


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def _request_errors(
    recipient: str, information: Sequence[str], purpose: str, purpose_text: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not recipient.strip():
        errors["recipient"] = "Name the recipient."
    if not information:
        errors["information"] = "Say what information is being disclosed."
    elif set(information) - set(InfoCategory.values):
        errors["information"] = f"Choose from: {', '.join(InfoCategory.values)}."
    if purpose not in Purpose.values:
        errors["purpose"] = f"Choose one of: {', '.join(Purpose.values)}."
    elif purpose == Purpose.OTHER and not purpose_text.strip():
        errors["purpose_text"] = "Describe the 'other' purpose."
    return errors


def _consent_errors(
    consent: Consent | None,
    participant: Participant,
    recipient: str,
    information: Sequence[str],
    purpose: str,
) -> dict[str, str]:
    """Why this consent does not allow this disclosure now (empty when it does)."""
    if consent is None:
        return {"consent": "Choose the consent this disclosure relies on."}
    if consent.participant_id != participant.pk or consent.program_id != participant.program_id:
        return {"consent": "That consent belongs to another participant."}
    status = consent.status_on(program_today(participant.program))
    if status != ConsentStatus.ACTIVE:
        return {"consent": f"That consent is {status.label.lower()}; it allows no disclosure."}
    errors: dict[str, str] = {}
    if _normalise(recipient) != _normalise(consent.recipient_name):
        errors["recipient"] = "The consent does not name this recipient."
    if not consent.covers_information(list(information)):
        uncovered = sorted(set(information) - set(consent.information))
        errors["information"] = f"The consent does not cover: {', '.join(uncovered)}."
    if purpose not in consent.purposes:
        errors["purpose"] = "The consent does not cover this purpose."
    return errors


def _basis_errors(
    basis: str, consent: Consent | None, details: Mapping[str, Any]
) -> dict[str, str]:
    if basis not in BASIS_REQUIRED_DETAILS:
        return {"basis": f"Choose one of: {', '.join(DisclosureBasis.values)}."}
    errors: dict[str, str] = {}
    if consent is not None:
        errors["consent"] = "A disclosure without consent must not cite a consent."
    allowed = set(BASIS_REQUIRED_DETAILS[basis]) | set(BASIS_OPTIONAL_DETAILS[basis])
    for key in sorted(set(details) - allowed):
        errors[key] = "This detail does not apply to this basis."
    for key in BASIS_REQUIRED_DETAILS[basis]:
        value = details.get(key)
        if not isinstance(value, str) or not value.strip():
            errors[key] = f"Record {DETAIL_LABELS[key]} ({DisclosureBasis(basis).label})."
    return errors


def _content_errors(content: bytes, content_format: str, notice_text: str) -> dict[str, str]:
    if content_format not in CONTENT_FORMATS:
        return {"content_format": f"Choose one of: {', '.join(CONTENT_FORMATS)}."}
    if not content:
        return {"content": "Nothing to disclose."}
    if content_format in NOTICE_CHECKED_FORMATS and notice_text.encode("utf-8") not in content:
        return {"content": "The released content must carry the §2.32 notice verbatim."}
    return {}


@transaction.atomic
def disclosure_authorize_and_record(
    *,
    actor: User,
    participant: Participant,
    recipient: str,
    information: list[str],
    purpose: str,
    basis: str,
    consent: Consent | None = None,
    basis_details: Mapping[str, Any] | None = None,
    content: bytes,
    content_format: str,
    purpose_text: str = "",
) -> Disclosure:
    """THE SINGLE DISCLOSURE GATE (42 CFR Part 2, security.md P2-02 and P2-03).

    Every release of a participant's records outside the program -- a download, a print, an
    export, an API client, a fax -- MUST call this function with the exact bytes released,
    and release nothing if it raises. Future exports must go through here too; nothing else
    may write a `Disclosure`.

    It refuses (ActionError naming the field) unless either
    - `basis="consent"` and `consent` is this participant's, complete, not revoked, not
      expired at this moment, and covers the recipient, EVERY requested information category
      (or "all_sud_records") and the purpose; or
    - `basis` is a non-consent basis with its required `basis_details`:
      medical_emergency (§2.51: medical_personnel, nature_of_emergency), audit_evaluation
      (§2.53), court_order (§2.64/§2.65: order_reference).
    Text content must carry the current §2.32 notice verbatim. On success it writes the
    Disclosure (with the notice version and the content's SHA-256) and the "disclose" audit
    event in one transaction, and returns the Disclosure.
    """
    details = dict(basis_details or {})
    if consent is not None:
        # Locked: a revocation committing now is seen here, never raced past.
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
    errors = _request_errors(recipient, information, purpose, purpose_text)
    if basis == DisclosureBasis.CONSENT:
        errors.update(_consent_errors(consent, participant, recipient, information, purpose))
    else:
        errors.update(_basis_errors(basis, consent, details))
    notice = current_notice(NoticeKind.REDISCLOSURE_NOTICE, on=program_today(participant.program))
    if notice is None or not notice.is_intact:
        errors["notice"] = "The stored §2.32 notice is missing or altered; nothing may be sent."
    else:
        errors.update(_content_errors(content, content_format, notice.text))
    if errors:
        raise ActionError(errors)
    assert notice is not None
    disclosure = Disclosure.objects.create(
        program=participant.program,
        participant=participant,
        disclosed_at=timezone.now(),
        recipient_name=recipient.strip(),
        information=[c for c in InfoCategory.values if c in set(information)],
        purpose=purpose,
        purpose_text=purpose_text.strip(),
        basis=basis,
        consent=consent,
        basis_details={k: str(v).strip() for k, v in details.items()},
        disclosed_by=actor,
        notice=notice,
        content_sha256=sha256_hex(content),
        content_format=content_format,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="disclose",
        obj=disclosure,
        detail={
            "basis": basis,
            "purpose": purpose,
            "information": disclosure.information,
            "consent": str(consent.external_id) if consent else "",
            "notice_version": notice.version,
            "content_sha256": disclosure.content_sha256,
        },
    )
    return disclosure


@transaction.atomic
def participant_summary_release(
    *,
    actor: User,
    participant: Participant,
    recipient: str,
    purpose: str,
    basis: str,
    consent: Consent | None = None,
    basis_details: Mapping[str, Any] | None = None,
    purpose_text: str = "",
) -> tuple[Disclosure, bytes]:
    """The "Release participant summary" action: build the summary (the §2.32 notice
    first, then the consent's scope, demographics and the current episode) and pass exactly
    those bytes through the disclosure gate. Returns the Disclosure and the bytes to hand over; on
    ActionError nothing is recorded and nothing may be released."""
    errors: dict[str, str] = {}
    if basis not in DisclosureBasis.values:
        errors["basis"] = f"Choose one of: {', '.join(DisclosureBasis.values)}."
    if purpose not in Purpose.values:
        errors["purpose"] = f"Choose one of: {', '.join(Purpose.values)}."
    today = program_today(participant.program)
    notice = current_notice(NoticeKind.REDISCLOSURE_NOTICE, on=today)
    if notice is None:
        errors["notice"] = "No §2.32 notice is stored; nothing may be released."
    if errors:
        raise ActionError(errors)
    assert notice is not None
    content = summary_document(
        notice=notice,
        participant=participant,
        episode=current_episode(participant),
        request=ReleaseRequest(
            recipient=recipient,
            purpose=purpose,
            purpose_text=purpose_text,
            basis_label=str(DisclosureBasis(basis).label),
            released_on=today,
            consent=consent if basis == DisclosureBasis.CONSENT else None,
        ),
    )
    disclosure = disclosure_authorize_and_record(
        actor=actor,
        participant=participant,
        recipient=recipient,
        information=list(SUMMARY_INFORMATION),
        purpose=purpose,
        purpose_text=purpose_text,
        basis=basis,
        consent=consent,
        basis_details=basis_details,
        content=content,
        content_format=SUMMARY_FORMAT,
    )
    return disclosure, content
