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


@pytest.mark.parametrize(
    ("instant", "typed", "stored_utc"),
    [
        # Fall-back night, in the repeated hour: "01:28" is taken as its first (daylight) time.
        ("2027-11-07T06:30:00+00:00", "2027-11-07T01:28", "2027-11-07T05:28:00+00:00"),
        # Spring-forward day: "02:30" never showed on a clock; it is read with the offset in
        # force before the jump (EST), as zoneinfo does, i.e. 03:30 EDT.
        ("2027-03-14T12:00:00+00:00", "2027-03-14T02:30", "2027-03-14T07:30:00+00:00"),
    ],
)
def test_a_wall_time_the_dst_change_makes_ambiguous_or_skipped_is_accepted(
    db, client_for, instant, typed, stored_utc
):
    from datetime import datetime

    import time_machine

    from openiop.testing import build_world

    with time_machine.travel(datetime.fromisoformat(instant), tick=False):
        world = build_world()
        data = {f"item_{n}": "0" for n in range(1, 10)} | {"administered_at": typed}
        base = f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"
        response = client_for(world.clinician_a).post(base + "measures/new/phq9/", data)
        assert response.status_code in (200, 302), response.content[:400]
        stored = Assessment.objects.get().administered_at
        assert stored == datetime.fromisoformat(stored_utc)


def test_the_wall_clock_field_keeps_an_explicit_offset_and_reads_formats():
    from datetime import UTC, datetime

    from django.utils import timezone

    from openiop.core.forms import WallClockDateTimeField

    field = WallClockDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])
    with timezone.override(clock.zone_named("America/New_York")):
        assert field.clean("2027-11-07T01:30+00:00") == datetime(2027, 11, 7, 1, 30, tzinfo=UTC)
        local = field.clean("2027-06-01T09:00")
        assert local.utcoffset() == timedelta(hours=-4)
        assert WallClockDateTimeField(required=False).clean("") is None
