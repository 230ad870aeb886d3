"""`Program.portal_shows_severity`: off by default, changed only through its action (also from
the admin), validated and audited (docs/measures.md, participants' view of their scores)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.programs.actions import program_portal_settings_update
from openiop.programs.models import Program
from openiop.testing import World, make_program

pytestmark = pytest.mark.django_db


def _audits(program: Program) -> list[dict]:
    return [
        e.detail
        for e in AuditEvent.objects.filter(
            action="update", object_id=str(program.external_id)
        ).order_by("id")
        if "portal_shows_severity" in e.detail
    ]


def test_new_programs_hide_severity_from_participants():
    assert make_program().portal_shows_severity is False


def test_turning_labels_on_and_off_is_stored_and_audited(world: World):
    program_portal_settings_update(
        actor=world.director_a, program=world.program_a, shows_severity=True
    )
    assert Program.objects.get(pk=world.program_a.pk).portal_shows_severity is True
    assert world.program_a.portal_shows_severity is True  # the caller's instance follows
    program_portal_settings_update(
        actor=world.director_a, program=world.program_a, shows_severity=False
    )
    assert Program.objects.get(pk=world.program_a.pk).portal_shows_severity is False
    assert _audits(world.program_a) == [
        {"portal_shows_severity": [False, True]},
        {"portal_shows_severity": [True, False]},
    ]
    assert Program.objects.get(pk=world.program_b.pk).portal_shows_severity is False


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_anything_but_a_boolean_is_refused_and_nothing_changes(world: World, value):
    with pytest.raises(ActionError) as err:
        program_portal_settings_update(
            actor=world.director_a, program=world.program_a, shows_severity=value
        )
    assert "portal_shows_severity" in err.value.errors
    assert Program.objects.get(pk=world.program_a.pk).portal_shows_severity is False
    assert _audits(world.program_a) == []


def test_the_admin_goes_through_the_action(world: World):
    admin = site._registry[Program]
    request = RequestFactory().post("/admin/")
    request.user = world.director_a
    program = Program.objects.get(pk=world.program_a.pk)
    program.portal_shows_severity = True
    form = SimpleNamespace(
        changed_data=["portal_shows_severity"], initial={"portal_shows_severity": False}
    )
    admin.save_model(request, program, form, change=True)
    assert Program.objects.get(pk=world.program_a.pk).portal_shows_severity is True
    assert _audits(world.program_a) == [{"portal_shows_severity": [False, True]}]
