"""A dry run writes its audit events outside the hash chain, and can never commit them.

The web Data Import Tool previews a file by running the whole import in a transaction that is
rolled back. Its audit events took the chain's lock (one writer at a time extends the chain,
until commit), so every other centre's save waited for the whole preview: 10 s for a file of
10,000 records (BENCHMARKS.md, run L). With ``registry.dry_run`` set in the transaction, an event
is written with no link and no hash and takes no lock; a deferred constraint trigger refuses to
commit any event without a hash, so such a transaction can only roll back. The chain itself,
and every committed event, are unchanged."""

from django.db import migrations

BEFORE_INSERT = r"""
CREATE OR REPLACE FUNCTION registry_audit_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last_hash text;
  dry_run boolean := coalesce(current_setting('registry.dry_run', true), '') = 'on';
BEGIN
  -- One writer at a time extends the chain; held until commit so chain order = commit order.
  -- A dry run (never committed: registry_audit_dry_run_never_commits) stays out of the chain.
  IF NOT dry_run THEN
    PERFORM pg_advisory_xact_lock(727201);
  END IF;
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
  IF dry_run THEN
    NEW.prev_hash := '';
    NEW.hash := '';
    RETURN NEW;
  END IF;
  SELECT a.hash INTO last_hash FROM registry_auditevent a ORDER BY a.seq DESC LIMIT 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := registry_audit_event_hash(NEW);
  RETURN NEW;
END $$;
"""

NEVER_COMMITS = r"""
CREATE OR REPLACE FUNCTION registry_audit_reject_unchained() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'registry: audit event % is outside the hash chain (a dry run), so this '
    'transaction cannot commit', NEW.seq USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE CONSTRAINT TRIGGER registry_audit_dry_run_never_commits
  AFTER INSERT ON registry_auditevent DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.hash = '') EXECUTE FUNCTION registry_audit_reject_unchained();
"""

REVERSE_NEVER_COMMITS = r"""
DROP TRIGGER IF EXISTS registry_audit_dry_run_never_commits ON registry_auditevent;
DROP FUNCTION IF EXISTS registry_audit_reject_unchained();
"""

REVERSE_BEFORE_INSERT = r"""
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
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0012_audit_insert_plpgsql")]

    operations = [
        migrations.RunSQL(BEFORE_INSERT, REVERSE_BEFORE_INSERT),
        migrations.RunSQL(NEVER_COMMITS, REVERSE_NEVER_COMMITS),
    ]
