"""Database-level guarantees: append-only hash-chained audit, immutability of locked records,
field-level audit of every write path (ORM, bulk, raw SQL), and the application role's grants.

There is deliberately no switch to turn any of this off for a session."""

from django.conf import settings
from django.db import migrations

AUDIT_SQL = r"""
ALTER TABLE registry_auditevent ALTER COLUMN seq DROP IDENTITY IF EXISTS;
CREATE SEQUENCE IF NOT EXISTS registry_audit_seq;

CREATE OR REPLACE FUNCTION registry_audit_event_hash(e registry_auditevent) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws('|',
    e.prev_hash, e.seq::text,
    to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    e.action, coalesce(e.actor_id::text, ''), e.actor_name, coalesce(e.center_id::text, ''),
    e.record_id, e.instrument, coalesce(e.instance::text, ''), e.field,
    coalesce(e.old_value::text, 'null'), coalesce(e.new_value::text, 'null'),
    e.reason, e.details::text, coalesce(e.txid::text, '')), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION registry_audit_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last_hash text;
BEGIN
  -- One writer at a time extends the chain; held until commit so chain order = commit order.
  PERFORM pg_advisory_xact_lock(727201);
  NEW.seq := nextval('registry_audit_seq');
  NEW.occurred_at := clock_timestamp();
  NEW.txid := txid_current();
  IF NEW.actor_id IS NULL THEN
    NEW.actor_id := nullif(current_setting('registry.actor_id', true), '')::bigint;
  END IF;
  IF coalesce(NEW.actor_name, '') = '' THEN
    NEW.actor_name := coalesce(nullif(current_setting('registry.actor_name', true), ''),
                               'database role ' || session_user);
  END IF;
  IF coalesce(NEW.reason, '') = '' THEN
    NEW.reason := coalesce(current_setting('registry.reason', true), '');
  END IF;
  NEW.record_id := coalesce(NEW.record_id, '');
  NEW.instrument := coalesce(NEW.instrument, '');
  NEW.field := coalesce(NEW.field, '');
  NEW.details := coalesce(NEW.details, '{}'::jsonb);
  SELECT a.hash INTO last_hash FROM registry_auditevent a ORDER BY a.seq DESC LIMIT 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := registry_audit_event_hash(NEW);
  RETURN NEW;
END $$;

CREATE TRIGGER registry_audit_chain BEFORE INSERT ON registry_auditevent
  FOR EACH ROW EXECUTE FUNCTION registry_audit_before_insert();

CREATE OR REPLACE FUNCTION registry_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'registry: % on % is not allowed (%)', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER registry_audit_append_only BEFORE UPDATE OR DELETE ON registry_auditevent
  FOR EACH ROW EXECUTE FUNCTION registry_reject_change('the audit trail is append-only');
CREATE TRIGGER registry_audit_no_truncate BEFORE TRUNCATE ON registry_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION registry_reject_change('the audit trail is append-only');
"""

RECORD_SQL = r"""
CREATE OR REPLACE FUNCTION registry_audit_insert(
  p_action text, p_center bigint, p_record text, p_instrument text, p_instance integer,
  p_field text, p_old jsonb, p_new jsonb, p_details jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO registry_auditevent
    (action, actor_id, actor_name, center_id, record_id, instrument, instance, field,
     old_value, new_value, reason, details, prev_hash, hash)
  VALUES (p_action, NULL, '', p_center, p_record, coalesce(p_instrument, ''), p_instance,
          coalesce(p_field, ''), p_old, p_new, '', coalesce(p_details, '{}'::jsonb), '', '')
$$;

-- Records: never hard-deleted; a locked record changes only by a proper unlock; a lock needs a
-- valid signature; an unlock needs a reason in the transaction's context and a voided signature.
CREATE OR REPLACE FUNCTION registry_record_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'registry: record % cannot be deleted (records are soft-deleted)',
      OLD.record_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.is_locked AND NEW.is_locked THEN
    IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
      RAISE EXCEPTION 'registry: record % is locked', OLD.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
  END IF;
  IF NOT OLD.is_locked AND NEW.is_locked THEN
    IF NOT EXISTS (SELECT 1 FROM registry_signature s
                   WHERE s.record_id = NEW.id AND s.voided_at IS NULL) THEN
      RAISE EXCEPTION 'registry: record % cannot be locked without a valid signature',
        NEW.record_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.deleted_at IS NOT NULL THEN
      RAISE EXCEPTION 'registry: deleted record % cannot be locked', NEW.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  IF OLD.is_locked AND NOT NEW.is_locked THEN
    IF coalesce(current_setting('registry.reason', true), '') = '' THEN
      RAISE EXCEPTION 'registry: unlocking record % needs a reason', OLD.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM registry_signature s
               WHERE s.record_id = OLD.id AND s.voided_at IS NULL) THEN
      RAISE EXCEPTION 'registry: unlocking record % must void its signature', OLD.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.record_id, NEW.center_id, NEW.sequence, NEW.deleted_at)
       IS DISTINCT FROM (OLD.record_id, OLD.center_id, OLD.sequence, OLD.deleted_at) THEN
      RAISE EXCEPTION 'registry: unlocking record % cannot change it', OLD.record_id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_record_guard BEFORE UPDATE OR DELETE ON registry_record
  FOR EACH ROW EXECUTE FUNCTION registry_record_guard();
CREATE TRIGGER registry_record_no_truncate BEFORE TRUNCATE ON registry_record
  FOR EACH STATEMENT EXECUTE FUNCTION registry_reject_change('records are never deleted');

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
  END IF;
  IF NEW.center_id IS DISTINCT FROM OLD.center_id OR NEW.record_id IS DISTINCT FROM OLD.record_id
  THEN
    PERFORM registry_audit_insert('record_identity_change', NEW.center_id, NEW.record_id, '',
      NULL, '', to_jsonb(OLD.record_id), to_jsonb(NEW.record_id),
      jsonb_build_object('old_center_id', OLD.center_id, 'new_center_id', NEW.center_id));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER registry_record_audit AFTER INSERT OR UPDATE ON registry_record
  FOR EACH ROW EXECUTE FUNCTION registry_record_audit();

-- Signatures: content is immutable; the only change is voiding, once, on an unlock.
CREATE OR REPLACE FUNCTION registry_signature_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'registry: signatures are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.record_id, NEW.signer_id, NEW.signer_name, NEW.meaning, NEW.signed_at, NEW.content_sha256)
     IS DISTINCT FROM
     (OLD.record_id, OLD.signer_id, OLD.signer_name, OLD.meaning, OLD.signed_at, OLD.content_sha256)
     OR OLD.voided_at IS NOT NULL THEN
    RAISE EXCEPTION 'registry: a signature cannot be changed, only voided once'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(NEW.void_reason, '') = '' THEN
    RAISE EXCEPTION 'registry: voiding a signature needs a reason'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_signature_guard BEFORE UPDATE OR DELETE ON registry_signature
  FOR EACH ROW EXECUTE FUNCTION registry_signature_guard();
CREATE TRIGGER registry_signature_no_truncate BEFORE TRUNCATE ON registry_signature
  FOR EACH STATEMENT EXECUTE FUNCTION registry_reject_change('signatures are never deleted');

CREATE OR REPLACE FUNCTION registry_signature_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r registry_record;
BEGIN
  SELECT * INTO r FROM registry_record WHERE id = NEW.record_id;
  IF TG_OP = 'INSERT' THEN
    PERFORM registry_audit_insert('signature', r.center_id, r.record_id, '', NULL, '', NULL,
      jsonb_build_object('signer', NEW.signer_name, 'meaning', NEW.meaning,
                         'content_sha256', NEW.content_sha256),
      jsonb_build_object('signature_id', NEW.id, 'signed_at', NEW.signed_at));
  ELSIF NEW.voided_at IS NOT NULL AND OLD.voided_at IS NULL THEN
    PERFORM registry_audit_insert('signature_void', r.center_id, r.record_id, '', NULL, '',
      NULL, NULL, jsonb_build_object('signature_id', NEW.id, 'void_reason', NEW.void_reason));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER registry_signature_audit AFTER INSERT OR UPDATE ON registry_signature
  FOR EACH ROW EXECUTE FUNCTION registry_signature_audit();
"""

