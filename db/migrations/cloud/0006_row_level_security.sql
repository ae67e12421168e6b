-- Up Migration
-- Row-level security for the dashboard APIs (issue 5; DESIGN §4, tenant isolation).
--
-- Request handlers reach tenant data only through farmiq_app (CLOUD_APP_DATABASE_URL), a role
-- that is neither superuser nor BYPASSRLS, inside a transaction that first runs
--   SELECT set_config('farmiq.tenant_id', '<tenant uuid>', true)      (auth/tenant-db.ts)
-- Every policy below compares a row's tenant with that setting; without it nothing is visible and
-- nothing can be written. The tables' owner (farmiq: migrations, ingestion consumers, admin CLI)
-- is not subject to RLS because FORCE ROW LEVEL SECURITY is not set.
--
-- Roles are cluster-wide: the role is created once (by whichever database migrates first) and
-- every database grants it its own privileges. Creating it needs CREATEROLE or superuser; where
-- the migrating role has neither (the local stack's farmiq), scripts/services.sh creates it as
-- the postgres superuser before migrating. The dev password is farmiq_app; in production run
--   ALTER ROLE farmiq_app PASSWORD '<secret>'
-- once per cluster and put the same secret in CLOUD_APP_DATABASE_URL (docs/security.md).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'farmiq_app') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
      RAISE EXCEPTION 'role farmiq_app does not exist and % may not create roles', current_user
        USING HINT = 'as a superuser run: CREATE ROLE farmiq_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ''farmiq_app'' (see docs/security.md)';
    END IF;
    BEGIN
      CREATE ROLE farmiq_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD 'farmiq_app';
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database's migration created it a moment ago
    END;
  END IF;
  -- A role that can bypass RLS would make every policy below decorative.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'farmiq_app' AND (rolsuper OR rolbypassrls)) THEN
    RAISE EXCEPTION 'role farmiq_app is superuser or BYPASSRLS; row-level security would not apply to it'
      USING HINT = 'ALTER ROLE farmiq_app NOSUPERUSER NOBYPASSRLS';
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO farmiq_app', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO farmiq_app;

-- Data written by the ingestion consumers: the dashboard only reads it.
GRANT SELECT ON telemetry_raw, telemetry_rollups, feed_intake, weighvision_sessions, weighvision_weights,
                media_objects, inference_results
  TO farmiq_app;
-- The directory (admins manage farms, barns, devices and users), insights and notifications.
GRANT SELECT, INSERT, UPDATE, DELETE ON farms, barns, devices, users TO farmiq_app;
GRANT SELECT, INSERT, UPDATE ON insights, notifications TO farmiq_app;
GRANT SELECT ON tenants TO farmiq_app;

-- One policy per table, for every role that is subject to RLS (PUBLIC: farmiq_app and any
-- read-only role added later), on reads (USING) and writes (WITH CHECK) alike.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'telemetry_raw', 'telemetry_rollups', 'feed_intake', 'weighvision_sessions', 'weighvision_weights',
    'media_objects', 'inference_results', 'insights', 'notifications', 'farms', 'barns', 'devices', 'users'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO PUBLIC
         USING (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)
         WITH CHECK (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
END
$$;

-- A tenant sees its own tenants row (its name) and no other.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO PUBLIC
  USING (id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);

-- Down Migration
-- The role stays: it is cluster-wide and other databases may still use it.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'telemetry_raw', 'telemetry_rollups', 'feed_intake', 'weighvision_sessions', 'weighvision_weights',
    'media_objects', 'inference_results', 'insights', 'notifications', 'farms', 'barns', 'devices', 'users', 'tenants'
  ] LOOP
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
    EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
REVOKE ALL ON telemetry_raw, telemetry_rollups, feed_intake, weighvision_sessions, weighvision_weights,
              media_objects, inference_results, farms, barns, devices, users, insights, notifications, tenants
  FROM farmiq_app;
REVOKE USAGE ON SCHEMA public FROM farmiq_app;
