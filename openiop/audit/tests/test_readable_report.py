"""Issue 18 item 10: the audit page says what each event is about in words and what changed,
before → after; never a model label or an internal id."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from openiop.audit.describe import changes, object_label
from openiop.core import clock
from openiop.groupwork import actions as gw
from openiop.groupwork.models import Attendance
from openiop.testing import World, make_group_session

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_object_label_is_the_models_name():
    assert object_label("safety.safetyevent") == "Safety event"
    assert object_label("groupwork.attendance") == "Attendance"
    assert object_label("") == "—"


def test_changes_in_words_without_ids():
    detail = {
        "from": "engagement",
        "to": "early_recovery",
        "fields": ["pronouns", "phone"],
        "changes": {"arrived_at": {"before": None, "after": "10:05"}},
        "user": "0b7c6a1e-1234-4cde-8f00-123456789abc",
        "walk_in": True,
        "filters": {"user": "x"},
        "plan": "cbt-02",
    }
    lines = changes(detail)
    assert "engagement → early recovery" in lines
    assert "Changed: pronouns, phone" in lines
    assert "Arrived at: — → 10:05" in lines
    assert "Walk in: yes" in lines
    assert "Plan: The thought record, part 1: situation, moods and the hot thought" in lines
    assert not any(UUID.search(line) for line in lines)
    assert not any("Filters" in line for line in lines)


def test_an_attendance_change_is_audited_before_and_after(world: World, client_for):
    session, _, rows = make_group_session(world, members=1)
    row: Attendance = rows[0]
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=session.starts_at)
    later = session.starts_at + timedelta(minutes=20)
    gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=later)
    from openiop.audit.models import AuditEvent

    event = AuditEvent.objects.filter(object_id=str(row.external_id)).order_by("-seq").first()
    assert event is not None
    arrived = event.detail["changes"]["arrived_at"]
    assert arrived["after"] == later.astimezone(clock.zone(world.program_a)).strftime("%H:%M")
    assert arrived["before"] != arrived["after"]
    assert (
        event.detail["changes"]["minutes"]["before"] > event.detail["changes"]["minutes"]["after"]
    )


def test_the_audit_page_shows_records_and_changes_in_words(world: World, client_for):
    session, _, rows = make_group_session(world, members=1)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=session.starts_at)
    page = client_for(world.director_a).get(f"/p/{world.program_a.external_id}/audit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "What changed" in body
    assert ">Attendance<" in body
    assert "groupwork.attendance" not in body
    assert re.search(r"Status: expected → present", body)
