"""PostgreSQL triggers that make the audit log append-only underneath the ORM (AU-02).

- Row-level BEFORE UPDATE OR DELETE on audit_auditevent and audit_auditcheckpoint: raise.
  The single exception is the retention purge (AU-05): DELETE of an event is let through
  only while the transaction has `SET LOCAL openiop.audit_purge = 'on'` AND the row is more
  than six calendar years old, so even a session that sets the flag cannot remove young rows.
- Statement-level BEFORE TRUNCATE on both tables: raise, unless the session has
  `openiop.audit_allow_truncate = 'on'`. Nothing in the application sets it; it exists for
  test databases, which Django empties with TRUNCATE between transactional tests. It is set
  as a database default only on databases whose name starts with Django's test prefix
  "test_" (never name a production database that way).

SQLite gets its own triggers in 0004_sqlite_append_only_triggers.
A superuser can still disable triggers (`session_replication_role = replica`); that is what
the hash chain and `openiop audit verify` are for.
"""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditcheckpoint")

FUNCTION = r"""
CREATE OR REPLACE FUNCTION openiop_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND TG_TABLE_NAME = 'audit_auditevent'
       AND current_setting('openiop.audit_purge', true) = 'on' THEN
        -- Nested so OLD.occurred_at is only read on the table that has it.
        IF OLD.occurred_at < now() - interval '6 years' THEN
            RETURN OLD;
        END IF;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('openiop.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'Audit rows are never edited; retention purges go through audit_purge().';
END;
$$;
"""


def _is_postgres(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def _test_database_name(schema_editor):
    name = schema_editor.connection.settings_dict.get("NAME") or ""
    return name if name.startswith("test_") else None


def create_triggers(apps, schema_editor):
    if not _is_postgres(schema_editor):
        return
    schema_editor.execute(FUNCTION, params=None)  # the body has literal % signs
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION openiop_audit_append_only()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_append_only()"
        )
    test_db = _test_database_name(schema_editor)
    if test_db:
        quoted = schema_editor.connection.ops.quote_name(test_db)
        schema_editor.execute(f"ALTER DATABASE {quoted} SET openiop.audit_allow_truncate = 'on'")
        schema_editor.execute("SET openiop.audit_allow_truncate = 'on'")


def drop_triggers(apps, schema_editor):
    if not _is_postgres(schema_editor):
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS openiop_audit_append_only()")
    test_db = _test_database_name(schema_editor)
    if test_db:
        quoted = schema_editor.connection.ops.quote_name(test_db)
        schema_editor.execute(f"ALTER DATABASE {quoted} RESET openiop.audit_allow_truncate")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_checkpoint_and_purge_action")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
