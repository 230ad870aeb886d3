"""What the participant chart shows of group work: the weekly hours ledger and notes."""

from __future__ import annotations

from typing import Any

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.core.clock import program_today
from openiop.groupwork.ledger import participant_weeks
from openiop.groupwork.selectors import participant_notes
from openiop.participants.models import Participant

WEEKS_SHOWN = 6


def chart_groupwork(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    weeks = participant_weeks(
        participant=participant, weeks=WEEKS_SHOWN, today=program_today(access.program)
    )
    required = access.program.rules.min_weekly_minutes(access.program.population)
    oldest_first = list(reversed(weeks))
    chart = {
        "type": "bar",
        "stacked": True,
        "yTitle": "Minutes attended",
        "labels": [f"{start:%d %b}" for start, _ in oldest_first],
        "datasets": [
            {"label": "Group", "data": [row.minutes["group"] for _, row in oldest_first]},
            {"label": "Individual", "data": [row.minutes["individual"] for _, row in oldest_first]},
            {"label": "Family", "data": [row.minutes["family"] for _, row in oldest_first]},
        ],
        "reference": required,
    }
    notes = (
        list(participant_notes(participant=participant)[:20])
        if access.can(Perm.NOTE_READ_BODY)
        else []
    )
    return {
        "ledger_weeks": weeks,
        "ledger_required": required,
        "ledger_chart": chart,
        "notes": notes,
        "can_read_notes": access.can(Perm.NOTE_READ_BODY),
    }
