"""IN-01 on SQLite, matching 0003_signed_note_trigger on PostgreSQL: no note is ever
deleted, and a signed note cannot be updated, even with raw SQL (corrections are addenda,
rows of their own). The 'bypass' flag row is explained in
audit/migrations/0004_sqlite_append_only_triggers.py."""

from django.db import migrations

NOT_BYPASSED = "NOT EXISTS (SELECT 1 FROM openiop_trigger_flag WHERE name = 'bypass')"
CREATE = [
    "CREATE TRIGGER groupwork_note_no_delete BEFORE DELETE ON groupwork_note "
    f"WHEN {NOT_BYPASSED} "
    "BEGIN SELECT RAISE(ABORT, 'notes are never deleted (mark them entered in error)'); END",
    "CREATE TRIGGER groupwork_note_signed_immutable BEFORE UPDATE ON groupwork_note "
    f"WHEN OLD.status = 'signed' AND {NOT_BYPASSED} "
    "BEGIN SELECT RAISE(ABORT, 'signed note is immutable; add an addendum'); END",
]
DROP = [
    "DROP TRIGGER IF EXISTS groupwork_note_no_delete",
    "DROP TRIGGER IF EXISTS groupwork_note_signed_immutable",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in CREATE:
            schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("groupwork", "0003_signed_note_trigger"),
        ("audit", "0004_sqlite_append_only_triggers"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
