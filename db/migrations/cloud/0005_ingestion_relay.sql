-- Up Migration
-- Cloud ingestion relay and consumers (DESIGN §4 "no loss between dedupe and publish", trace).
--
-- ingestion_outbox gains request_id: the x-request-id of the HTTP batch that brought the event, so
-- the relay can put it on the RabbitMQ message beside trace_id (DESIGN §4, trace).
ALTER TABLE ingestion_outbox ADD COLUMN request_id text;
-- The relay deletes published rows older than the retention period in published_at order.
CREATE INDEX ingestion_outbox_published ON ingestion_outbox (published_at) WHERE published_at IS NOT NULL;

-- A message can reach the dead letters twice (a consumer recorded it, then crashed before its
-- ack, and the broker dead-lettered the redelivery): one open dead letter per event and queue.
CREATE UNIQUE INDEX dead_letters_open_event ON dead_letters (queue, tenant_id, event_id)
  WHERE replayed_at IS NULL AND event_id IS NOT NULL;

-- Down Migration
DROP INDEX dead_letters_open_event;

-- DROP COLUMN would leave a hole in the column numbers, and applying this migration again would
-- then put request_id at another ordinal position. The table is rebuilt exactly as 0002 made it
-- instead, keeping every row and id, so down-then-up yields the same catalog.
ALTER TABLE ingestion_outbox RENAME TO ingestion_outbox_0005;
ALTER INDEX ingestion_outbox_pkey RENAME TO ingestion_outbox_0005_pkey;
ALTER INDEX ingestion_outbox_tenant_id_event_id_key RENAME TO ingestion_outbox_0005_tenant_event;
ALTER INDEX ingestion_outbox_unpublished RENAME TO ingestion_outbox_0005_unpublished;
ALTER INDEX ingestion_outbox_published RENAME TO ingestion_outbox_0005_published;
ALTER SEQUENCE ingestion_outbox_id_seq RENAME TO ingestion_outbox_0005_id_seq;

CREATE TABLE ingestion_outbox (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     uuid        NOT NULL,
  event_id      uuid        NOT NULL,
  routing_key   text        NOT NULL,
  envelope      jsonb       NOT NULL,
  trace_id      text,
  edge_id       text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  attempt_count integer     NOT NULL DEFAULT 0,
  last_error    text,
  published_at  timestamptz,
  UNIQUE (tenant_id, event_id)
);
CREATE INDEX ingestion_outbox_unpublished ON ingestion_outbox (id) WHERE published_at IS NULL;

INSERT INTO ingestion_outbox (id, tenant_id, event_id, routing_key, envelope, trace_id, edge_id, created_at,
                              attempt_count, last_error, published_at)
OVERRIDING SYSTEM VALUE
SELECT id, tenant_id, event_id, routing_key, envelope, trace_id, edge_id, created_at, attempt_count, last_error, published_at
FROM ingestion_outbox_0005;
SELECT setval(pg_get_serial_sequence('ingestion_outbox', 'id'), coalesce(max(id), 0) + 1, false) FROM ingestion_outbox;
DROP TABLE ingestion_outbox_0005;
