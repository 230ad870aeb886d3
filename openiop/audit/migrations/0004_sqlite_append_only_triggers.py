"""SQLite triggers that make the audit log append-only underneath the ORM (AU-02), matching
the PostgreSQL ones of 0003_append_only_triggers:

- BEFORE UPDATE and BEFORE DELETE on audit_auditevent and audit_auditcheckpoint: abort.
- The one exception is the retention purge (AU-05): DELETE of an event while the purge's
  flag row is present in `openiop_trigger_flag` (name 'audit_purge', value: the six-year
  cut-off the purge computed) and the row occurred before that cut-off. `audit_purge()`
  inserts the flag and removes it again inside its own transaction; SQLite has a single
  writer, so no other connection ever sees it (PostgreSQL's `SET LOCAL`).

`openiop_trigger_flag` also holds the row 'bypass' while Django's test runner empties the
test database (SQLite has no TRUNCATE: it deletes every row) and while tamper tests play an
attacker who, holding the database file, would simply drop the triggers. SQLite has no
roles, so these triggers stop application bugs and casual edits, not the file's owner; the
hash chain and `openiop audit verify` catch the rest.

SQLite drops a table's triggers when a migration rebuilds the table; the raw-SQL tests in
tests/test_database_immutability.py fail if that happens.
"""

from django.db import migrations

FLAG_TABLE = "openiop_trigger_flag"
NOT_BYPASSED = "NOT EXISTS (SELECT 1 FROM openiop_trigger_flag WHERE name = 'bypass')"
PURGEABLE = (
    "COALESCE(OLD.occurred_at < "
    "(SELECT value FROM openiop_trigger_flag WHERE name = 'audit_purge'), 0)"
)

TRIGGERS = {
    # name: (operation, table, extra WHEN condition)
    "audit_auditevent_no_update": ("UPDATE", "audit_auditevent", ""),
    "audit_auditevent_no_delete": ("DELETE", "audit_auditevent", f" AND NOT {PURGEABLE}"),
    "audit_auditcheckpoint_no_update": ("UPDATE", "audit_auditcheckpoint", ""),
    "audit_auditcheckpoint_no_delete": ("DELETE", "audit_auditcheckpoint", ""),
}


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(
        f"CREATE TABLE {FLAG_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL DEFAULT '')"
    )
    for name, (operation, table, extra) in TRIGGERS.items():
        schema_editor.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
            f"WHEN {NOT_BYPASSED}{extra} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {operation} on {table} "
            "refused'); END",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FLAG_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
