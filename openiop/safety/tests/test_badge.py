"""A new safety event reaches the clinician's screen without a reload: the top-bar badge is
polled by htmx (clinical.md section 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.measures.actions import assessment_record
from openiop.testing import World

pytestmark = pytest.mark.django_db
ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 1]


def test_badge_counts_unread_alerts_for_the_clinician_of_record(world: World, client_for):
    client = client_for(world.clinician_a)
    assert client.get("/safety/badge/").content.strip() == b""
    assessment_record(
        actor=world.clinician_a, participant=world.participant_a, instrument="phq9", answers=ITEM9
    )
    badge = client.get("/safety/badge/")
    assert badge.status_code == 200 and b"1 safety alert" in badge.content
    assert b"Quillby" not in badge.content  # names nobody
    assert client_for(world.clinician_b).get("/safety/badge/").content.strip() == b""


def test_pages_poll_the_badge(world: World, client_for):
    page = client_for(world.clinician_a).get(f"/p/{world.program_a.external_id}/")
    assert b'hx-get="/safety/badge/"' in page.content and b"every 30s" in page.content


def test_badge_is_empty_for_participants(world: World, client_for):
    assert client_for(world.participant_user).get("/safety/badge/").content.strip() == b""


def test_chart_shows_not_on_track(world: World, client_for):
    from openiop.testing import admit, today

    person, _ = admit(
        world.program_a,
        world.track_a,
        world.clinician_a,
        first="Stuck",
        last="Flatby",
        admitted_on=today() - timedelta(weeks=6),
    )
    start = timezone.now() - timedelta(weeks=4)
    flat = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # PHQ-9 of 16 every week: no improvement
    for week in range(5):
        assessment_record(
            actor=world.clinician_a,
            participant=person,
            instrument="phq9",
            answers=flat,
            administered_at=start + timedelta(weeks=week),
        )
    chart = client_for(world.clinician_a).get(
        f"/p/{world.program_a.external_id}/participants/{person.external_id}/"
    )
    assert b"not on track" in chart.content
