-- Up Migration
-- The downlink (issue 13, docs/downlink.md): an ordered queue of commands per farm server. The
-- dashboard (and the device directory) enqueue through cloud/downlink/command-queue.ts on the
-- tenant pool, under row-level security; the edge pulls them over the signed
-- POST /api/v1/edge/commands, which runs on the owner pool and records the edge's outcomes.
--
-- seq orders one edge's commands across all its tenants. It is handed out by
-- next_edge_command_seq() under a transaction-level advisory lock on the edge, so enqueues for one
-- edge commit in seq order and a pull never skips a seq that commits later.
CREATE TABLE edge_commands (
  command_id   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid        NOT NULL REFERENCES tenants ON DELETE CASCADE,
  edge_id      text        NOT NULL REFERENCES edges ON DELETE CASCADE,
  seq          bigint      NOT NULL CHECK (seq >= 1),
  type         text        NOT NULL,
  payload      jsonb       NOT NULL,
  -- the caller's key for "the same command again" (a retried dashboard request): one row per key
  dedupe_key   text        CHECK (char_length(dedupe_key) BETWEEN 1 AND 200),
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- first answered to the edge (it may be answered again until the outcome arrives)
  delivered_at timestamptz,
  outcome      text        CHECK (outcome IN ('applied', 'refused')),
  result       text,
  -- when the edge applied or refused it (its clock), and when the cloud heard of it
  applied_at   timestamptz,
  recorded_at  timestamptz,
  UNIQUE (edge_id, seq),
  CHECK ((outcome IS NULL) = (recorded_at IS NULL))
);
CREATE INDEX edge_commands_tenant_edge ON edge_commands (tenant_id, edge_id, seq);
CREATE UNIQUE INDEX edge_commands_dedupe ON edge_commands (tenant_id, edge_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
-- what a pull reads: the edge's commands still without an outcome, in seq order
CREATE INDEX edge_commands_open ON edge_commands (edge_id, seq) WHERE outcome IS NULL;

-- The tenant's own commands; a command is accepted only for an edge edge_tenants links to the
-- tenant (that table's own policy shows a tenant only its links), so enqueueing for another
-- tenant's farm server is refused by the database even if the code forgot to check.
GRANT SELECT, INSERT ON edge_commands TO farmiq_app;
ALTER TABLE edge_commands ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON edge_commands TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (
    tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM edge_tenants t WHERE t.edge_id = edge_commands.edge_id AND t.tenant_id = edge_commands.tenant_id)
  );

-- The next seq of an edge, for the current tenant only if the edge serves it (null otherwise).
-- SECURITY DEFINER: seq counts every tenant's commands of the edge, which one tenant cannot see.
-- The advisory lock lasts until the caller's transaction ends: the next enqueue for the same edge
-- waits, so seqs commit in order. Says nothing about other tenants' commands but the next number.
CREATE FUNCTION next_edge_command_seq(p_edge_id text) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
  v_tenant uuid := nullif(current_setting('farmiq.tenant_id', true), '')::uuid;
BEGIN
  IF v_tenant IS NULL OR NOT EXISTS (
    SELECT 1 FROM edge_tenants t JOIN edges e ON e.edge_id = t.edge_id
    WHERE t.edge_id = p_edge_id AND t.tenant_id = v_tenant AND e.revoked_at IS NULL
  ) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('edge_commands:' || p_edge_id, 0));
  RETURN (SELECT coalesce(max(seq), 0) + 1 FROM edge_commands WHERE edge_id = p_edge_id);
END
$$;
REVOKE ALL ON FUNCTION next_edge_command_seq(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION next_edge_command_seq(text) TO farmiq_app;

-- Down Migration
DROP FUNCTION next_edge_command_seq(text);
DROP TABLE edge_commands;
