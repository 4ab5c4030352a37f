"""Dictionary versions are immutable in the database, like the audit trail: a version's content
hash is computed by the database on insert, the insert is audited with that hash (so the hash is
in the chain), UPDATE, DELETE and TRUNCATE are refused by trigger, and the application role keeps
only SELECT and INSERT on the table. Versions that exist already get their hash and an audit
event here."""

from django.conf import settings
from django.db import migrations, models

HASH_SQL = r"""
-- Everything a version says, serialised by jsonb (unambiguous, key order fixed) and hashed.
CREATE OR REPLACE FUNCTION registry_dictionary_content_hash(d registry_dictionaryversion)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_object(
    'number', d.number, 'sha256', d.sha256, 'source_csv', d.source_csv, 'fields', d.fields,
    'project', d.project, 'analysis', d.analysis, 'note', d.note,
    'confirmed_changes', d.confirmed_changes, 'created_by_id', d.created_by_id,
    'created_at', to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  )::text, 'UTF8')), 'hex')
$$;

UPDATE registry_dictionaryversion d SET content_sha256 = registry_dictionary_content_hash(d);

SELECT registry_audit_insert('dictionary_version', NULL, '', '', NULL, '', NULL,
  jsonb_build_object('version', d.number, 'sha256', d.sha256,
                     'content_sha256', d.content_sha256),
  '{"recorded_by_migration": true}'::jsonb)
FROM registry_dictionaryversion d ORDER BY d.number;
"""

TRIGGER_SQL = r"""
CREATE OR REPLACE FUNCTION registry_dictionary_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.sha256 IS DISTINCT FROM encode(sha256(convert_to(NEW.source_csv, 'UTF8')), 'hex') THEN
    RAISE EXCEPTION 'registry: dictionary version % has a sha256 that is not its source''s',
      NEW.number USING ERRCODE = 'check_violation';
  END IF;
  NEW.content_sha256 := registry_dictionary_content_hash(NEW);
  RETURN NEW;
END $$;

CREATE TRIGGER registry_dictionary_hash BEFORE INSERT ON registry_dictionaryversion
  FOR EACH ROW EXECUTE FUNCTION registry_dictionary_before_insert();

CREATE OR REPLACE FUNCTION registry_dictionary_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM registry_audit_insert('dictionary_version', NULL, '', '', NULL, '', NULL,
    jsonb_build_object('version', NEW.number, 'sha256', NEW.sha256,
                       'content_sha256', NEW.content_sha256), '{}'::jsonb);
  RETURN NULL;
END $$;

CREATE TRIGGER registry_dictionary_audit AFTER INSERT ON registry_dictionaryversion
  FOR EACH ROW EXECUTE FUNCTION registry_dictionary_audit();

-- Only that trigger writes a version's creation event: one inserted directly (by the app role, or
-- through registry_audit_insert) would let a forged content hash stand next to the real one.
CREATE OR REPLACE FUNCTION registry_dictionary_event_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'registry: dictionary_version events are written by the database only'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_audit_dictionary_guard BEFORE INSERT ON registry_auditevent
  FOR EACH ROW WHEN (NEW.action = 'dictionary_version')
  EXECUTE FUNCTION registry_dictionary_event_guard();

CREATE TRIGGER registry_dictionary_immutable BEFORE UPDATE OR DELETE
  ON registry_dictionaryversion FOR EACH ROW
  EXECUTE FUNCTION registry_reject_change('dictionary versions are immutable');
CREATE TRIGGER registry_dictionary_no_truncate BEFORE TRUNCATE ON registry_dictionaryversion
  FOR EACH STATEMENT EXECUTE FUNCTION registry_reject_change('dictionary versions are immutable');
"""

REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS registry_dictionary_no_truncate ON registry_dictionaryversion;
DROP TRIGGER IF EXISTS registry_dictionary_immutable ON registry_dictionaryversion;
DROP TRIGGER IF EXISTS registry_dictionary_audit ON registry_dictionaryversion;
DROP TRIGGER IF EXISTS registry_dictionary_hash ON registry_dictionaryversion;
DROP TRIGGER IF EXISTS registry_audit_dictionary_guard ON registry_auditevent;
DROP FUNCTION IF EXISTS registry_dictionary_event_guard();
DROP FUNCTION IF EXISTS registry_dictionary_audit();
DROP FUNCTION IF EXISTS registry_dictionary_before_insert();
DROP FUNCTION IF EXISTS registry_dictionary_content_hash(registry_dictionaryversion);
"""


def _app_role_exists(cursor) -> str:
    role = settings.DATABASE_APP_ROLE
    if not role:
        return ""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return role if cursor.fetchone() else ""


def revoke_changes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if role := _app_role_exists(cursor):
            cursor.execute(
                f'REVOKE UPDATE, DELETE, TRUNCATE ON registry_dictionaryversion FROM "{role}"'
            )


def grant_changes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if role := _app_role_exists(cursor):
            cursor.execute(f'GRANT UPDATE, DELETE ON registry_dictionaryversion TO "{role}"')


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_outbox_computed")]

    operations = [
        migrations.AddField(
            model_name="dictionaryversion",
            name="content_sha256",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                help_text="SHA-256 of everything the version says; set by the database.",
            ),
        ),
        migrations.RunSQL(HASH_SQL, REVERSE_SQL),
        migrations.RunSQL(TRIGGER_SQL, migrations.RunSQL.noop),
        migrations.RunPython(revoke_changes, grant_changes),
    ]
