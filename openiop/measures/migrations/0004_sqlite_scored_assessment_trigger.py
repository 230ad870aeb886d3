"""IN-01 on SQLite, matching 0002_scored_assessment_trigger on PostgreSQL: no assessment is
ever deleted, and a scored assessment cannot be changed even with raw SQL; the only change
allowed is marking it entered in error, once (the entered-in-error columns and updated_at,
while it is not yet entered in error).

PostgreSQL compares the whole row minus those columns; SQLite triggers cannot, so the
condition names every column the table has when this migration runs. The 'bypass' flag row
is explained in audit/migrations/0004_sqlite_append_only_triggers.py.
"""

from django.db import migrations

TABLE = "measures_assessment"
ERROR_COLUMNS = {
    "entered_in_error",
    "entered_in_error_reason",
    "entered_in_error_at",
    "entered_in_error_by_id",
    "updated_at",
}
NOT_BYPASSED = "NOT EXISTS (SELECT 1 FROM openiop_trigger_flag WHERE name = 'bypass')"


def _changed(columns, quote) -> str:
    return " OR ".join(f"OLD.{quote(c)} IS NOT NEW.{quote(c)}" for c in sorted(columns))


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, TABLE)}
    quote = connection.ops.quote_name
    schema_editor.execute(
        f"CREATE TRIGGER measures_assessment_no_delete BEFORE DELETE ON {TABLE} "
        f"WHEN {NOT_BYPASSED} BEGIN SELECT RAISE(ABORT, "
        "'assessments are never deleted (mark them entered in error)'); END",
        params=None,
    )
    schema_editor.execute(
        f"CREATE TRIGGER measures_assessment_scored_immutable BEFORE UPDATE ON {TABLE} "
        f"WHEN OLD.status = 'scored' AND {NOT_BYPASSED} "
        f"AND (({_changed(columns - ERROR_COLUMNS, quote)}) "
        f"OR (OLD.entered_in_error AND ({_changed(columns, quote)}))) "
        "BEGIN SELECT RAISE(ABORT, "
        "'scored assessment is immutable; mark it entered in error'); END",
        params=None,
    )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS measures_assessment_no_delete")
        schema_editor.execute("DROP TRIGGER IF EXISTS measures_assessment_scored_immutable")


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0003_assessment_inconsistent_items"),
        ("audit", "0004_sqlite_append_only_triggers"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
