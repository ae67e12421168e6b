#!/bin/sh
# docker-compose.yml: run once by the postgres image on an empty data volume, after
# infra/postgres/init-databases.sql. Creates the dashboard's role farmiq_app (row-level security
# applies to it; docs/security.md §5) with the password from .env, before cloud migration 0006
# would create it with the development password. On a volume made before this script existed:
#   docker compose exec postgres psql -U farmiq -d farmiq -c "ALTER ROLE farmiq_app PASSWORD '<FARMIQ_APP_DB_PASSWORD>'"
set -eu
: "${FARMIQ_APP_DB_PASSWORD:?set FARMIQ_APP_DB_PASSWORD in .env (deploy/compose.env.example)}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set app_password="$FARMIQ_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE farmiq_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
SQL
