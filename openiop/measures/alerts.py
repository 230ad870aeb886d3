"""Chart-header alerts from measurement: the not-on-track flag (clinical.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from openiop.measures.growth import not_on_track_flags
from openiop.participants.models import Participant


@dataclass(frozen=True)
class OutcomeAlert:
    level: str
    text: str


def chart_outcome_alerts(*, participant: Participant) -> list[OutcomeAlert]:
    flags = not_on_track_flags(program=participant.program, participant_ids=[participant.pk])
    return [OutcomeAlert(level="warn", text=text) for text in flags.get(participant.pk, [])]
