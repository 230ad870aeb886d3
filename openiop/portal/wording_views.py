"""The portal's side of the wording gate (issue 17 item 2; docs/wording-packs.md): the page a
participant sees for a questionnaire that, without a loaded wording pack, is done with staff."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from openiop.measures.instruments import Instrument
from openiop.measures.wording import STAFF_MESSAGE, SelfAdministration
from openiop.participants.models import Participant
from openiop.portal import selectors


def staff_only_response(
    request: HttpRequest, me: Participant, instrument: Instrument, status: int = 200
) -> HttpResponse:
    selectors.my_due_measure(me, instrument.code)  # 404 for a measure that is not due
    context = {"me": me, "instrument": instrument, "message": gettext(STAFF_MESSAGE)}
    return render(request, "portal/measure_staff.html", context, status=status)


def with_wording(
    payload: dict[str, Any], instrument: Instrument, wording: SelfAdministration
) -> dict[str, Any]:
    """A due measure for the API with the gate's answer: `administration` "self" or "staff",
    a `notice` (the demo-wording banner or the staff message) and, with a pack, the published
    wording in place of the paraphrases."""
    payload = {**payload, "administration": "self" if wording.self_complete else "staff"}
    payload["notice"] = wording.banner or wording.staff_message
    if not wording.self_complete:
        payload["items"] = []  # nothing to fill in: staff will go through it
        return payload
    if wording.pack is not None:
        payload["stem"] = wording.instructions or payload["stem"]
        for item, out in zip(instrument.items, payload["items"], strict=True):
            out["label"] = wording.item_text(item.number) or out["label"]
            for option in out["options"]:
                option["label"] = (
                    wording.option_label(item.number, option["code"]) or option["label"]
                )
    return payload
