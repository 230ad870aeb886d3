"""AU-02 tamper evidence and AU-05 retention, on SQLite and on PostgreSQL.

The ORM guard refuses edits on both databases, and so do the append-only triggers for raw
SQL (the SQLite ones: tests/test_database_immutability.py); tampering needs a superuser who
switches triggers off (`session_replication_role = replica`; on SQLite the owner of the file,
who can drop them) - which the hash chain then reveals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from openiop.audit.actions import RETENTION_YEARS, audit_purge, years_before
from openiop.audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditLogImmutable
from openiop.audit.tests.tamper import append_events, last_seq, raw_as_attacker, run_cli
from openiop.audit.verify import audit_verify
from openiop.core.errors import ActionError
from openiop.testing import make_user

pytestmark = pytest.mark.django_db

N = 1000
BIG = 10**12  # a free sequence number to park a row on while swapping two


def _verify_cli_fails_at(seq: int, capsys) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        run_cli(["audit", "verify"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"sequence {seq}:" in err, err
    return err


def _swap(a: int, b: int) -> None:
    raw_as_attacker("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [BIG, a])
    raw_as_attacker("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [a, b])
    raw_as_attacker("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [b, BIG])


TAMPERS = {
    "edited": (
        lambda: raw_as_attacker(
            "UPDATE audit_auditevent SET outcome = %s WHERE seq = %s", ["denied", 500]
        ),
        500,
        "edited",
    ),
    "deleted": (
        lambda: raw_as_attacker("DELETE FROM audit_auditevent WHERE seq = %s", [700]),
        700,
        "missing",
    ),
    "reordered": (lambda: _swap(300, 301), 300, "out of order"),
    "truncated": (
        lambda: raw_as_attacker("DELETE FROM audit_auditevent WHERE seq > %s", [990]),
        991,
        "ends before",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_AU_02_verify_reports_first_bad_sequence(kind: str, capsys):
    append_events(N)
    assert last_seq() == N
    run_cli(["audit", "verify"])
    assert f"{N} events verified" in capsys.readouterr().out
    tamper, bad_seq, words = TAMPERS[kind]
    tamper()
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == bad_seq, result
    assert words in result.problem
    assert words in _verify_cli_fails_at(bad_seq, capsys)


def test_AU_02_reordered_far_apart_and_rewritten_hash_are_caught(capsys):
    append_events(200)
    _swap(20, 150)
    assert audit_verify().first_bad_seq == 20
    _swap(20, 150)
    assert audit_verify().ok
    # Rewriting a row *and* its own hash breaks the link of the row after it.
    raw_as_attacker("UPDATE audit_auditevent SET hash = %s WHERE seq = %s", ["f" * 64, 60])
    assert audit_verify().first_bad_seq == 60
    raw_as_attacker("UPDATE audit_auditevent SET prev_hash = hash WHERE seq = %s", [61])
    assert audit_verify().first_bad_seq == 60


def _orm_attempts(event: AuditEvent) -> list:
    return [
        lambda: AuditEvent.objects.filter(seq=event.seq).update(outcome="denied"),
        lambda: AuditEvent.objects.filter(seq=event.seq).delete(),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.bulk_update([event], ["outcome"]),
        lambda: AuditEvent.objects.update_or_create(seq=event.seq, defaults={"outcome": "x"}),
        event.delete,
        event.save,
    ]


@pytest.mark.parametrize("operation", ["update", "delete", "truncate"])
def test_AU_02_log_cannot_be_edited(operation: str):
    """The ORM guard holds on both databases; on PostgreSQL the trigger also refuses raw SQL
    UPDATE, DELETE and TRUNCATE (behaviour picked by the database under test)."""
    append_events(5)
    event = AuditEvent.objects.get(seq=3)
    for attempt in _orm_attempts(event):
        with pytest.raises(AuditLogImmutable):
            attempt()
    if connection.vendor == "postgresql":
        sql = {
            "update": "UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = 3",
            "delete": "DELETE FROM audit_auditevent WHERE seq = 3",
            # Test databases allow TRUNCATE so Django can empty them between tests; a
            # production database never has that setting.
            # (Deferred foreign-key checks run first: PostgreSQL refuses TRUNCATE while
            # the test transaction still has them pending, which would hide the trigger.)
            "truncate": "SET CONSTRAINTS ALL IMMEDIATE; "
            "SET LOCAL openiop.audit_allow_truncate = 'off'; TRUNCATE audit_auditevent",
        }[operation]
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
        if operation == "delete":
            # The purge flag does not open the door for rows younger than six years.
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute("SET LOCAL openiop.audit_purge = 'on'")
                cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")
        # The head is a separate table and stays writable: appending updates it.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_audithead SET last_seq = last_seq WHERE id = 1")
    assert AuditEvent.objects.count() == 5
    assert audit_verify().ok


def test_AU_02_checkpoints_are_append_only_too():
    checkpoint = AuditCheckpoint.objects.create(
        seq=1, hash="a" * 64, before=timezone.now(), purged=1, created_at=timezone.now()
    )
    for attempt in (checkpoint.save, checkpoint.delete, AuditCheckpoint.objects.all().delete):
        with pytest.raises(AuditLogImmutable):
            attempt()
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditcheckpoint")


def test_AU_05_years_before_handles_leap_day():
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert years_before(leap, 6) == datetime(2022, 2, 28, 12, 0, tzinfo=UTC)
    assert years_before(datetime(2026, 11, 27, tzinfo=UTC), 6) == datetime(2020, 11, 27, tzinfo=UTC)


def test_AU_05_purge_refuses_rows_younger_than_six_years():
    actor = make_user()
    append_events(10)
    count = AuditEvent.objects.count()
    now = timezone.now()
    too_young = years_before(now, RETENTION_YEARS) + timedelta(days=1)
    for before in (too_young, now, now - timedelta(days=6 * 365)):
        with pytest.raises(ActionError) as exc:
            audit_purge(actor=actor, before=before)
        assert "before" in exc.value.errors
        assert "6 years" in exc.value.errors["before"][0]
    with pytest.raises(ActionError) as exc:
        audit_purge(actor=actor, before=datetime(2000, 1, 1))  # noqa: DTZ001 - naive on purpose
    assert "before" in exc.value.errors
    assert AuditEvent.objects.count() == count
    assert not AuditCheckpoint.objects.exists()
    assert audit_verify().ok


def _events_at(moment: datetime, n: int) -> None:
    with time_machine.travel(moment, tick=False):
        append_events(n)


def test_AU_05_purge_of_old_rows_keeps_verify_passing(capsys):
    now = timezone.now()
    _events_at(now - timedelta(days=8 * 365), 30)
    _events_at(now - timedelta(days=7 * 365), 20)
    _events_at(now - timedelta(days=365), 15)
    append_events(5)
    actor = make_user()
    cutoff = years_before(now, RETENTION_YEARS)

    assert audit_purge(actor=actor, before=now - timedelta(days=7 * 365 + 30)) == 30
    assert AuditCheckpoint.objects.get().seq == 30
    assert audit_verify().ok
    # A second purge moves the checkpoint on; rows younger than six years all stay.
    assert audit_purge(actor=actor, before=cutoff) == 20
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [30, 50]
    remaining = AuditEvent.objects.order_by("seq")
    assert remaining.first().seq == 51
    assert remaining.filter(occurred_at__lt=cutoff).count() == 0
    purge = remaining.last()
    assert purge.action == "purge" and purge.actor_id == actor.pk
    assert purge.detail["through_seq"] == 50 and purge.detail["purged"] == 20
    assert AuditHead.objects.get().last_seq == purge.seq

    result = audit_verify()
    # 15 + 5 young events, the actor's creation and both purge events.
    assert result.ok and result.checked == 15 + 5 + 1 + 2, result
    run_cli(["audit", "verify"])
    assert "intact" in capsys.readouterr().out

    # Tampering after a purge is still found, counted from the checkpoint.
    raw_as_attacker("DELETE FROM audit_auditevent WHERE seq = %s", [51])
    _verify_cli_fails_at(51, capsys)


def test_AU_05_forged_checkpoint_is_reported(capsys):
    append_events(20)
    # An attacker deletes the oldest rows and plants a checkpoint to cover the hole.
    hash_10 = AuditEvent.objects.get(seq=10).hash
    raw_as_attacker("DELETE FROM audit_auditevent WHERE seq <= %s", [10])
    raw_as_attacker(
        "INSERT INTO audit_auditcheckpoint (seq, hash, before, purged, created_at) "
        "VALUES (%s, %s, %s, %s, %s)",
        [10, hash_10, timezone.now(), 10, timezone.now()],
    )
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 11
    assert "checkpoint" in result.problem
    _verify_cli_fails_at(11, capsys)


def test_AU_05_purge_command(capsys):
    now = timezone.now()
    _events_at(now - timedelta(days=7 * 365), 5)
    make_user()
    run_cli(
        ["audit", "purge", "--before", (now - timedelta(days=7 * 365 - 1)).strftime("%Y-%m-%d")]
    )
    assert "purged 5" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        run_cli(["audit", "purge", "--before", now.strftime("%Y-%m-%d")])
    assert exc.value.code == 2
    assert "before" in capsys.readouterr().err
    run_cli(["audit", "verify"])


@pytest.mark.parametrize(
    "detail",
    [{}, {"view": "chart"}, {"é": ['"quoted"\n', 1, None, 2.5, True], "a": {"z": 1, "b": [2]}}],
)
@pytest.mark.parametrize("actor_id", [None, 7])
def test_AU_02_fast_row_hash_matches_canonical_chain(detail, actor_id):
    """`audit verify` uses a hand-assembled canonical text; it must equal `canonical()`."""
    import uuid

    from openiop.audit.chain import chain_fields, link_hash, row_link_hash

    ids = uuid.uuid4(), uuid.uuid4()
    moment = timezone.now()
    for program, participant, break_glass in ((ids[0], ids[1], True), (None, None, False)):
        fields = chain_fields(
            seq=42,
            occurred_at=moment,
            actor_id=actor_id,
            program_external_id=str(program) if program else None,
            participant_external_id=str(participant) if participant else None,
            action="read",
            object_type="participants.participant",
            object_id="ü<&>",
            outcome="success",
            request_id="r" * 32,
            break_glass=break_glass,
            detail=detail,
        )
        fast = row_link_hash(
            "9" * 64, 42, moment, actor_id, program, participant, "read",
            "participants.participant", "ü<&>", "success", "r" * 32, break_glass, detail,
        )  # fmt: skip
        assert fast == link_hash("9" * 64, fields)
