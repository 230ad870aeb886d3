"""Issue 18 item 11: destructive one-click actions ask first. The first POST answers with a
confirm page (a plain form, so it works without JavaScript and from the keyboard) and changes
nothing; only a POST with confirm=yes acts, whatever the client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from openiop.audit.models import AuditEvent
from openiop.groupwork.models import Attendance, Session
from openiop.testing import World, make_group_session, today

pytestmark = pytest.mark.django_db


def _runner(world: World, session: Session) -> str:
    return f"/p/{world.program_a.external_id}/sessions/{session.external_id}/"


def _writes() -> int:
    return AuditEvent.objects.filter(action__in=["create", "update", "delete"]).count()


def _confirm_form(body: str, path: str) -> dict[str, str]:
    """The confirm page's form: it posts back to the same address with confirm=yes."""
    form = re.search(
        r'<form method="post" action="([^"]+)" class="actions">(.*?)</form>', body, re.S
    )
    assert form is not None, "a plain form, no script needed"
    assert form.group(1) == path
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    assert fields.pop("confirm") == "yes"
    assert 'class="button" href=' in form.group(2), "a Cancel link back"
    return fields


def test_remove_from_roster_asks_first(world: World, client_for):
    session, people, rows = make_group_session(world, members=2)
    client = client_for(world.clinician_a)
    runner = client.get(_runner(world, session)).content.decode()
    path = _runner(world, session) + f"attendance/{rows[0].external_id}/remove/"
    # The roster's Remove is a real form (no JavaScript needed) leading to the question.
    assert f'<form method="post" action="{path}"' in runner
    before = _writes()
    asked = client.post(path)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "Remove from the roster?" in body and people[0].display_name in body
    assert _writes() == before
    assert not Attendance.objects.get(pk=rows[0].pk).removed
    _confirm_form(body, path)
    done = client.post(path, {"confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == _runner(world, session)
    assert Attendance.objects.get(pk=rows[0].pk).removed


def test_an_htmx_remove_gets_the_question_in_place_of_the_page(world: World, client_for):
    session, _, rows = make_group_session(world, members=1)
    client = client_for(world.clinician_a)
    path = _runner(world, session) + f"attendance/{rows[0].external_id}/remove/"
    asked = client.post(path, HTTP_HX_REQUEST="true")
    assert asked.status_code == 200 and asked["HX-Retarget"] == "#main"
    assert "<html" not in asked.content.decode()
    assert not Attendance.objects.get(pk=rows[0].pk).removed
    done = client.post(path, {"confirm": "yes"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and 'id="roster"' in done.content.decode()
    assert Attendance.objects.get(pk=rows[0].pk).removed


def test_close_session_asks_first(world: World, client_for):
    session, _, _ = make_group_session(world, members=1)
    client = client_for(world.clinician_a)
    path = _runner(world, session) + "close/"
    before = _writes()
    asked = client.post(path)
    assert asked.status_code == 200 and "Close this session?" in asked.content.decode()
    assert "recorded absent" in asked.content.decode()
    assert _writes() == before
    assert Session.objects.get(pk=session.pk).status != "completed"
    _confirm_form(asked.content.decode(), path)
    assert client.post(path, {"confirm": "yes"}).status_code == 302
    assert Session.objects.get(pk=session.pk).status == "completed"


def test_remove_role_asks_first(world: World, client_for):
    membership = world.billing_a.memberships.get()
    path = f"/p/{world.program_a.external_id}/staff/{membership.external_id}/revoke/"
    client = client_for(world.director_a, stepped_up=True)
    page = client.get(f"/p/{world.program_a.external_id}/staff/").content.decode()
    assert "Remove role…" in page
    asked = client.post(path)
    assert asked.status_code == 200 and "Remove this role?" in asked.content.decode()
    membership.refresh_from_db()
    assert membership.is_active
    _confirm_form(asked.content.decode(), path)
    assert client.post(path, {"confirm": "yes"}).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active


def test_apply_plan_asks_first_and_says_how_much_it_books(world: World, client_for):
    from openiop.scheduling.actions import plan_run_create

    monday = today() - timedelta(days=today().weekday())
    run = plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=monday,
        kind="week",
        time_limit=2,
    )
    path = f"/p/{world.program_a.external_id}/planner/runs/{run.external_id}/apply/"
    client = client_for(world.director_a)
    asked = client.post(path)
    body = asked.content.decode()
    assert asked.status_code == 200 and "Apply this plan?" in body
    assert "individual or family session" in body
    run.refresh_from_db()
    assert run.applied_at is None
    _confirm_form(body, path)
    assert client.post(path, {"confirm": "yes"}).status_code == 302
    run.refresh_from_db()
    assert run.applied_at is not None


def test_confirm_is_checked_on_the_server_not_only_the_page(world: World, client_for):
    """A crafted POST with any other value is the question again, never the action."""
    session, _, rows = make_group_session(world, members=1)
    client = client_for(world.clinician_a)
    path = _runner(world, session) + f"attendance/{rows[0].external_id}/remove/"
    assert client.post(path, {"confirm": "true"}).status_code == 200
    assert not Attendance.objects.get(pk=rows[0].pk).removed
