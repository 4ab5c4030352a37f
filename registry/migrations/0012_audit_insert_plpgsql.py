"""The audit triggers' insert helper in PL/pgSQL instead of SQL: PostgreSQL (before 18) parses and
plans a SQL function's INSERT at every call, while PL/pgSQL keeps the plan for the session. Every
audited field of every save goes through it (BENCHMARKS.md, run L: about 0.1 ms of PostgreSQL CPU
a form save). Same arguments, same row, same triggers fired."""

from django.db import migrations

PLPGSQL = r"""
CREATE OR REPLACE FUNCTION registry_audit_insert(
  p_action text, p_center bigint, p_record text, p_instrument text, p_instance integer,
  p_field text, p_old jsonb, p_new jsonb, p_details jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO registry_auditevent
    (action, actor_id, actor_name, center_id, record_id, instrument, instance, field,
     old_value, new_value, reason, details, prev_hash, hash)
  VALUES (p_action, NULL, '', p_center, p_record, coalesce(p_instrument, ''), p_instance,
          coalesce(p_field, ''), p_old, p_new, '', coalesce(p_details, '{}'::jsonb), '', '');
END $$;
"""

SQL = r"""
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
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_dictionary_translations")]

    operations = [migrations.RunSQL(PLPGSQL, SQL)]
