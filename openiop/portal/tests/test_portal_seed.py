"""The demo seed gives today's group real portal activity (run with the real date)."""

from __future__ import annotations

import pytest

from openiop.core.clock import program_today
from openiop.demo.constants import DEMO_PARTICIPANT
from openiop.demo.seeding import seed
from openiop.portal.models import CheckIn, DiaryCard, WeeklyGoal
from openiop.programs.models import Program

pytestmark = pytest.mark.django_db


def test_seed_gives_the_demo_participant_a_week_of_portal_activity():
    from openiop.audit.verify import audit_verify
    from openiop.participants.models import Participant

    program = Program(time_zone="America/New_York")
    seed(participants=20, weeks=8, seed_value=1, today=program_today(program), history_weeks=1)
    me = Participant.objects.get(user__username=DEMO_PARTICIPANT)
    assert CheckIn.objects.filter(participant=me).count() == 6
    assert DiaryCard.objects.filter(participant=me).count() == 5
    assert WeeklyGoal.objects.get(participant=me).status == "setback"
    assert audit_verify().ok