INSTRUMENT_SQL = r"""
-- Instrument data of a locked record cannot be inserted, changed or deleted, by any path.
-- FOR SHARE on the record row makes an edit racing a lock wait, then see the lock.
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
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER registry_instrument_guard BEFORE INSERT OR UPDATE OR DELETE
  ON registry_instrumentdata FOR EACH ROW EXECUTE FUNCTION registry_instrument_guard();
CREATE TRIGGER registry_instrument_no_truncate BEFORE TRUNCATE ON registry_instrumentdata
  FOR EACH STATEMENT EXECUTE FUNCTION registry_reject_change('instrument data are never deleted');

-- Field-level audit of every insert and update, whatever path wrote it.
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
  RETURN NULL;
END $$;

CREATE TRIGGER registry_instrument_audit AFTER INSERT OR UPDATE ON registry_instrumentdata
  FOR EACH ROW EXECUTE FUNCTION registry_instrument_audit();

-- Role and membership changes are audited too.
CREATE OR REPLACE FUNCTION registry_membership_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  m centers_membership := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
  PERFORM registry_audit_insert('role_change', m.center_id, '', '', NULL, '',
    CASE WHEN TG_OP <> 'INSERT' THEN jsonb_build_object('user_id', OLD.user_id,
      'center_id', OLD.center_id, 'role', OLD.role) END,
    CASE WHEN TG_OP <> 'DELETE' THEN jsonb_build_object('user_id', NEW.user_id,
      'center_id', NEW.center_id, 'role', NEW.role) END,
    jsonb_build_object('operation', lower(TG_OP)));
  RETURN NULL;
END $$;

CREATE TRIGGER registry_membership_audit AFTER INSERT OR UPDATE OR DELETE ON centers_membership
  FOR EACH ROW EXECUTE FUNCTION registry_membership_audit();
"""


CREATE_ROLE_SQL = (
    'DO $$ BEGIN CREATE ROLE "{role}" NOLOGIN; '
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
)


def grant_app_role(apps, schema_editor):
    """Create the application role if we may, and give it data rights but not ownership."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            if not cursor.fetchone()[0]:
                return  # the DBA creates it (README, "Two database roles")
            # Roles are cluster-wide: parallel test processes (pytest-xdist) migrate their own
            # databases at once on a fresh cluster, and the slower CREATE ROLE then fails on
            # the catalog's unique index; the role the other one made is the same role.
            cursor.execute(CREATE_ROLE_SQL.format(role=role))
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";'
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}";'
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}";'
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}";'
            f'REVOKE UPDATE, DELETE, TRUNCATE ON registry_auditevent FROM "{role}";'
            f'REVOKE DELETE, TRUNCATE ON registry_record, registry_instrumentdata,'
            f' registry_signature FROM "{role}";'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("centers", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(AUDIT_SQL),
        migrations.RunSQL(RECORD_SQL),
        migrations.RunSQL(INSTRUMENT_SQL),
        migrations.RunPython(grant_app_role, migrations.RunPython.noop),
    ]
