"""Deleting and restoring form instances and records, renaming records (issue 11).

- A deleted form instance's content (data, status) is written into its ``instance_delete`` audit
  event, so a data manager can restore it from the trail; putting it back is audited as
  ``instance_restore`` (or ``instance_reentry`` when the form is entered again from blank).
- A restored record is audited as ``record_restore``.
- Deleting, restoring or renaming needs a reason in the transaction's context, on any path.
  Locked records and locked forms already refuse every change (0002, 0004)."""

from django.db import migrations

INSTRUMENT_AUDIT = r"""
CREATE OR REPLACE FUNCTION registry_instrument_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r registry_record;
  k text;
  old_data jsonb := CASE WHEN TG_OP = 'UPDATE' THEN OLD.data ELSE '{}'::jsonb END;
  action text := CASE WHEN TG_OP = 'INSERT' THEN 'create' ELSE 'update' END;
BEGIN
  SELECT * INTO r FROM registry_record WHERE id = NEW.record_id;
  FOR k IN
    SELECT key FROM jsonb_object_keys(old_data) AS key
    UNION SELECT key FROM jsonb_object_keys(NEW.data) AS key
    ORDER BY 1
  LOOP
    IF (old_data -> k) IS DISTINCT FROM (NEW.data -> k) THEN
      PERFORM registry_audit_insert(action, r.center_id, r.record_id, NEW.instrument,
        NEW.instance, k, old_data -> k, NEW.data -> k,
        jsonb_build_object('row_version', NEW.version));
    END IF;
  END LOOP;
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM registry_audit_insert('form_status', r.center_id, r.record_id, NEW.instrument,
      NEW.instance, '', CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD.status) END,
      to_jsonb(NEW.status), jsonb_build_object('row_version', NEW.version));
  END IF;
  -- A deleted instance's content goes into the trail, so a data manager can restore it.
  IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
    PERFORM registry_audit_insert('instance_delete', r.center_id, r.record_id, NEW.instrument,
      NEW.instance, '', jsonb_build_object('data', OLD.data, 'status', OLD.status,
        'ever_completed', OLD.ever_completed), NULL,
      jsonb_build_object('row_version', NEW.version));
  ELSIF TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL AND OLD.deleted_at IS NOT NULL THEN
    PERFORM registry_audit_insert(
      CASE WHEN NEW.data IS NOT DISTINCT FROM OLD.data THEN 'instance_restore'
           ELSE 'instance_reentry' END,
      r.center_id, r.record_id, NEW.instrument, NEW.instance, '', NULL,
      jsonb_build_object('data', NEW.data, 'status', NEW.status),
      jsonb_build_object('row_version', NEW.version));
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.is_locked IS DISTINCT FROM OLD.is_locked THEN
    PERFORM registry_audit_insert(
      CASE WHEN NEW.is_locked THEN 'instrument_lock' ELSE 'instrument_unlock' END,
      r.center_id, r.record_id, NEW.instrument, NEW.instance, '', to_jsonb(OLD.is_locked),
      to_jsonb(NEW.is_locked), '{}'::jsonb);
  END IF;
  RETURN NULL;
END $$;
"""

RECORD_AUDIT = r"""
CREATE OR REPLACE FUNCTION registry_record_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM registry_audit_insert('record_create', NEW.center_id, NEW.record_id, '', NULL, '',
      NULL, NULL, jsonb_build_object('synthetic', NEW.synthetic));
    RETURN NULL;
  END IF;
  IF NEW.is_locked AND NOT OLD.is_locked THEN
    PERFORM registry_audit_insert('lock', NEW.center_id, NEW.record_id, '', NULL, '',
      'false'::jsonb, 'true'::jsonb, '{}'::jsonb);
  ELSIF OLD.is_locked AND NOT NEW.is_locked THEN
    PERFORM registry_audit_insert('unlock', NEW.center_id, NEW.record_id, '', NULL, '',
      'true'::jsonb, 'false'::jsonb, '{}'::jsonb);
  END IF;
  IF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
    PERFORM registry_audit_insert('record_delete', NEW.center_id, NEW.record_id, '', NULL, '',
      NULL, NULL, '{}'::jsonb);
  ELSIF NEW.deleted_at IS NULL AND OLD.deleted_at IS NOT NULL THEN
    PERFORM registry_audit_insert('record_restore', NEW.center_id, NEW.record_id, '', NULL, '',
      NULL, NULL, '{}'::jsonb);
  END IF;
  IF NEW.center_id IS DISTINCT FROM OLD.center_id OR NEW.record_id IS DISTINCT FROM OLD.record_id
  THEN
    PERFORM registry_audit_insert('record_identity_change', NEW.center_id, NEW.record_id, '',
      NULL, '', to_jsonb(OLD.record_id), to_jsonb(NEW.record_id),
      jsonb_build_object('old_center_id', OLD.center_id, 'new_center_id', NEW.center_id));
  END IF;
  RETURN NULL;
END $$;
"""

REASON_GUARD = r"""
CREATE OR REPLACE FUNCTION registry_delete_needs_reason() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.deleted_at IS NULL) IS DISTINCT FROM (OLD.deleted_at IS NULL)
     AND coalesce(current_setting('registry.reason', true), '') = '' THEN
    RAISE EXCEPTION 'registry: deleting or restoring % % needs a reason', TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_TABLE_NAME = 'registry_record' THEN
    IF NEW.record_id IS DISTINCT FROM OLD.record_id
       AND coalesce(current_setting('registry.reason', true), '') = '' THEN
      RAISE EXCEPTION 'registry: renaming record % needs a reason', OLD.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_record_delete_reason BEFORE UPDATE ON registry_record
  FOR EACH ROW EXECUTE FUNCTION registry_delete_needs_reason();
CREATE TRIGGER registry_instrument_delete_reason BEFORE UPDATE ON registry_instrumentdata
  FOR EACH ROW EXECUTE FUNCTION registry_delete_needs_reason();
"""

REVERSE_REASON_GUARD = r"""
DROP TRIGGER IF EXISTS registry_record_delete_reason ON registry_record;
DROP TRIGGER IF EXISTS registry_instrument_delete_reason ON registry_instrumentdata;
DROP FUNCTION IF EXISTS registry_delete_needs_reason();
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_saved_report")]

    operations = [
        migrations.RunSQL(INSTRUMENT_AUDIT),
        migrations.RunSQL(RECORD_AUDIT),
        migrations.RunSQL(REASON_GUARD, REVERSE_REASON_GUARD),
    ]
