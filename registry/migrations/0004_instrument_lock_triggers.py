"""Instrument-level locks (REDCap's per-form lock) enforced by the database like record locks."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION registry_instrument_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  locked boolean;
  rid text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'registry: instrument data cannot be deleted (soft-delete instead)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT r.is_locked, r.record_id INTO locked, rid FROM registry_record r
    WHERE r.id = NEW.record_id FOR SHARE;
  IF locked THEN
    RAISE EXCEPTION 'registry: record % is locked', rid USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF OLD.record_id <> NEW.record_id THEN
      SELECT r.is_locked INTO locked FROM registry_record r WHERE r.id = OLD.record_id FOR SHARE;
      IF locked THEN
        RAISE EXCEPTION 'registry: record % is locked', rid
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    END IF;
    IF OLD.is_locked AND NEW.is_locked AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
      RAISE EXCEPTION 'registry: instrument % #% of record % is locked', OLD.instrument,
        OLD.instance, rid USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.is_locked AND NOT NEW.is_locked THEN
      IF coalesce(current_setting('registry.reason', true), '') = '' THEN
        RAISE EXCEPTION 'registry: unlocking instrument % of record % needs a reason',
          OLD.instrument, rid USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF (NEW.data, NEW.status, NEW.record_id, NEW.instrument, NEW.instance)
         IS DISTINCT FROM (OLD.data, OLD.status, OLD.record_id, OLD.instrument, OLD.instance) THEN
        RAISE EXCEPTION 'registry: unlocking instrument % of record % cannot change it',
          OLD.instrument, rid USING ERRCODE = 'insufficient_privilege';
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END $$;

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
  IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
    PERFORM registry_audit_insert('instance_delete', r.center_id, r.record_id, NEW.instrument,
      NEW.instance, '', NULL, NULL, '{}'::jsonb);
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


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_instrument_lock")]

    operations = [migrations.RunSQL(SQL)]
