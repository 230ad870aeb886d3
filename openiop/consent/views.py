"""Staff pages for Part 2 consents, the accounting of disclosures and the summary release.

Every view is guarded by `@requires` (404 for outsiders, 403 without the permission) and
starts with the scoped participant lookup (404). Reads of consents and disclosures are
audited (AU-01).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramAccess, ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.stepup import require_recent_auth
from openiop.audit.actions import audit_record
from openiop.consent import actions, selectors
from openiop.consent.forms import ConsentForm, ReleaseForm, RevokeForm
from openiop.consent.models import Consent, Disclosure, InfoCategory, Purpose
from openiop.consent.summary import (
    SUMMARY_FORMAT,
    SUMMARY_INFORMATION,
)
from openiop.core.clock import program_today
from openiop.core.errors import ActionError
from openiop.core.forms import apply_action_errors
from openiop.participants import selectors as participant_selectors
from openiop.participants.models import Participant


def _participant_page(
    request: ProgramRequest, participant_id: UUID
) -> tuple[ProgramAccess, Participant]:
    access = request.access
    participant = participant_selectors.participant_get(
        program=access.program, participant_id=participant_id
    )
    return access, participant


def _url(name: str, program_id: UUID, participant: Participant, **extra: Any) -> str:
    kwargs = {"program_id": program_id, "participant_id": participant.external_id, **extra}
    return reverse(f"consent:{name}", kwargs=kwargs)


def _context(access: ProgramAccess, participant: Participant, **extra: Any) -> dict[str, Any]:
    return {
        "access": access,
        "program": access.program,
        "participant": participant,
        "today": program_today(access.program),
        **extra,
    }


@require_http_methods(["GET"])
@requires(Perm.CONSENT_VIEW)
def consent_list(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    consents = list(selectors.consent_list(program=access.program, participant=participant))
    today = program_today(access.program)
    audit_record(
        actor=request_user(request), action="read", obj=participant, detail={"view": "consent_list"}
    )
    rows = [{"consent": c, "status": c.status_on(today)} for c in consents]
    context = _context(
        access,
        participant,
        rows=rows,
        can_manage=access.can(Perm.CONSENT_MANAGE),
        can_disclose=access.can(Perm.RECORD_DISCLOSE),
    )
    return render(request, "consent/list.html", context)


def _terms_from(form: ConsentForm) -> actions.ConsentTerms:
    return actions.ConsentTerms(**form.cleaned_data)


@require_http_methods(["GET", "POST"])
@requires(Perm.CONSENT_MANAGE)
def consent_create(request: ProgramRequest, program_id: UUID, participant_id: UUID) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    form = ConsentForm(
        request.POST or None,
        initial={"discloser_name": access.program.name, "signed_on": program_today(access.program)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            consent = actions.consent_create(
                actor=request_user(request), participant=participant, terms=_terms_from(form)
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect(_url("detail", program_id, participant, consent_id=consent.external_id))
    _, statement = selectors.revocation_statement()
    context = _context(access, participant, form=form, revocation_statement=statement)
    if request.method == "GET":
        audit_record(
            actor=request_user(request), action="read", obj=participant, detail={"view": "form"}
        )
    status = 422 if request.method == "POST" else 200
    return render(request, "consent/create.html", context, status=status)


def _consent_page(
    request: ProgramRequest, participant_id: UUID, consent_id: UUID
) -> tuple[ProgramAccess, Participant, Consent]:
    access, participant = _participant_page(request, participant_id)
    consent = selectors.consent_get(
        program=access.program, participant=participant, consent_id=consent_id
    )
    return access, participant, consent


@require_http_methods(["GET"])
@requires(Perm.CONSENT_VIEW)
def consent_detail(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, consent_id: UUID
) -> HttpResponse:
    access, participant, consent = _consent_page(request, participant_id, consent_id)
    audit_record(
        actor=request_user(request), action="read", obj=consent, detail={"view": "consent"}
    )
    context = _context(
        access,
        participant,
        consent=consent,
        status=consent.status_on(program_today(access.program)),
        information=[InfoCategory(c).label for c in consent.information],
        purposes=[Purpose(p).label for p in consent.purposes],
        can_manage=access.can(Perm.CONSENT_MANAGE),
    )
    return render(request, "consent/detail.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.CONSENT_MANAGE)
def consent_revoke(
    request: ProgramRequest, program_id: UUID, participant_id: UUID, consent_id: UUID
) -> HttpResponse:
    access, participant, consent = _consent_page(request, participant_id, consent_id)
    form = RevokeForm(request.POST or None, initial={"revoked_on": program_today(access.program)})
    if request.method == "POST" and form.is_valid():
        try:
            actions.consent_revoke(
                actor=request_user(request), consent=consent, **form.cleaned_data
            )
        except ActionError as error:
            apply_action_errors(form, error)
        else:
            messages.success(request, "Consent revoked. No further disclosure may rely on it.")
            return redirect(_url("detail", program_id, participant, consent_id=consent_id))
    context = _context(access, participant, consent=consent, form=form)
    status = 422 if request.method == "POST" else 200
    return render(request, "consent/revoke.html", context, status=status)


@require_http_methods(["GET"])
@requires(Perm.CONSENT_VIEW)
def disclosure_report(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    disclosures = list(selectors.disclosure_list(program=access.program, participant=participant))
    audit_record(
        actor=request_user(request),
        action="read",
        obj=participant,
        detail={"view": "disclosure_report"},
    )
    context = _context(access, participant, rows=[_report_row(d) for d in disclosures])
    return render(request, "consent/disclosures.html", context)


REPORT_COLUMNS = ["Date and time (UTC)", "Recipient", "Information", "Purpose", "Basis", "User"]


def _report_row(d: Disclosure) -> dict[str, Any]:
    purpose = str(d.get_purpose_display())
    if d.purpose_text:
        purpose = f"{purpose}: {d.purpose_text}"
    basis = str(d.get_basis_display())
    if d.consent is not None:
        basis = (
            f"{basis}, consent to {d.consent.recipient_name} signed {d.consent.signed_on:%Y-%m-%d}"
        )
    details = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(d.basis_details.items()))
    return {
        "disclosure": d,
        "when": d.disclosed_at.strftime("%Y-%m-%d %H:%M"),
        "recipient": d.recipient_name,
        "information": "; ".join(str(InfoCategory(c).label) for c in d.information),
        "purpose": purpose,
        "basis": f"{basis} ({details})" if details else basis,
        "user": str(d.disclosed_by),
        "notice": d.notice.version,
    }


@require_http_methods(["GET"])
@requires(Perm.CONSENT_VIEW)
def disclosure_report_csv(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    disclosures = list(selectors.disclosure_list(program=access.program, participant=participant))
    audit_record(
        actor=request_user(request),
        action="export",
        obj=participant,
        detail={"view": "disclosure_report_csv", "rows": len(disclosures)},
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*REPORT_COLUMNS, "Notice version", "Content SHA-256", "Disclosure id"])
    for d in disclosures:
        row = _report_row(d)
        writer.writerow(
            [
                d.disclosed_at.isoformat(),
                *(row[k] for k in ("recipient", "information", "purpose", "basis", "user")),
                row["notice"],
                d.content_sha256,
                d.external_id,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    # Opaque ids only in the filename: no names in downloads' metadata (AU-04).
    response["Content-Disposition"] = f'attachment; filename="disclosures-{participant_id}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@requires(Perm.RECORD_DISCLOSE)
def release_summary(
    request: ProgramRequest, program_id: UUID, participant_id: UUID
) -> HttpResponse:
    access, participant = _participant_page(request, participant_id)
    # AUTH-07: disclosing records needs a fresh re-authentication (403 reauth_required).
    require_recent_auth(request)
    consents = selectors.active_consents(program=access.program, participant=participant)
    form = ReleaseForm(request.POST or None, consents=consents)
    if request.method == "POST" and form.is_valid():
        try:
            return _release(request, access, participant, form)
        except ActionError as error:
            apply_action_errors(form, error)
    context = _context(
        access,
        participant,
        form=form,
        information=[InfoCategory(c).label for c in SUMMARY_INFORMATION],
    )
    if request.method == "GET":
        audit_record(
            actor=request_user(request), action="read", obj=participant, detail={"view": "form"}
        )
    status = 422 if request.method == "POST" else 200
    return render(request, "consent/release.html", context, status=status)


def _release(
    request: HttpRequest, access: ProgramAccess, participant: Participant, form: ReleaseForm
) -> HttpResponse:
    data = form.cleaned_data
    disclosure, content = actions.participant_summary_release(
        actor=request_user(request),
        participant=participant,
        recipient=data["recipient"],
        purpose=data["purpose"],
        purpose_text=data["purpose_text"],
        basis=data["basis"],
        consent=data["consent"],
        basis_details=form.basis_details(),
    )
    response = HttpResponse(content, content_type=f"{SUMMARY_FORMAT}; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="part2-release-{disclosure.external_id}.txt"'
    )
    response["Cache-Control"] = "no-store"
    return response
