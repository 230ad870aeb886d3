"""The plan page, the chart and the plan API run a constant number of queries as a plan grows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.testing import World
from openiop.treatment import actions
from openiop.treatment.tests.helpers import draft, grow

pytestmark = pytest.mark.django_db


def _count(client, path: str, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/p/{a}/participants/{p}/plan/",
        "/p/{a}/participants/{p}/",
        "/api/v1/programs/{a}/participants/{p}/plan",
    ],
)
def test_plan_query_count_is_constant_as_the_plan_grows(world: World, client_for, path):
    client = client_for(world.clinician_a)
    path = path.format(a=world.program_a.external_id, p=world.participant_a.external_id)
    plan = draft(world)
    grow(plan, world.clinician_a)
    actions.plan_activate(actor=world.clinician_a, plan=plan, expected_version=plan.version)
    small = _count(client, path)
    plan.refresh_from_db()
    grow(plan, world.clinician_a, problems=3, goals=2, objectives=2)
    large = _count(client, path)
    assert small == large, f"{small} queries for 1 objective, {large} for 13"
    assert large <= 40
