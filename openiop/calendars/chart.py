"""What the participant chart shows of calendar feeds (the partial `_chart_feed.html`)."""

from __future__ import annotations

from typing import Any

from openiop.accounts.access import ProgramAccess
from openiop.accounts.roles import Perm
from openiop.calendars.selectors import live_participant_feed
from openiop.participants.models import Participant


def chart_calendar(*, access: ProgramAccess, participant: Participant) -> dict[str, Any]:
    can_manage = access.can(Perm.FEED_MANAGE) and not access.break_glass
    feed = (
        live_participant_feed(program=access.program, participant=participant)
        if can_manage
        else None
    )
    return {"can_manage_feed": can_manage, "calendar_feed": feed}
