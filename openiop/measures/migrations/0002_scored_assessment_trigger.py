"""On PostgreSQL a scored assessment cannot be changed or deleted even with raw SQL; the
only change allowed is marking it entered in error (once)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION openiop_assessment_immutable() RETURNS trigger AS $$
DECLARE
    error_columns text[] := ARRAY['entered_in_error', 'entered_in_error_reason',
        'entered_in_error_at', 'entered_in_error_by_id', 'updated_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'assessments are never deleted (mark them entered in error)';
    END IF;
    IF OLD.status = 'scored' THEN
        IF (to_jsonb(NEW) - error_columns) IS DISTINCT FROM (to_jsonb(OLD) - error_columns)
           OR (OLD.entered_in_error AND NEW IS DISTINCT FROM OLD) THEN
            RAISE EXCEPTION 'scored assessment % is immutable; mark it entered in error', OLD.id;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER measures_assessment_immutable
    BEFORE UPDATE OR DELETE ON measures_assessment
    FOR EACH ROW EXECUTE FUNCTION openiop_assessment_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS measures_assessment_immutable ON measures_assessment;
DROP FUNCTION IF EXISTS openiop_assessment_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_assessments_and_schedules")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
