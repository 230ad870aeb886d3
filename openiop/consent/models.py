"""42 CFR Part 2 (2024 final rule): notices, consents, the accounting of disclosures.

Consents and disclosures are never deleted: a consent ends by revocation or expiry, and the
accounting of disclosures must outlive both (§2.25, §2.31). Status is derived, never stored,
so a revocation or an expiry date takes effect the moment it is true.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class NoticeKind(models.TextChoices):
    PATIENT_NOTICE = "patient_notice", "Patient notice (§2.22)"
    REDISCLOSURE_NOTICE = "redisclosure_notice", "Notice accompanying a disclosure (§2.32)"


class InfoCategory(models.TextChoices):
    # What a consent may cover (§2.31(a)(3)): specific and meaningful categories.
    DEMOGRAPHICS = "demographics", "Identity and contact details"
    EPISODE_OF_CARE = "episode_of_care", "Episode of care (dates, track, phase, clinician)"
    ATTENDANCE = "attendance", "Attendance"
    DIAGNOSIS = "diagnosis", "Diagnosis"
    TREATMENT_PLAN = "treatment_plan", "Treatment plan"
    ASSESSMENTS = "assessments", "Assessments and scores"
    MEDICATIONS = "medications", "Medications"
    DISCHARGE_SUMMARY = "discharge_summary", "Discharge summary"
    ALL_SUD_RECORDS = "all_sud_records", "All substance use disorder treatment records"


class RecipientType(models.TextChoices):
    INDIVIDUAL = "individual", "A named individual"
    ENTITY = "entity", "A named organisation"
    TREATING_PROVIDER = "treating_provider", "Treating provider"
    TPO = "tpo", "Treatment, payment and health care operations (§2.33)"


class Purpose(models.TextChoices):
    TREATMENT = "treatment", "Treatment"
    PAYMENT = "payment", "Payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations", "Health care operations"
    COURT = "court", "Court or legal proceeding"
    PATIENT_REQUEST = "patient_request", "At the request of the patient"
    OTHER = "other", "Other (described)"


class SignerRelation(models.TextChoices):
    PATIENT = "patient", "The patient"
    GUARDIAN = "guardian", "Parent or guardian (§2.14)"
    PERSONAL_REPRESENTATIVE = "personal_representative", "Personal representative (§2.15)"


class ConsentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"
    INCOMPLETE = "incomplete", "Incomplete (unusable)"


class DisclosureBasis(models.TextChoices):
    CONSENT = "consent", "Written consent (§2.31)"
    MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency (§2.51)"
    AUDIT_EVALUATION = "audit_evaluation", "Audit or evaluation (§2.53)"
    COURT_ORDER = "court_order", "Court order (§2.64 / §2.65)"


class NoticeReceiptMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person, on paper"
    ELECTRONIC = "electronic", "Electronically"
    MAIL = "mail", "By mail"


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


class KeptForever(models.Model):
    """Rows the accounting of disclosures depends on: refuse ORM deletes outright."""

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{self._meta.label} rows are never deleted (42 CFR Part 2)")


class Part2Notice(KeptForever, BaseModel):
    """Regulatory notice text, stored verbatim and versioned. Not program data: the same
    §2.32 statement accompanies every program's disclosures."""

    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    version = models.CharField(max_length=64)
    text = models.TextField()
    effective_from = models.DateField()
    citation = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="part2notice_unique_version"),
            models.CheckConstraint(
                name="part2notice_kind_valid", condition=Q(kind__in=NoticeKind.values)
            ),
        ]
        ordering = ["kind", "-effective_from", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"

    @property
    def is_intact(self) -> bool:
        """The stored hash still matches the text: an edited notice is never sent."""
        return sha256_hex(self.text) == self.sha256


class Consent(KeptForever, BaseModel):
    """A written consent with every §2.31(a) element."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    # §2.31(a)(1) the patient.
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="consents"
    )
    # §2.31(a)(2) who may disclose.
    discloser_name = models.CharField(max_length=200)
    # §2.31(a)(3) how much and what kind of information.
    information = models.JSONField(default=list)
    information_description = models.TextField(blank=True)
    # §2.31(a)(4) the recipient.
    recipient_name = models.CharField(max_length=200)
    recipient_type = models.CharField(max_length=32, choices=RecipientType.choices)
    # §2.31(a)(5) the purpose(s).
    purposes = models.JSONField(default=list)
    purpose_text = models.TextField(blank=True)
    # §2.31(a)(6) the right to revoke: the exact statement the patient acknowledged.
    revocation_acknowledged = models.BooleanField(default=False)
    revocation_statement_version = models.CharField(max_length=32)
    revocation_statement = models.TextField()
    # §2.31(a)(7) expiry: a date, an event or condition, or both (whichever comes first).
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=300, blank=True)
    # §2.31(a)(8)-(9) signature and date.
    signed_by = models.CharField(max_length=200)
    signer_relation = models.CharField(max_length=32, choices=SignerRelation.choices)
    signer_authority = models.TextField(blank=True)
    signed_on = models.DateField(null=True)
    # Revocation: applies from the moment it is recorded.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="consent_recipient_type_valid",
                condition=Q(recipient_type__in=RecipientType.values),
            ),
            models.CheckConstraint(
                name="consent_signer_relation_valid",
                condition=Q(signer_relation__in=SignerRelation.values),
            ),
            models.CheckConstraint(
                name="consent_has_expiry",
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
            ),
            models.CheckConstraint(
                name="consent_revocation_complete",
                condition=Q(revoked_at__isnull=True, revoked_on__isnull=True)
                | Q(revoked_at__isnull=False, revoked_on__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["program", "participant"], name="consent_participant_idx")]
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return str(self.external_id)

    def missing_elements(self) -> dict[str, str]:
        """Every §2.31(a) element that is absent, keyed by the field that holds it."""
        return consent_missing_elements(self)

    def status_on(self, today: date) -> ConsentStatus:
        if self.missing_elements():
            return ConsentStatus.INCOMPLETE
        if self.revoked_at is not None:
            return ConsentStatus.REVOKED
        if self.expires_on is not None and today > self.expires_on:
            return ConsentStatus.EXPIRED
        return ConsentStatus.ACTIVE

    @property
    def purpose_labels(self) -> list[str]:
        return [str(Purpose(p).label) for p in self.purposes]

    def covers_information(self, requested: list[str]) -> bool:
        held = set(self.information)
        return InfoCategory.ALL_SUD_RECORDS in held or set(requested) <= held


def consent_missing_elements(consent: Consent) -> dict[str, str]:
    """Shared by the create action and the read-time status, so a row that lost an element
    (however it happened) is unusable too."""
    missing: dict[str, str] = {}
    if consent.participant_id is None:
        missing["participant"] = "Name the patient this consent is for."
    if not consent.discloser_name.strip():
        missing["discloser_name"] = "Say who may make the disclosure (the program)."
    if not consent.information:
        missing["information"] = "Choose what information may be disclosed."
    if not consent.recipient_name.strip():
        missing["recipient_name"] = "Name the recipient."
    if not consent.recipient_type:
        missing["recipient_type"] = "Say what kind of recipient this is."
    if not consent.purposes:
        missing["purposes"] = "Choose the purpose of the disclosure."
    elif Purpose.OTHER in consent.purposes and not consent.purpose_text.strip():
        missing["purpose_text"] = "Describe the 'other' purpose."
    if not consent.revocation_acknowledged:
        missing["revocation_acknowledged"] = (
            "The patient must be told of, and acknowledge, the right to revoke."
        )
    if consent.expires_on is None and not consent.expiry_event.strip():
        missing["expires_on"] = "Give an expiry date or an expiry event or condition."
    if not consent.signed_by.strip():
        missing["signed_by"] = "Give the name of the person who signed."
    if not consent.signer_relation:
        missing["signer_relation"] = "Say who signed: the patient, a guardian or a representative."
    elif consent.signer_relation != SignerRelation.PATIENT and not consent.signer_authority.strip():
        missing["signer_authority"] = "Describe the signer's authority to consent for the patient."
    if consent.signed_on is None:
        missing["signed_on"] = "Give the date the consent was signed."
    return missing


class Disclosure(KeptForever, BaseModel):
    """One release outside the program: the accounting of disclosures (§2.25, §2.51(c))."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="disclosures"
    )
    disclosed_at = models.DateTimeField()
    recipient_name = models.CharField(max_length=200)
    information = models.JSONField(default=list)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    purpose_text = models.TextField(blank=True)
    basis = models.CharField(max_length=32, choices=DisclosureBasis.choices)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    basis_details = models.JSONField(default=dict, blank=True)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notice = models.ForeignKey(Part2Notice, on_delete=models.PROTECT, related_name="+")
    content_sha256 = models.CharField(max_length=64)
    content_format = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="disclosure_basis_valid", condition=Q(basis__in=DisclosureBasis.values)
            ),
            models.CheckConstraint(
                name="disclosure_purpose_valid", condition=Q(purpose__in=Purpose.values)
            ),
            # A consent disclosure names its consent; any other basis names none.
            models.CheckConstraint(
                name="disclosure_consent_matches_basis",
                condition=Q(basis=DisclosureBasis.CONSENT, consent__isnull=False)
                | (~Q(basis=DisclosureBasis.CONSENT) & Q(consent__isnull=True)),
            ),
        ]
        indexes = [
            models.Index(fields=["program", "participant", "disclosed_at"], name="disclosure_idx")
        ]
        ordering = ["-disclosed_at", "-id"]

    def __str__(self) -> str:
        return str(self.external_id)


class Part2NoticeReceipt(KeptForever, BaseModel):
    """The participant received the program's Part 2 patient notice (§2.22)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="part2_notice_receipts"
    )
    # The stored patient notice in force when it was given, if the program has loaded one.
    notice = models.ForeignKey(
        Part2Notice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    given_on = models.DateField()
    method = models.CharField(
        max_length=16, choices=NoticeReceiptMethod.choices, default=NoticeReceiptMethod.IN_PERSON
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="part2receipt_method_valid",
                condition=Q(method__in=NoticeReceiptMethod.values),
            )
        ]
        ordering = ["-given_on", "-id"]

    def __str__(self) -> str:
        return str(self.external_id)
