"""`@requires(Perm.X)` enforces what it declares: a view with no check of its own still
refuses outsiders (404) and members without X (403), and receives the resolved access."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from openiop.accounts.access import ProgramRequest, declared_access, requires
from openiop.accounts.roles import Perm
from openiop.testing import World

pytestmark = pytest.mark.django_db


@requires(Perm.NOTE_READ_BODY)
def bare_view(request: ProgramRequest, program_id: uuid.UUID) -> HttpResponse:
    """No check inside: everything rests on the decorator."""
    return HttpResponse(f"{request.access.program.external_id} {request.access.user.pk}")


def _call(user, program_id: uuid.UUID) -> HttpResponse:
    request = RequestFactory().get("/")
    request.user = user
    return bare_view(request, program_id=program_id)


def test_requires_refuses_an_outsider_with_404(world: World):
    with pytest.raises(Http404):
        _call(world.clinician_b, world.program_a.external_id)


def test_requires_refuses_a_member_without_the_permission_with_403(world: World):
    with pytest.raises(PermissionDenied):
        _call(world.billing_a, world.program_a.external_id)


def test_requires_refuses_a_participant_account_with_404(world: World):
    with pytest.raises(Http404):
        _call(world.participant_user, world.program_a.external_id)


def test_requires_hands_the_view_the_resolved_access(world: World):
    response = _call(world.clinician_a, world.program_a.external_id)
    assert response.content.decode() == f"{world.program_a.external_id} {world.clinician_a.pk}"


def test_requires_still_declares_the_permission_for_the_route_walker():
    assert declared_access(bare_view) == Perm.NOTE_READ_BODY
    assert bare_view.__name__ == "bare_view"


def test_requires_refuses_a_view_without_a_program_in_its_url(world: World):
    request = RequestFactory().get("/")
    request.user = world.clinician_a
    with pytest.raises(TypeError, match="program_id"):
        bare_view(request)  # type: ignore[call-arg]


def test_no_view_module_resolves_program_access_itself():
    """The permission is stated once, on the decorator: a view module that calls
    `program_access()` again is back to stating it twice."""
    from pathlib import Path

    import openiop

    root = Path(openiop.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*views.py")
        if "program_access(" in path.read_text()
    ]
    assert offenders == []
