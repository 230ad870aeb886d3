"""The participant summary released by "Release participant summary", as plain text.

The §2.32 notice comes first, verbatim, so it cannot be separated from what it protects;
a consent-based release then states the consent's scope (§2.32(b)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openiop.consent.models import Consent, InfoCategory, Part2Notice, Purpose
from openiop.participants.models import Enrollment, Participant

# What the summary contains, so the gate checks exactly these categories against the consent.
SUMMARY_INFORMATION = [InfoCategory.DEMOGRAPHICS.value, InfoCategory.EPISODE_OF_CARE.value]
SUMMARY_FORMAT = "text/plain"
RULE = "=" * 72


@dataclass(frozen=True)
class ReleaseRequest:
    recipient: str
    purpose: str
    purpose_text: str
    basis_label: str
    released_on: date
    consent: Consent | None


def notice_header(notice: Part2Notice) -> str:
    """The opening of every released document: the stored notice, then a rule."""
    return f"{notice.text}\n{RULE}\n"


def _labels(codes: list[str], choices: type[InfoCategory] | type[Purpose]) -> str:
    return "; ".join(str(choices(code).label) for code in codes)


def _scope_lines(consent: Consent) -> list[str]:
    expiry = [str(consent.expires_on)] if consent.expires_on else []
    if consent.expiry_event:
        expiry.append(consent.expiry_event)
    return [
        "Scope of the consent (42 CFR 2.32(b))",
        f"  Consent id: {consent.external_id}",
        f"  Who may disclose: {consent.discloser_name}",
        f"  Information: {_labels(consent.information, InfoCategory)}",
        f"  Recipient: {consent.recipient_name} ({consent.get_recipient_type_display()})",
        f"  Purposes: {_labels(consent.purposes, Purpose)}",
        f"  Expires: {' or '.join(expiry)}, or when revoked",
        f"  Signed by: {consent.signed_by} ({consent.get_signer_relation_display()}) "
        f"on {consent.signed_on}",
        "",
    ]


def _participant_lines(participant: Participant) -> list[str]:
    return [
        "Participant",
        f"  Legal name: {participant.legal_name}",
        f"  Preferred name: {participant.preferred_name or '-'}",
        f"  Pronouns: {participant.pronouns or '-'}",
        f"  Date of birth: {participant.date_of_birth}",
        f"  Record number: {participant.record_number}",
        "",
    ]


def _episode_lines(episode: Enrollment | None) -> list[str]:
    if episode is None:
        return ["Current episode of care", "  None open.", ""]
    return [
        "Current episode of care",
        f"  Admitted: {episode.admitted_on}",
        f"  Track: {episode.track.name}",
        f"  Phase: {episode.get_phase_display()}",
        f"  Primary clinician: {episode.primary_clinician}",
        "",
    ]


def summary_document(
    *,
    notice: Part2Notice,
    participant: Participant,
    episode: Enrollment | None,
    request: ReleaseRequest,
) -> bytes:
    purpose = str(Purpose(request.purpose).label)
    if request.purpose_text:
        purpose = f"{purpose}: {request.purpose_text}"
    lines = [
        "PARTICIPANT SUMMARY",
        f"Program: {participant.program.name}",
        f"Released on: {request.released_on}",
        f"Recipient: {request.recipient}",
        f"Purpose: {purpose}",
        f"Basis: {request.basis_label}",
        "",
    ]
    if request.consent is not None:
        lines += _scope_lines(request.consent)
    lines += _participant_lines(participant) + _episode_lines(episode)
    return (notice_header(notice) + "\n".join(lines)).encode("utf-8")
