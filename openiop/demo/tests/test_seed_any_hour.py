"""`openiop seed` works from each program's own date, whatever the hour in UTC (issue 11).

At 02:00 UTC New York is still on the previous evening and Chicago an hour earlier: the seed
used to build the demo around the UTC date, so the portal login was missing and "today's group"
was yesterday's. Each case freezes the clock at an instant where the dates disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from openiop.accounts.models import User
from openiop.core import clock
from openiop.demo.constants import DEMO_PARTICIPANT
from openiop.groupwork.models import Session
from openiop.programs.models import Program

pytestmark = pytest.mark.django_db

INSTANTS = [
    # 02:00 UTC on a Thursday: Wednesday evening in New York and Chicago.
    datetime(2027, 1, 14, 2, 0, tzinfo=UTC),
    # Monday 00:05 UTC: still Sunday in both zones, and another ISO week.
    datetime(2027, 1, 4, 0, 5, tzinfo=UTC),
    # 1 March UTC, 29 February in the Americas.
    datetime(2028, 3, 1, 3, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda moment: moment.isoformat())
def test_seed_builds_each_program_around_its_own_today(instant: datetime):
    with time_machine.travel(instant, tick=False):
        call_command("seed", participants=16, weeks=8, seed=7, history_weeks=0, verbosity=0)
        assert User.objects.filter(username=DEMO_PARTICIPANT).exists()
        for program in Program.objects.all():
            day = clock.program_today(program)
            assert day != instant.date()  # the case is only a test if the dates disagree
            start, end = clock.day_bounds(day, program)
            todays = Session.objects.filter(
                program=program, starts_at__gte=start, starts_at__lt=end
            )
            assert todays.exists(), f"{program.name} has no group on its own today {day}"
