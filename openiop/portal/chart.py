"""The participant chart's summary of what the participant recorded between sessions."""

from __future__ import annotations

from typing import Any

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.participants.models import Participant
from openiop.portal import selectors


def chart_portal(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    """Four small queries; nothing for roles that may not read self-reports."""
    if not access.can(Perm.SELFREPORT_VIEW):
        return {"portal": None}
    return {
        "portal": {
            "checkins": selectors.recent_checkins(participant, limit=3),
            "diary": selectors.diary_week(participant),
            "goals": selectors.goals_with_updates(participant, weeks=1),
            "plan": selectors.safety_plan(participant),
        }
    }
