"""A time typed into a form is program time (issue 19 item 1).

Forms used to be parsed in the server's zone (UTC) and then treated as program time, so a
clinician's "09:00" on an assessment was stored as 04:00 in New York, and a participant's
"used at 20:00" moved by five hours. The program's zone is now active for the request.
"""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import pytest

from openiop.core import clock
from openiop.measures.models import Assessment
from openiop.portal.models import CheckIn
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def _yesterday_at(hhmm: str) -> str:
    return f"{(today() - timedelta(days=1)).isoformat()}T{hhmm}"


def test_assessment_time_typed_by_a_clinician_is_program_time(world: World, client_for):
    data = {f"item_{n}": "0" for n in range(1, 10)} | {"administered_at": _yesterday_at("09:00")}
    base = f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"
    response = client_for(world.clinician_a).post(base + "measures/new/phq9/", data)
    assert response.status_code in (200, 302), response.content[:400]
    stored = Assessment.objects.get().administered_at
    local = clock.local_time(stored, world.program_a)
    assert local.time() == time(9, 0)
    assert local.date() == today() - timedelta(days=1)


def test_checkin_use_time_typed_by_a_participant_is_program_time(world: World, client_for):
    body = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "daily",
        "mood": "6",
        "craving": "3",
        "used_since_last": "yes",
        "use_what": "beer",
        "use_when": _yesterday_at("20:00"),
        "sleep_hours": "7",
        "medication": "taken",
        "safety_concern": "no",
        "suicidal_ideation": "0",
    }
    response = client_for(world.participant_user).post("/me/check-in/", body)
    assert response.status_code == 302, response.content[:400]
    used = clock.local_time(CheckIn.objects.get().use_when, world.program_a)
    assert used.time() == time(20, 0)


def test_the_zone_does_not_outlive_its_request(world: World, client_for):
    from django.utils import timezone

    client_for(world.clinician_a).get(f"/p/{world.program_a.external_id}/")
    assert timezone.get_current_timezone_name() == "UTC"
