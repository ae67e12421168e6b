-- Up Migration
-- The dashboard's directory API (issue 12, docs/directory.md). Request handlers reach tenant data
-- only through farmiq_app under row-level security (migration 0006); the farm servers a tenant's
-- admin registers and re-keys, and their last batch, are read and written the same way here.
--
-- 1. edge_tenants: a tenant sees and adds only its own links.
GRANT SELECT, INSERT ON edge_tenants TO farmiq_app;
ALTER TABLE edge_tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON edge_tenants TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);

-- Whether the edge syncs for the request's tenant and no other. SECURITY DEFINER (run as the
-- tables' owner, whom RLS does not restrict) because a tenant cannot see another tenant's links,
-- yet must not re-key an edge they share: it would stop the other tenant's sync. Says only yes/no.
CREATE FUNCTION edge_serves_only_current_tenant(p_edge_id text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
  SELECT count(*) = 1 AND coalesce(bool_and(tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid), false)
  FROM edge_tenants WHERE edge_id = p_edge_id
$$;
REVOKE ALL ON FUNCTION edge_serves_only_current_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION edge_serves_only_current_tenant(text) TO farmiq_app;

-- 2. edges: visible when linked to the tenant; registered by a tenant (the link follows in the same
-- transaction, cloud/edges.ts registerTenantEdge); re-keyed only when it serves that tenant alone
-- and is not revoked. Revoking and un-revoking stay with the owner (`farmiq edges`): no grant on
-- revoked_at, name, edge_id.
GRANT SELECT, INSERT ON edges TO farmiq_app;
GRANT UPDATE (key_id, public_key) ON edges TO farmiq_app;
ALTER TABLE edges ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_edges ON edges FOR SELECT TO PUBLIC
  USING (EXISTS (SELECT 1 FROM edge_tenants t
                 WHERE t.edge_id = edges.edge_id AND t.tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid));
CREATE POLICY tenant_registers_edge ON edges FOR INSERT TO PUBLIC
  WITH CHECK (nullif(current_setting('farmiq.tenant_id', true), '') IS NOT NULL AND revoked_at IS NULL);
CREATE POLICY tenant_rekeys_own_edge ON edges FOR UPDATE TO PUBLIC
  USING (revoked_at IS NULL AND edge_serves_only_current_tenant(edge_id))
  WITH CHECK (revoked_at IS NULL AND edge_serves_only_current_tenant(edge_id));

-- 3. ingestion_dedupe: the tenant's own rows, for an edge's last batch (cloud/edges.ts
-- listTenantEdges). The index makes that max(received_at) one probe per edge; it costs one more
-- index entry per ingested event. Built in the migration's transaction: ingestion waits for it.
GRANT SELECT ON ingestion_dedupe TO farmiq_app;
ALTER TABLE ingestion_dedupe ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ingestion_dedupe TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);
CREATE INDEX ingestion_dedupe_edge_received ON ingestion_dedupe (tenant_id, edge_id, received_at);

-- 4. devices: the farm server provisions mortality counters too (gateways/mqtt-bridge/broker/
-- credentials.ts deviceKinds); the cloud's list of a barn's devices admits the same kinds.
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter'));

-- Down Migration
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
DELETE FROM devices WHERE kind = 'mortality-counter';
ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser'));
DROP INDEX ingestion_dedupe_edge_received;
DROP POLICY tenant_isolation ON ingestion_dedupe;
ALTER TABLE ingestion_dedupe DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON ingestion_dedupe FROM farmiq_app;
DROP POLICY tenant_rekeys_own_edge ON edges;
DROP POLICY tenant_registers_edge ON edges;
DROP POLICY tenant_edges ON edges;
ALTER TABLE edges DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON edges FROM farmiq_app;
DROP FUNCTION edge_serves_only_current_tenant(text);
DROP POLICY tenant_isolation ON edge_tenants;
ALTER TABLE edge_tenants DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON edge_tenants FROM farmiq_app;
