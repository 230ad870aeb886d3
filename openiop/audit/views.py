"""The audit report (AU-03): who did what to which record, filterable, with a CSV export.

Both views are guarded by `@requires(Perm.AUDIT_VIEW)` (404 for outsiders, 403 for members
without it). Viewing the report is itself recorded, and the export needs a recent
re-authentication (AUTH-07) and writes an "export" event before the first row leaves."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramRequest, requires
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.stepup import require_recent_auth
from openiop.audit import describe, selectors
from openiop.audit.actions import AuditEntry, audit_append
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditAction, AuditEvent
from openiop.core import clock
from openiop.programs.models import Program

PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "time_utc",
    "time_local",
    "actor",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "participant_record_number",
    "outcome",
    "break_glass",
    "request_id",
]


@dataclass(frozen=True)
class ReportRow:
    event: AuditEvent
    local_time: datetime
    record_number: str

    @property
    def utc_text(self) -> str:
        return self.event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def object_text(self) -> str:
        return describe.object_label(self.event.object_type)

    @property
    def changes(self) -> list[str]:
        return describe.changes(self.event.detail or {})

    @property
    def local_text(self) -> str:
        # Formatted here: the template `date` filter would convert back to UTC.
        return self.local_time.strftime("%Y-%m-%d %H:%M:%S %Z")


def _form(request: HttpRequest, program: Program) -> AuditFilterForm:
    staff = selectors.program_staff(program=program)
    return AuditFilterForm(request.GET or None, program=program, staff=staff)


def _rows(events: Iterable[AuditEvent], program: Program) -> list[ReportRow]:
    events = list(events)
    numbers = selectors.record_numbers(
        program=program, participant_ids=[e.participant_external_id for e in events]
    )
    zone = clock.zone(program)
    return [
        ReportRow(
            event=e,
            local_time=e.occurred_at.astimezone(zone),
            record_number=numbers.get(e.participant_external_id, "")
            if e.participant_external_id
            else "",
        )
        for e in events
    ]


def _filter_detail(form: AuditFilterForm) -> dict[str, Any]:
    """The filters as opaque values for the audit event (no free text)."""
    if not form.is_bound:
        return {}
    data = form.cleaned_data
    detail: dict[str, Any] = {}
    for name in ("date_from", "date_to"):
        if data.get(name):
            detail[name] = data[name].isoformat()
    if data.get("user") is not None:
        detail["user"] = str(data["user"].external_id)
    if data.get("action"):
        detail["action"] = data["action"]
    if data.get("break_glass"):
        detail["break_glass"] = True
    return detail


def _record_view(
    request: HttpRequest, program: Program, form: AuditFilterForm, action: str, **extra: Any
) -> AuditEvent:
    filters = form.filters()
    entry = AuditEntry(
        action=action,
        object_type="audit.auditevent",
        program_id=program.external_id,
        participant_id=filters.participant,
        detail={"view": "audit_report", "filters": _filter_detail(form), **extra},
    )
    return audit_append(actor=request_user(request), entries=[entry])[0]


@require_http_methods(["GET"])
@requires(Perm.AUDIT_VIEW)
def audit_report(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    program = access.program
    form = _form(request, program)
    page = None
    rows: list[ReportRow] = []
    status = 200
    if not form.is_bound or form.is_valid():
        qs = selectors.audit_events(program=program, filters=form.filters()).order_by("-seq")
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = _rows(page.object_list, program)
        _record_view(request, program, form, AuditAction.READ, page=page.number)
    else:
        status = 422
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "access": access,
        "program": program,
        "form": form,
        "page": page,
        "rows": rows,
        "filter_query": query.urlencode(),
        "time_zone": program.time_zone,
    }
    return render(request, "audit/report.html", context, status=status)


@require_http_methods(["GET"])
@requires(Perm.AUDIT_VIEW)
def audit_export_csv(request: ProgramRequest, program_id: UUID) -> HttpResponseBase:
    access = request.access
    require_recent_auth(request)
    program = access.program
    form = _form(request, program)
    if form.is_bound and not form.is_valid():
        context = {"access": access, "program": program, "form": form, "page": None}
        return render(request, "audit/report.html", context, status=422)
    filters = form.filters()
    # Recorded before the first row is sent; the export holds the rows up to this event.
    event = _record_view(request, program, form, AuditAction.EXPORT, format="csv")
    chunks = selectors.audit_events_in_chunks(
        program=program, filters=filters, through_seq=event.seq - 1
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(chunks, program), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must never start like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(chunks: Iterator[list[AuditEvent]], program: Program) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for chunk in chunks:
        for row in _rows(chunk, program):
            e = row.event
            yield writer.writerow(
                [
                    _cell(v)
                    for v in (
                        e.seq,
                        e.occurred_at.isoformat(),
                        row.local_time.isoformat(),
                        e.actor or "",
                        e.actor.external_id if e.actor else "",
                        e.action,
                        e.object_type,
                        e.object_id,
                        row.record_number,
                        e.outcome,
                        "yes" if e.break_glass else "no",
                        e.request_id,
                    )
                ]
            )
