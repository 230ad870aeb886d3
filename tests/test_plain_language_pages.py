"""Issue 18 item 10: no page shows a UUID or an internal code. Every staff page (as the
program director, who may open them all) and every portal page (as the participant) is
opened in a test world with a consent, a treatment plan, measures, a planner run, safety
events, audit events and group sessions on curriculum plans; the visible text of each HTML
answer (not attributes, hidden inputs, scripts or URLs) must hold no UUID and no curriculum
plan code such as "comm-02"."""

from __future__ import annotations

import re
from datetime import time, timedelta
from html.parser import HTMLParser

import pytest

from openiop.testing import World, make_group_session, today
from tests.routes import Route, web_routes

pytestmark = pytest.mark.django_db

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
# Curriculum plan codes ("cbt-02", "comm-02", "mbrp-07"): letters, a hyphen, two digits.
MODULE_CODE = re.compile(r"\b[a-z]{2,5}-\d{2}\b")

# Not pages to open here: sign-out and the idle lock (each ends the session), health
# probes and a calendar file.
NOT_A_PAGE = {"accounts:logout", "accounts:locked", "home:healthz", "calendar_feed:ics"}


class _VisibleText(HTMLParser):
    """The text a reader sees: element content outside script, style and template; no
    attribute values (ids in URLs, hidden inputs and data attributes are not shown)."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def _findings(route: Route, html: str) -> list[str]:
    text = visible_text(html)
    found = []
    for pattern, what in ((UUID, "UUID"), (MODULE_CODE, "module code")):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 50)
            context = text[start : match.end() + 20].replace("\n", " | ")
            found.append(f"{route.name}: {what} in “{context}”")
    return found


def _rich_world(world: World) -> None:
    """A consent, a treatment plan, measures, a weekly goal, a planner run of this week, a
    safety event, a missed module session and a closed one: rows every page can show."""
    from openiop.groupwork import actions as gw
    from openiop.scheduling.actions import plan_run_create
    from tests.test_audit_contract import _write_world

    _write_world(world)
    monday = today() - timedelta(days=today().weekday())
    plan_run_create(
        actor=world.director_a,
        program=world.program_a,
        week_start=monday,
        kind="week",
        time_limit=2,
    )
    # A module session participant A missed (yesterday afternoon), so pages know what is owed.
    from openiop.core import clock

    earlier = clock.at_local(
        today(world.program_a) - timedelta(days=1), time(14, 0), world.program_a
    )
    missed, _, rows = make_group_session(
        world, members=2, plan_code="cbt-01", starts_at=earlier, minutes=60
    )
    gw.attendance_absent(actor=world.clinician_a, attendance=rows[0], reason="ill")
    gw.session_close(actor=world.clinician_a, session=missed)
    # A worksheet sent from the portal and a release under the consent.
    from openiop.consent.actions import participant_summary_release
    from openiop.consent.models import Consent
    from openiop.consent.tests.helpers import RECIPIENT
    from openiop.portal.actions import homework_submit

    homework_submit(
        actor=world.participant_user,
        participant=world.participant_a,
        plan_code=world.session_a.plan_code,
        answers={"situation": "At work"},
        session=world.session_a,
    )
    participant_summary_release(
        actor=world.director_a,
        participant=world.participant_a,
        recipient=RECIPIENT,
        purpose="treatment",
        basis="consent",
        consent=Consent.objects.get(participant=world.participant_a),
    )


def _is_html(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_no_page_shows_a_uuid_or_an_internal_code(world: World, client_for):
    _rich_world(world)
    staff = client_for(world.director_a, stepped_up=True)
    me = client_for(world.participant_user)
    problems: list[str] = []
    opened = 0
    for route in web_routes(world):
        if route.name in NOT_A_PAGE or route.name.startswith("admin:"):
            continue
        client = me if route.name.startswith("portal:") else staff
        response = client.get(route.path)
        if not _is_html(response):
            continue
        opened += 1
        problems.extend(_findings(route, response.content.decode()))
        if route.name == "audit:report":  # every kind of event, not only the newest 50
            for action in ("create", "update", "disclose", "export"):
                more = client.get(route.path, {"action": action})
                problems.extend(_findings(route, more.content.decode()))
    assert opened > 40, f"only {opened} pages opened"
    assert not problems, "\n".join(problems)


def test_the_checker_sees_visible_text_only():
    html = (
        '<a href="/p/0b7c6a1e-1234-4cde-8f00-123456789abc/">Chart</a>'
        '<input type="hidden" name="id" value="0b7c6a1e-1234-4cde-8f00-123456789abc">'
        '<script type="application/json">{"plan": "comm-02"}</script>'
        "<p>Module comm-02, id 0b7c6a1e-1234-4cde-8f00-123456789abc</p>"
    )
    found = _findings(Route("x", "/"), html)
    assert len(found) == 2 and "module code" in found[1]
