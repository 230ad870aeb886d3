"""AU-04: no clinical data in application logs, error pages or URLs (opaque ids only).

A participant is given names, phone, email and address holding a unique marker; then every
web route and API operation is exercised (GET; POST with valid and invalid bodies; forced
server errors) with every logger capturing at DEBUG. The marker may appear only in
successful pages shown to an authorised user (and in the form re-displayed to the person
who is editing it). It must never appear in a log line, a traceback, a URL, a redirect, a
link the application generates, or an error response.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from openiop.participants import actions as participant_actions
from openiop.participants import api as participants_api
from openiop.participants import selectors as participant_selectors
from openiop.testing import World, today
from tests.routes import api_operations, valid_body, web_routes

pytestmark = pytest.mark.django_db

MARKER = "Zzcanary7f3"
URL_ATTRS = re.compile(r'(?:href|src|action|hx-get|hx-post|hx-put|hx-patch|hx-delete)="([^"]*)"')


@dataclass
class Seen:
    label: str
    url: str
    response: Any

    @property
    def body(self) -> str:
        if getattr(self.response, "streaming", False):
            content = b"".join(self.response.streaming_content)
            self.response.content = content  # keep it readable a second time
        return self.response.content.decode("utf-8", "replace")

    @property
    def is_html(self) -> bool:
        return self.response.get("Content-Type", "").startswith("text/html")


def _has_marker(text: str) -> bool:
    return MARKER.lower() in text.lower()


@pytest.fixture
def all_logs(caplog) -> Iterator[Any]:
    """Every logger at DEBUG, including any that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    extra = []
    names = ["django.request", "django.server", "django.security", "openiop", "ninja"]
    for name in [*names, *logging.root.manager.loggerDict]:
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            extra.append(logger)
    yield caplog
    for logger in extra:
        logger.removeHandler(caplog.handler)


def _canary(world: World) -> None:
    participant_actions.participant_update(
        actor=world.clinician_a,
        participant=world.participant_a,
        expected_version=world.participant_a.version,
        changes={
            "legal_first_name": f"{MARKER}first",
            "legal_last_name": f"{MARKER}last",
            "preferred_name": f"{MARKER}pref",
            "phone": f"555 {MARKER}",
            "email": f"{MARKER.lower()}@example.org",
            "address": f"1 {MARKER} Street",
            "emergency_contact_name": f"{MARKER} contact",
            "emergency_contact_phone": f"555 {MARKER}",
        },
    )
    world.participant_a.refresh_from_db()


def _director(world: World, client_for):
    client = client_for(world.director_a)
    session = client.session
    session["openiop_reauth_at"] = time.time()
    session.save()
    client.raise_request_exception = False
    return client


def _spoil(value: object) -> object:
    """An invalid value that carries the marker: too long, not a date, not an id."""
    if isinstance(value, str):
        return MARKER * 40
    if isinstance(value, int):
        return f"{MARKER}-not-a-number"
    return value


def _web_form(world: World) -> dict[str, str]:
    world.participant_a.refresh_from_db()  # the version the edit form must carry
    on = today()
    return {
        "legal_first_name": f"{MARKER}new",
        "legal_last_name": f"{MARKER}admit",
        "date_of_birth": "1990-01-01",
        "sex_for_scoring": "unknown",
        "phone": f"555 {MARKER}",
        "track": str(world.track_a.external_id),
        # (Not clinician_a: the staff routes exercised above may have revoked them.)
        "primary_clinician": str(world.director_a.external_id),
        "admitted_on": str(on - timedelta(days=1)),
        "phase": "engagement",
        "version": str(world.participant_a.version),
        "to_phase": "early_recovery",
        "effective_on": str(on),
        "reason": f"{MARKER} reason",
    }


def _exercise(world: World, client) -> list[Seen]:
    seen: list[Seen] = []

    def record(label: str, url: str, response: Any) -> None:
        seen.append(Seen(label, url, response))

    for route in web_routes(world, program_scoped_only=True):
        record(f"GET {route.name}", route.path, client.get(route.path))
        record(f"POST(empty) {route.name}", route.path, client.post(route.path, {}))
        bad = {k: (MARKER * 40 if k.endswith("_on") else v) for k, v in _web_form(world).items()}
        record(f"POST(invalid) {route.name}", route.path, client.post(route.path, bad))
    for route in web_routes(world, program_scoped_only=True):
        if route.name in ("participants:admit", "participants:edit"):
            response = client.post(route.path, _web_form(world))
            assert response.status_code == 302, (route.name, response.status_code)
            record(f"POST(valid) {route.name}", route.path, response)
    for method, path in api_operations(world):
        if method == "GET":
            record(f"API GET {path}", path, client.get(path))
            continue
        body = valid_body(method, path, world)
        spoiled = {key: _spoil(value) for key, value in body.items()}
        for label, payload in (("invalid", spoiled), ("valid", body)):
            response = client.generic(
                method, path, data=json.dumps(payload), content_type="application/json"
            )
            record(f"API {method}({label}) {path}", path, response)
    return seen


