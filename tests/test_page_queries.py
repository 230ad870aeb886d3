"""The main pages run the same number of SQL queries at 100 and at 2,000 participants (issue 12).

One test builds a small world, counts each page's queries, bulk-adds participants (with
weekly PHQ-9 history, so the growth model's history grows too) and counts again: seeded once,
no seeder, a few seconds. Each page is requested once before counting at each size, so a
one-off (a queued growth-model refit, a first session write) is not counted at one size only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.bulkworld import bulk_admit
from openiop.core import clock
from openiop.testing import World, today, verified_client

pytestmark = pytest.mark.django_db

SMALL, LARGE = 100, 2000


def _pages(world: World) -> dict[str, tuple[object, str]]:
    a = world.program_a.external_id
    person = world.participant_a.external_id
    staff = verified_client(world.clinician_a)
    portal = verified_client(world.participant_user)
    return {
        "program home": (staff, f"/p/{a}/"),
        "participant search": (staff, f"/p/{a}/participants/?q=person"),
        "chart": (staff, f"/p/{a}/participants/{person}/"),
        "session runner": (staff, f"/p/{a}/sessions/{world.session_a.external_id}/"),
        "measures page": (staff, f"/p/{a}/participants/{person}/measures/"),
        "portal home": (portal, "/me/"),
    }


def _counts(pages: dict[str, tuple[object, str]]) -> dict[str, int]:
    counts = {}
    for name, (client, path) in pages.items():
        assert client.get(path).status_code == 200, name  # type: ignore[attr-defined]
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)  # type: ignore[attr-defined]
        assert response.status_code == 200, name
        counts[name] = len(ctx.captured_queries)
    return counts


def _grow(world: World, count: int, start: int) -> None:
    first_at = clock.now() - timedelta(weeks=6)
    bulk_admit(
        program=world.program_a,
        track=world.track_a,
        clinician=world.clinician_a,
        count=count,
        start=start,
        admitted_on=today(world.program_a) - timedelta(weeks=6),
        phq9_weekly=3,
        first_at=first_at,
    )


def test_main_pages_query_counts_do_not_grow_with_participants(world: World):
    pages = _pages(world)
    _grow(world, SMALL - 1, 0)  # participant A is the 100th
    small = _counts(pages)
    _grow(world, LARGE - SMALL, SMALL)
    large = _counts(pages)
    assert large == small
    # Today's numbers, as a record of what each page costs (they may change; equality holds):
    # program home 9, participant search 18, chart 34, session runner 30, measures page 16,
    # portal home 17.
