"""IN-01 on PostgreSQL: a signed note cannot be updated or deleted even with raw SQL."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION openiop_note_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'notes are never deleted (mark them entered in error)';
    END IF;
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION 'signed note % is immutable; add an addendum', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER groupwork_note_immutable
    BEFORE UPDATE OR DELETE ON groupwork_note
    FOR EACH ROW EXECUTE FUNCTION openiop_note_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS groupwork_note_immutable ON groupwork_note;
DROP FUNCTION IF EXISTS openiop_note_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("groupwork", "0002_note_objectives")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