def _forced_errors(world: World, client, monkeypatch) -> list[Seen]:
    """Server errors whose exception text names the participant object, as a careless
    `raise ValueError(f"... {participant}")` would: its str/repr must stay opaque."""

    def explode(participant: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"injected failure for {participant!r} ({participant})")

    monkeypatch.setattr(participant_selectors, "current_episode", explode)
    monkeypatch.setattr(participants_api, "participant_out", explode)
    program, person = world.program_a.external_id, world.participant_a.external_id
    chart = f"/p/{program}/participants/{person}/"
    api = f"/api/v1/programs/{program}/participants/{person}"
    return [Seen("500 chart", chart, client.get(chart)), Seen("500 api", api, client.get(api))]


def test_AU_04_canary_never_in_logs_error_pages_or_urls(
    world: World, client_for, all_logs, monkeypatch
):
    _canary(world)
    client = _director(world, client_for)
    seen = _exercise(world, client)
    seen += _forced_errors(world, client, monkeypatch)

    # The canary was really exercised: the chart shows it, the errors happened and were logged.
    chart = next(s for s in seen if s.label == "GET participants:chart")
    assert chart.response.status_code == 200 and _has_marker(chart.body)
    assert [s.response.status_code for s in seen[-2:]] == [500, 500]
    errors = [r for r in all_logs.records if r.levelno >= logging.ERROR]
    assert any(r.exc_info for r in errors), "server errors were not logged"
    assert any(s.response.status_code == 422 for s in seen if s.label.startswith("API"))

    problems = []
    log_text = all_logs.text + "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r}" for r in all_logs.records
    )
    if _has_marker(log_text):
        lines = [line for line in log_text.splitlines() if _has_marker(line)]
        problems.append(f"logs: {lines[:5]}")
    for s in seen:
        status = s.response.status_code
        if _has_marker(s.url) or _has_marker(s.response.get("Location", "")):
            problems.append(f"{s.label}: URL or Location {s.response.get('Location')}")
        if s.is_html:
            urls = [u for u in URL_ATTRS.findall(s.body) if _has_marker(u)]
            if urls:
                problems.append(f"{s.label}: generated link {urls[:3]}")
        # A form shown again with its errors (422) to the person editing it may hold what
        # they typed; every other error response must not.
        form_redisplay = status == 422 and s.is_html
        if status >= 400 and not form_redisplay and _has_marker(s.body):
            problems.append(f"{s.label}: {status} body names the participant")
    assert not problems, "\n".join(problems)


def test_AU_04_json_log_of_a_login_a_chart_and_a_check_in_never_names_the_participant(
    world: World,
):
    """The production log format (JSON, request id on every line) at DEBUG with the logger
    levels the settings configure: a clinician logs in through the login page and the second
    factor, searches by name and opens a chart; the participant logs in and sends a check-in
    that raises a safety alert (issue 12)."""
    import io
    import uuid

    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from pythonjsonlogger.json import JsonFormatter

    from openiop.accounts import mfa
    from openiop.core.logs import JSON_RESERVED_ATTRS, RequestIdFilter
    from openiop.testing import PASSWORD

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(request_id)s %(message)s", reserved_attrs=JSON_RESERVED_ATTRS
        )
    )
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    participant = world.participant_a
    try:
        staff = Client()
        device = TOTPDevice.objects.create(user=world.clinician_a, name="phone", confirmed=True)
        response = staff.post(
            "/accounts/login/", {"username": world.clinician_a.username, "password": PASSWORD}
        )
        response = staff.post(response["Location"], {"code": mfa.current_code(device)})
        assert response.status_code == 302
        chart = f"/p/{world.program_a.external_id}/participants/{participant.external_id}/"
        response = staff.get(chart)
        assert response.status_code == 200 and participant.legal_last_name in response.text
        search = f"/p/{world.program_a.external_id}/participants/"
        response = staff.get(search, {"q": participant.legal_last_name[:5]})
        assert response.status_code == 200 and participant.legal_last_name in response.text

        portal = Client()
        portal.post(
            "/accounts/login/",
            {"username": world.participant_user.username, "password": PASSWORD},
        )
        response = portal.post(
            "/me/check-in/",
            {
                "idempotency_key": str(uuid.uuid4()),
                "kind": "daily",
                "mood": "3",
                "craving": "2",
                "used_since_last": "no",
                "sleep_hours": "6",
                "medication": "taken",
                "safety_concern": "yes",
                "bring_to_group": f"{participant.legal_first_name} needs to talk",
            },
        )
        assert response.status_code == 302
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines, "nothing was logged"
    assert all(line["request_id"] for line in lines)
    for secret in (
        participant.legal_first_name,
        participant.legal_last_name,
        participant.record_number,
    ):
        assert secret.lower() not in text.lower(), f"the log names the participant: {secret}"
