"""List pages must run a constant number of queries however many participants exist."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.participants.models import Enrollment, Participant
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _bulk_add(world: World, count: int, start: int) -> None:
    # Bulk rows keep this test fast; the rows are equivalent to what participant_admit makes.
    people = Participant.objects.bulk_create(
        Participant(
            program=world.program_a,
            record_number=f"B-{start + i:06d}",
            legal_first_name="Bulk",
            legal_last_name=f"Person{start + i:05d}",
            date_of_birth=date(1990, 1, 1),
        )
        for i in range(count)
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            program=world.program_a,
            participant=p,
            track=world.track_a,
            admitted_on=today() - timedelta(days=3),
            primary_clinician=world.clinician_a,
        )
        for p in people
    )


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/p/{a}/participants/",
        "/p/{a}/participants/?status=all&q=person",
        "/api/v1/programs/{a}/participants?limit=50",
    ],
)
def test_participant_list_query_count_is_constant(world: World, client_for, path):
    client = client_for(world.clinician_a)
    path = path.format(a=world.program_a.external_id)
    _bulk_add(world, 9, 0)  # 10 participants in all
    small = _count(client, path)
    _bulk_add(world, 990, 100)  # 1,000 participants in all
    large = _count(client, path)
    assert small == large, f"{small} queries for 10 participants, {large} for 1,000"
    assert large <= 20


def test_program_home_query_count_is_constant(world: World, client_for):
    client = client_for(world.clinician_a)
    path = f"/p/{world.program_a.external_id}/"
    small = _count(client, path)
    _bulk_add(world, 200, 0)
    assert _count(client, path) == small
