-- Up Migration
-- The backlog each farm server reports with its sync batches (edge_status in the batch body,
-- domain/sync/edge-batch.ts), kept per edge: the newest report wins, by the batch's signed request
-- time, since batches may arrive out of order (cloud/edges.ts recordEdgeStatus, written by
-- ingestion on the owner pool). On edges, not a table of its own: one report per edge, replaced in
-- place, read with the edge. farmiq_app reads the columns through its SELECT grant and the
-- tenant_edges policy of migration 0013; it gets no UPDATE on them (its grant stays key_id,
-- public_key).
ALTER TABLE edges
  ADD COLUMN reported_backlog           integer     CHECK (reported_backlog >= 0),
  ADD COLUMN reported_oldest_pending_at timestamptz,
  ADD COLUMN reported_at                timestamptz,
  ADD CONSTRAINT edges_report_complete CHECK ((reported_at IS NULL) = (reported_backlog IS NULL));

-- Down Migration
ALTER TABLE edges
  DROP CONSTRAINT edges_report_complete,
  DROP COLUMN reported_at,
  DROP COLUMN reported_oldest_pending_at,
  DROP COLUMN reported_backlog;
