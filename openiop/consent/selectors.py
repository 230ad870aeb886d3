"""Reads of consents and disclosures, always scoped to a program and a participant."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from openiop.consent.models import Consent, ConsentStatus, Disclosure, NoticeKind, Part2Notice
from openiop.core.clock import program_today
from openiop.participants.models import Participant
from openiop.programs.models import Program

REVOCATION_STATEMENTS_FILE = Path(__file__).parent / "data" / "revocation_statements.json"


@cache
def _revocation_statements() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(REVOCATION_STATEMENTS_FILE.read_text(encoding="utf-8"))
    return loaded


def revocation_statement() -> tuple[str, str]:
    """(version, text) of the §2.31(a)(6) statement shown to patients now."""
    data = _revocation_statements()
    version = str(data["current"])
    statements = data["statements"]
    assert isinstance(statements, dict)
    return version, str(statements[version])


def current_notice(kind: str = NoticeKind.REDISCLOSURE_NOTICE, *, on: date) -> Part2Notice | None:
    """The notice version in force on `on`, the program's date (the latest effective one)."""
    return (
        Part2Notice.objects.filter(kind=kind, effective_from__lte=on)
        .order_by("-effective_from", "-id")
        .first()
    )


def consent_list(*, program: Program, participant: Participant) -> QuerySet[Consent]:
    return Consent.objects.filter(program=program, participant=participant).select_related(
        "created_by", "revoked_by"
    )


def consent_get(*, program: Program, participant: Participant, consent_id: UUID | str) -> Consent:
    """One consent of this participant in this program, or 404."""
    try:
        return consent_list(program=program, participant=participant).get(external_id=consent_id)
    except (Consent.DoesNotExist, ValueError):
        raise Http404("consent not found") from None


def active_consents(*, program: Program, participant: Participant) -> QuerySet[Consent]:
    """Consents usable today. Status is derived in Python (completeness, expiry), so the
    queryset is narrowed to the ids that pass."""
    today = program_today(program)
    consents = consent_list(program=program, participant=participant)
    usable = [
        c.pk
        for c in consents.filter(revoked_at__isnull=True)
        if c.status_on(today) == ConsentStatus.ACTIVE
    ]
    return consents.filter(pk__in=usable)


def disclosure_list(*, program: Program, participant: Participant) -> QuerySet[Disclosure]:
    """The accounting of disclosures for one participant, newest first."""
    return Disclosure.objects.filter(program=program, participant=participant).select_related(
        "consent", "disclosed_by", "notice"
    )
