from __future__ import annotations

import json

import pytest

from openiop.accounts.access import has_perm, program_access
from openiop.accounts.actions import membership_grant
from openiop.accounts.models import User, UserKind
from openiop.accounts.roles import (
    ROLES_FILE,
    Perm,
    Role,
    RoleMatrixError,
    parse_role_matrix,
    role_matrix,
)
from openiop.core.errors import ActionError
from openiop.testing import World, make_user


def test_matrix_loads_and_covers_every_role():
    matrix = role_matrix()
    assert set(matrix.grants) == set(Role)


@pytest.mark.parametrize("role", [Role.INTAKE, Role.BILLING])
def test_AC_03_front_desk_and_billing_never_read_note_bodies(role):
    assert not role_matrix().allows(role, Perm.NOTE_READ_BODY)


@pytest.mark.parametrize(("role", "perm"), [(r, p) for r in Role for p in Perm])
def test_AC_03_matrix_matches_data_file(role, perm):
    raw = json.loads(ROLES_FILE.read_text())
    expected = perm.value in raw["roles"][role.value]["permissions"]
    assert role_matrix().allows(role, perm) is expected


def test_matrix_rejects_unknown_permission():
    raw = json.loads(ROLES_FILE.read_text())
    raw["roles"]["billing"]["permissions"].append("note.read_everything")
    with pytest.raises(RoleMatrixError, match="unknown permission"):
        parse_role_matrix(raw)


def test_matrix_rejects_missing_role():
    raw = json.loads(ROLES_FILE.read_text())
    del raw["roles"]["supervisor"]
    with pytest.raises(RoleMatrixError, match="supervisor"):
        parse_role_matrix(raw)


@pytest.mark.django_db
def test_AUTH_01_participant_cannot_hold_staff_role(world: World):
    with pytest.raises(ActionError) as exc:
        membership_grant(
            actor=None, user=world.participant_user, program=world.program_a, role=Role.CLINICIAN
        )
    assert "user" in exc.value.errors
    assert not has_perm(world.participant_user, world.program_a, Perm.PARTICIPANT_LIST)


@pytest.mark.django_db
def test_AUTH_01_participant_cannot_be_django_staff():
    from django.db import IntegrityError, transaction

    user = make_user(kind=UserKind.PARTICIPANT)
    user.is_staff = True
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()


@pytest.mark.django_db
def test_program_access_resolves_roles(world: World):
    access = program_access(world.clinician_a, world.program_a.external_id)
    assert access.roles == {"clinician"}
    assert access.can(Perm.ENROLLMENT_DISCHARGE)
    assert not access.can(Perm.STAFF_MANAGE)


@pytest.mark.django_db
def test_inactive_membership_gives_404(world: World):
    from django.http import Http404

    world.clinician_a.memberships.update(is_active=False)
    with pytest.raises(Http404):
        program_access(User.objects.get(pk=world.clinician_a.pk), world.program_a.external_id)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_GRP_02_rosters_visible_to_facilitators_and_supervisors_only(role):
    expected = role in (Role.CLINICIAN, Role.SUPERVISOR, Role.PROGRAM_DIRECTOR)
    assert role_matrix().allows(role, Perm.ROSTER_VIEW) is expected
