"""Unlocking a record or a form, on any path, needs the transaction's actor to be an active
data manager (the service layer sets it; raw SQL must name one, and the unlock is then audited
under that name). The unlock guards of 0002/0004 still require a reason and a voided
signature; trigger names sort after theirs, so their messages come first."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION registry_unlock_needs_data_manager() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  actor text := coalesce(current_setting('registry.actor_id', true), '');
BEGIN
  IF OLD.is_locked AND NOT NEW.is_locked THEN
    IF actor !~ '^[0-9]+$' OR NOT EXISTS (
        SELECT 1 FROM centers_membership m JOIN centers_user u ON u.id = m.user_id
        WHERE m.user_id = actor::bigint AND m.role = 'data_manager' AND u.is_active) THEN
      RAISE EXCEPTION 'registry: only a data manager can unlock (% %)', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_record_unlock_by_data_manager BEFORE UPDATE ON registry_record
  FOR EACH ROW EXECUTE FUNCTION registry_unlock_needs_data_manager();
CREATE TRIGGER registry_instrument_unlock_by_data_manager BEFORE UPDATE ON registry_instrumentdata
  FOR EACH ROW EXECUTE FUNCTION registry_unlock_needs_data_manager();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS registry_record_unlock_by_data_manager ON registry_record;
DROP TRIGGER IF EXISTS registry_instrument_unlock_by_data_manager ON registry_instrumentdata;
DROP FUNCTION IF EXISTS registry_unlock_needs_data_manager();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_instrument_lock_triggers"),
        ("centers", "0002_user_date_format"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
