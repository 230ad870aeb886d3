from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from openiop.audit.verify import audit_verify
from openiop.demo.seeding import seed
from openiop.participants.models import Enrollment, Participant
from openiop.testing import today

pytestmark = pytest.mark.django_db


def _anchor() -> date:
    # A week back from the programs' own today: any date works, none is hard-coded.
    return today() - timedelta(days=7)


def _snapshot() -> list[tuple]:
    return list(
        Participant.objects.order_by("program__name", "record_number").values_list(
            "record_number", "legal_first_name", "legal_last_name", "date_of_birth", "pronouns"
        )
    )


def _seed_and_snapshot(seed_value: int) -> list[tuple]:
    with transaction.atomic():
        seed(participants=20, weeks=12, seed_value=seed_value, today=_anchor(), history_weeks=0)
        snap = _snapshot()
        transaction.set_rollback(True)
    return snap


def test_seed_is_deterministic():
    first = _seed_and_snapshot(3)
    again = _seed_and_snapshot(3)
    other = _seed_and_snapshot(4)
    assert first == again
    assert first != other
    assert len(first) == 20


def test_seed_creates_rolling_admissions_and_discharges():
    seed(participants=30, weeks=20, seed_value=1, today=_anchor(), history_weeks=1)
    episodes = Enrollment.objects.all()
    assert episodes.filter(discharged_on__isnull=True).exists()
    assert episodes.filter(discharged_on__isnull=False).exists()
    assert len({e.admitted_on for e in episodes}) > 10
    # Group work: past sessions held and documented, late arrivals, signed notes.
    from openiop.groupwork.models import Attendance, Note

    assert Note.objects.filter(status="signed").exists()
    assert Attendance.objects.filter(status="present", minutes__lt=90).exists()
    assert Attendance.objects.filter(status="absent").exists()
    assert audit_verify().ok


def test_seed_command_prints_logins(capsys):
    call_command("seed", participants=5, weeks=4, seed=1, history_weeks=0)
    out = capsys.readouterr().out
    assert "casey.clinician" in out and "openiop-demo-2026" in out
    call_command("seed", participants=5, weeks=4, seed=1, if_empty=True, history_weeks=0)
    assert "not seeding" in capsys.readouterr().out
