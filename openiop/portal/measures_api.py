"""Outcome measures the participant completes, over JSON (/api/v1/me/measures).

The same selectors and action as the pages: only a measure due for the signed-in participant
can be sent (404 otherwise), and every submission needs an `Idempotency-Key` header (REL-01).
The answer says whether the care team was told, never the score.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from openiop.api.schemas import StrictIn
from openiop.core.errors import ActionError
from openiop.measures.instruments import Instrument, get_instrument
from openiop.measures.selectors import DueItem
from openiop.measures.wording import self_administration_map
from openiop.portal import selectors
from openiop.portal.measures_views import (
    instrument_or_404,
    performer,
    raise_critical_first,
    scope,
    stem,
)
from openiop.portal.requests import (
    KEY_HEADER,
    api_run_once,
    audit_portal_read,
    participant_request,
)
from openiop.portal.wording_views import with_wording

router = Router(tags=["participant portal"])


class OptionOut(Schema):
    code: int
    label: str


class ItemOut(Schema):
    number: int
    label: str
    options: list[OptionOut]


class DueMeasureOut(Schema):
    instrument: str
    name: str
    recall_window: str | None
    stem: str
    due_on: date
    overdue: bool
    items: list[ItemOut]
    # "staff": no loaded wording pack in production; the care team administers it instead.
    administration: str = Field(description='"self", or "staff" (not to be filled in here)')
    notice: str | None = None


class MeasureIn(StrictIn):
    answers: list[int | None] = Field(
        max_length=40,
        description="Codes in item order; null where a question was skipped or not answered. "
        "A partial form is stored (its total stays null); one with no answer is refused. An "
        "answer to a question the form would have skipped is kept, never refused.",
    )


class MeasureOut(Schema):
    id: UUID
    instrument: str
    administered_at: datetime
    safety_event: UUID | None


def due_out(item: DueItem, inst: Instrument) -> dict[str, Any]:
    return {
        "instrument": inst.code,
        "name": inst.name,
        "recall_window": inst.recall_window.text if inst.recall_window else None,
        "stem": stem(inst),
        "due_on": item.due_on,
        "overdue": item.overdue,
        "items": [
            {
                "number": i.number,
                "label": i.label,
                "options": [{"code": o.code, "label": o.label} for o in i.options],
            }
            for i in inst.items
        ],
    }


@router.get("/measures", response=list[DueMeasureOut], summary="My questionnaires due now")
def list_measures(request: HttpRequest) -> list[dict[str, Any]]:
    user, participant = participant_request(request)
    audit_portal_read(user, participant, "api.measures")
    items = selectors.my_due_measures(participant)
    due = [(item, get_instrument(item.instrument)) for item in items]
    wording = self_administration_map(
        [inst for _, inst in due], participant.program, participant.language
    )
    return [with_wording(due_out(item, inst), inst, wording[inst.code]) for item, inst in due]


@router.post("/measures/{instrument}", response={201: MeasureOut}, summary="Send a questionnaire")
def complete_measure(
    request: HttpRequest, response: HttpResponse, instrument: str, payload: MeasureIn
) -> Status[dict[str, Any]]:
    user, participant = participant_request(request)
    inst = instrument_or_404(instrument)
    key = request.headers.get(KEY_HEADER)
    assessment_id, alerted = raise_critical_first(
        user, participant, inst.code, payload.answers, key
    )
    try:
        outcome = api_run_once(
            request,
            response,
            scope(inst.code),
            {"answers": payload.answers},
            performer(user, participant, inst.code, payload.answers, assessment_id),
        )
    except ActionError as exc:
        if alerted is not None:
            # The critical answer was acted on before the rest was checked: say so.
            exc.errors["safety_event"] = [
                f"Your answer about your safety was sent to your care team (event "
                f"{alerted.external_id}); the rest was not saved."
            ]
        raise
    return Status(201, outcome.response)
