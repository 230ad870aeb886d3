"""AC-01 and AC-03: every route declares who may use it, and what each role can open is
generated from the role matrix (accounts/data/roles.json), not listed by hand."""

from __future__ import annotations

import pytest

from openiop.accounts.access import PARTICIPANT_SELF, PUBLIC, SIGNED_IN, declared_access
from openiop.accounts.actions import membership_grant
from openiop.accounts.roles import ASSIGNABLE_ROLES, Perm, role_matrix
from openiop.consent.tests.helpers import make_consent
from openiop.testing import World, make_user
from openiop.treatment.tests.helpers import make_plan
from tests.routes import PUBLIC_ROUTES, web_route_views, web_routes

pytestmark = pytest.mark.django_db


def test_AC_01_every_route_declares_who_may_use_it():
    undeclared = [name for name, view in web_route_views().items() if declared_access(view) is None]
    assert undeclared == []


def test_AC_01_public_allowlist_is_exactly_the_declared_public_routes():
    public = {name for name, view in web_route_views().items() if declared_access(view) == PUBLIC}
    assert public == PUBLIC_ROUTES


def _plan_run(world: World) -> None:
    from datetime import timedelta

    from openiop.core.clock import program_today
    from openiop.groupwork.ledger import iso_week_start
    from openiop.scheduling.actions import plan_run_create

    week = iso_week_start(program_today(world.program_a)) + timedelta(weeks=1)
    plan_run_create(
        actor=world.director_a, program=world.program_a, week_start=week, kind="week", time_limit=2
    )


def _routes_with_permissions(world: World) -> list[tuple[str, str, Perm]]:
    views = web_route_views()
    result = []
    for route in web_routes(world, program_scoped_only=True):
        access = declared_access(views[route.name])
        if isinstance(access, Perm):
            result.append((route.name, route.path, access))
    return result


@pytest.mark.parametrize("role", ASSIGNABLE_ROLES, ids=lambda r: r.value)
def test_AC_03_each_role_reaches_exactly_what_the_matrix_grants(world: World, client_for, role):
    make_consent(world)  # so consent detail routes resolve to a real record
    _plan_run(world)
    make_plan(world)  # so treatment-plan routes resolve to a real plan, problem, goal...
    user = make_user(first=role.value)
    membership_grant(actor=None, user=user, program=world.program_a, role=role)
    client = client_for(user, stepped_up=True)
    matrix = role_matrix()
    checked = 0
    for name, path, perm in _routes_with_permissions(world):
        response = client.get(path)
        if response.status_code == 405:
            response = client.post(path)
        allowed = matrix.allows(role, perm)
        if allowed:
            assert response.status_code not in (403, 404), (role, name, perm, response.status_code)
        else:
            assert response.status_code == 403, (role, name, perm, response.status_code)
        checked += 1
    assert checked >= 10


def test_AC_03_declared_access_values_are_known():
    for name, view in web_route_views().items():
        access = declared_access(view)
        assert access in (PUBLIC, SIGNED_IN, PARTICIPANT_SELF) or isinstance(access, Perm), name
