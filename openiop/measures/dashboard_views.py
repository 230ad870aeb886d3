"""The program outcome dashboard page (clinical.md section 5): aggregate numbers only.

It shows no participant, so it records one program-level read rather than one per person.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from openiop.accounts.access import ProgramRequest, requires
from openiop.accounts.roles import Perm
from openiop.audit.actions import audit_record
from openiop.measures import dashboard
from openiop.measures.instruments import get_instrument


@require_http_methods(["GET"])
@requires(Perm.ASSESSMENT_VIEW)
def outcomes_dashboard(request: ProgramRequest, program_id: UUID) -> HttpResponse:
    access = request.access
    code = request.GET.get("instrument", dashboard.DEFAULT_INSTRUMENT)
    if code not in dashboard.REMISSION_BELOW:
        raise Http404("instrument not on the dashboard")
    result = dashboard.outcome_dashboard(program=access.program, instrument=code)
    audit_record(
        actor=access.user,
        action="read",
        program=access.program,
        detail={"view": "outcomes_dashboard"},
    )
    context = {
        "access": access,
        "program": access.program,
        "d": result,
        "charts": result.charts(),
        "blocks": result.blocks(),
        "overall": [result.overall, result.overall_naive],
        "dose_rows": [*result.dose, result.slope],
        "instruments": [get_instrument(c) for c in dashboard.REMISSION_BELOW],
        "min_cell": dashboard.MIN_CELL,
        "end_window": dashboard.END_WINDOW_DAYS,
    }
    return render(request, "measures/dashboard.html", context)
