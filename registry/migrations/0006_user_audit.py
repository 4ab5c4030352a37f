"""People's accounts are audited like their roles: creating a user and changing whether they
may log in (active, staff, superuser) or their password, on any path, writes an audit event.
The password hash itself never enters the trail."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION registry_user_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM registry_audit_insert('user_create', NULL, '', '', NULL, '', NULL,
      jsonb_build_object('user_id', NEW.id, 'username', NEW.username,
        'is_active', NEW.is_active, 'is_staff', NEW.is_staff,
        'is_superuser', NEW.is_superuser), '{}'::jsonb);
  ELSIF (NEW.is_active, NEW.is_staff, NEW.is_superuser, NEW.username)
        IS DISTINCT FROM (OLD.is_active, OLD.is_staff, OLD.is_superuser, OLD.username)
        OR NEW.password IS DISTINCT FROM OLD.password THEN
    PERFORM registry_audit_insert('user_change', NULL, '', '', NULL, '',
      jsonb_build_object('user_id', OLD.id, 'username', OLD.username,
        'is_active', OLD.is_active, 'is_staff', OLD.is_staff, 'is_superuser', OLD.is_superuser),
      jsonb_build_object('user_id', NEW.id, 'username', NEW.username,
        'is_active', NEW.is_active, 'is_staff', NEW.is_staff, 'is_superuser', NEW.is_superuser),
      jsonb_build_object('password_changed', NEW.password IS DISTINCT FROM OLD.password));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER registry_user_audit AFTER INSERT OR UPDATE ON centers_user
  FOR EACH ROW EXECUTE FUNCTION registry_user_audit();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS registry_user_audit ON centers_user;
DROP FUNCTION IF EXISTS registry_user_audit();
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_unlock_needs_data_manager")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
