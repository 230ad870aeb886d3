"""AU-03: the audit report and its CSV export, with their authorisation-failure twins."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.actions import AuditEntry, audit_append, audit_record
from openiop.audit.models import AuditEvent
from openiop.core.middleware import current_break_glass
from openiop.testing import World, admit

pytestmark = pytest.mark.django_db


def _url(world: World, name: str = "", program=None) -> str:
    program = program or world.program_a
    return f"/p/{program.external_id}/audit/{name}"


def _stepped_up(client):
    session = client.session
    session["openiop_reauth_at"] = time.time()
    session.save()
    return client


def _reads(world: World, n: int, *, actor=None, participant=None, program=None) -> None:
    program = program or world.program_a
    participant = participant or world.participant_a
    for start in range(0, n, 50):
        entries = [
            AuditEntry(
                action="read",
                object_type="participants.participant",
                object_id=str(participant.external_id),
                program_id=program.external_id,
                participant_id=participant.external_id,
                detail={"i": start + i},
            )
            for i in range(min(50, n - start))
        ]
        audit_append(actor=actor or world.clinician_a, entries=entries)


def _shown(response) -> list[AuditEvent]:
    return [row.event for row in response.context["rows"]]


def test_AU_03_report_lists_only_this_programs_events(world: World, client_for):
    _reads(world, 3, program=world.program_b, participant=world.participant_b)
    response = client_for(world.director_a).get(_url(world))
    assert response.status_code == 200
    shown = _shown(response)
    assert shown and all(e.program_external_id == world.program_a.external_id for e in shown)
    assert [e.seq for e in shown] == sorted((e.seq for e in shown), reverse=True)
    assert world.participant_a.record_number.encode() in response.content
    assert b"Quillby" not in response.content  # record numbers, never names
    b_events = AuditEvent.objects.filter(program_external_id=world.program_b.external_id)
    assert not set(b_events.values_list("seq", flat=True)) & {e.seq for e in shown}


def test_AU_03_columns_times_in_utc_and_program_time(world: World, client_for):
    with time_machine.travel(datetime(2026, 7, 1, 16, 30, tzinfo=UTC), tick=False):
        _reads(world, 1)
    response = client_for(world.director_a).get(_url(world) + "?date_from=2026-07-01")
    text = response.content.decode()
    assert "2026-07-01 16:30:00" in text  # UTC
    assert "2026-07-01 12:30:00 EDT" in text  # America/New_York in summer
    for header in ("User", "Action", "Object", "Participant", "Outcome", "Break-glass"):
        assert f'<th scope="col">{header}</th>' in text
    assert "Request id" in text


def test_AU_03_billing_and_clinician_get_403(world: World, client_for):
    for user in (world.billing_a, world.clinician_a):
        client = _stepped_up(client_for(user))
        assert client.get(_url(world)).status_code == 403
        assert client.get(_url(world, "export.csv")).status_code == 403


def test_AU_03_program_b_staff_get_404_anonymous_goes_to_login(world: World, client_for):
    client = _stepped_up(client_for(world.clinician_b))
    assert client.get(_url(world)).status_code == 404
    assert client.get(_url(world, "export.csv")).status_code == 404
    anonymous = client_for(None).get(_url(world))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_AU_03_supervisor_may_view(world: World, client_for):
    assert client_for(world.supervisor_a).get(_url(world)).status_code == 200


def test_AU_03_filters_by_user_action_participant_and_break_glass(world: World, client_for):
    other, _ = admit(world.program_a, world.track_a, world.clinician_a, first="Rowan", last="Teel")
    _reads(world, 2, actor=world.supervisor_a, participant=other)
    token = current_break_glass.set(True)
    try:
        audit_record(actor=world.supervisor_a, action="read", obj=other, detail={"bg": 1})
    finally:
        current_break_glass.reset(token)
    client = client_for(world.director_a)

    def shown(query: str) -> list[AuditEvent]:
        response = client.get(_url(world) + query)
        assert response.status_code == 200, response.content
        return _shown(response)

    by_user = shown(f"?user={world.supervisor_a.external_id}")
    assert len(by_user) == 3 and {e.actor_id for e in by_user} == {world.supervisor_a.pk}
    by_action = shown("?action=create")
    assert by_action and {e.action for e in by_action} == {"create"}
    by_number = shown(f"?participant={other.record_number}")
    by_id = shown(f"?participant={other.external_id}")
    # Looking a participant up in the log is itself recorded against that participant.
    assert by_id[0].object_type == "audit.auditevent" and by_id[0].detail["view"] == "audit_report"
    assert [e.seq for e in by_id[1:]] == [e.seq for e in by_number]
    assert {e.participant_external_id for e in by_number} == {other.external_id}
    assert len(by_number) >= 4  # admission events and the three reads
    glass = shown("?break_glass=on")
    assert [e.detail for e in glass] == [{"bg": 1}] and glass[0].break_glass
    page = client.get(_url(world) + "?break_glass=on").content.decode()
    assert "Break-glass" in page and "under break-glass access" in page


def test_AU_03_filters_by_program_local_dates(world: World, client_for):
    # 03:30 UTC on 2 March is still 1 March in New York.
    for moment in (
        datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 5, 15, 0, tzinfo=UTC),
    ):
        with time_machine.travel(moment, tick=False):
            _reads(world, 1)
    client = client_for(world.director_a)

    def times(query: str) -> list[datetime]:
        return [e.occurred_at for e in _shown(client.get(_url(world) + query))]

    assert times("?date_from=2026-03-01&date_to=2026-03-01") == [
        datetime(2026, 3, 2, 3, 30, tzinfo=UTC)
    ]
    assert len(times("?date_from=2026-03-02&date_to=2026-03-05")) == 2
    assert len(times("?date_from=2026-03-01&date_to=2026-03-31")) == 3


@pytest.mark.parametrize(
    ("query", "field_label"),
    [
        ("?date_from=2026-03-05&date_to=2026-03-01", "To"),
        ("?date_from=2026-13-45", "From"),
        ("?date_to=yesterday", "To"),
        ("?participant=NOPE-999", "Participant"),
        ("?action=delete", "Action"),
        ("?user=not-a-uuid", "User"),
    ],
)
def test_AU_03_bad_filters_name_the_field(world: World, client_for, query, field_label):
    client = _stepped_up(client_for(world.director_a))
    before = AuditEvent.objects.count()
    response = client.get(_url(world) + query)
    assert response.status_code == 422
    text = response.content.decode()
    assert 'class="error-summary"' in text
    assert f">{field_label}: " in text, text[text.find("error-summary") :][:600]
    export = client.get(_url(world, "export.csv") + query)
    assert export.status_code == 422
    assert AuditEvent.objects.count() == before  # nothing shown, nothing recorded


def test_AU_03_participant_of_another_program_is_not_found(world: World, client_for):
    response = client_for(world.director_a).get(
        _url(world) + f"?participant={world.participant_b.external_id}"
    )
    assert response.status_code == 422


def test_AU_03_paginates_fifty_a_page(world: World, client_for):
    _reads(world, 120)
    client = client_for(world.director_a)
    total = AuditEvent.objects.filter(program_external_id=world.program_a.external_id).count()
    first = client.get(_url(world))
    assert len(_shown(first)) == 50
    last_page = (total + 1 + 49) // 50  # +1: viewing the first page was recorded too
    last = client.get(_url(world) + f"?page={last_page}")
    assert 0 < len(_shown(last)) <= 50
    assert b"Newer</a>" in last.content


def test_AU_03_report_runs_a_constant_number_of_queries(world: World, client_for):
    client = client_for(world.director_a)
    client.get(_url(world))  # warm the session
    _reads(world, 2)
    with CaptureQueriesContext(connection) as small:
        assert len(_shown(client.get(_url(world) + "?action=read"))) < 50
    others = [
        admit(world.program_a, world.track_a, world.clinician_a, first="P", last=f"Extra{i}")[0]
        for i in range(5)
    ]
    for person in others:
        _reads(world, 12, participant=person)
    with CaptureQueriesContext(connection) as full:
        rows = client.get(_url(world) + "?action=read").context["rows"]
    assert len(rows) == 50 and len({r.record_number for r in rows}) > 1
    assert len(full) == len(small), [q["sql"] for q in full]


def test_AU_03_viewing_the_report_is_recorded(world: World, client_for):
    client = client_for(world.director_a)
    client.get(_url(world) + "?action=create&page=1")
    event = AuditEvent.objects.order_by("-seq")[0]
    assert event.action == "read" and event.object_type == "audit.auditevent"
    assert event.actor_id == world.director_a.pk
    assert event.program_external_id == world.program_a.external_id
    assert event.detail == {"view": "audit_report", "filters": {"action": "create"}, "page": 1}


def test_AU_03_csv_export_needs_step_up(world: World, client_for):
    client = client_for(world.director_a)
    before = AuditEvent.objects.count()
    response = client.get(_url(world, "export.csv"))
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before
    session = client.session
    session["openiop_reauth_at"] = time.time() - 6 * 60  # older than five minutes
    session.save()
    assert client.get(_url(world, "export.csv")).status_code == 403


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_AU_03_csv_contents_and_export_is_audited(world: World, client_for):
    _reads(world, 3, actor=world.supervisor_a)
    _reads(world, 2, program=world.program_b, participant=world.participant_b)
    client = _stepped_up(client_for(world.director_a))
    query = f"?user={world.supervisor_a.external_id}&action=read"
    rows = _csv(client.get(_url(world, "export.csv") + query))
    assert len(rows) == 3
    expected = AuditEvent.objects.filter(
        program_external_id=world.program_a.external_id, actor=world.supervisor_a, action="read"
    ).order_by("seq")
    assert [int(r["seq"]) for r in rows] == [e.seq for e in expected]
    first = rows[0]
    assert first["participant_record_number"] == world.participant_a.record_number
    assert first["actor"] == str(world.supervisor_a)
    assert first["actor_id"] == str(world.supervisor_a.external_id)
    assert first["break_glass"] == "no" and first["outcome"] == "success"
    assert first["time_utc"].endswith("+00:00") and first["time_local"][-6:] in ("-05:00", "-04:00")
    export = AuditEvent.objects.order_by("-seq")[0]
    assert export.action == "export" and export.actor_id == world.director_a.pk
    assert export.program_external_id == world.program_a.external_id
    assert export.detail["filters"] == {
        "user": str(world.supervisor_a.external_id),
        "action": "read",
    }
    assert export.detail["format"] == "csv"
    assert export.request_id  # tied to the request that exported

    everything = _csv(client.get(_url(world, "export.csv")))
    seqs = [int(r["seq"]) for r in everything]
    program_a = AuditEvent.objects.filter(program_external_id=world.program_a.external_id)
    # Every program A event before this export, oldest first; nothing from program B.
    assert seqs == list(
        program_a.filter(seq__lt=program_a.order_by("-seq")[0].seq)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def test_AU_03_csv_cells_cannot_start_a_formula(world: World, client_for):
    world.supervisor_a.display_name = "=HYPERLINK(1)"
    world.supervisor_a.save(update_fields=["display_name"])
    _reads(world, 1, actor=world.supervisor_a)
    client = _stepped_up(client_for(world.director_a))
    rows = _csv(client.get(_url(world, "export.csv") + "?action=read"))
    assert rows[-1]["actor"] == "'=HYPERLINK(1)"


def test_AU_03_program_home_links_the_report_only_for_auditors(world: World, client_for):
    home = f"/p/{world.program_a.external_id}/"
    link = f'href="{_url(world)}"'.encode()
    assert link in client_for(world.director_a).get(home).content
    assert link not in client_for(world.clinician_a).get(home).content
