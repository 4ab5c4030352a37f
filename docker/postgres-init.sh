#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: the application's login role, which
# does not own the tables (so it cannot disable triggers or truncate the audit trail).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE registry_app LOGIN PASSWORD '${APP_DB_PASSWORD}';
GRANT CONNECT ON DATABASE "${POSTGRES_DB}" TO registry_app;
GRANT USAGE ON SCHEMA public TO registry_app;
SQL
