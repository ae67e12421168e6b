-- Up Migration
-- Cloud ingestion (spec §2.3, §7; DESIGN §4): dedupe of edge batches, the publish outbox that
-- makes "deduped" imply "published", per-consumer dedupe and the dead letters of poison messages.
-- These tables are on the ingest hot path and carry no foreign keys: the edge and its tenants
-- are checked once per request when it authenticates, not once per event.

CREATE TABLE ingestion_dedupe (
  tenant_id   uuid        NOT NULL,
  event_id    uuid        NOT NULL,
  edge_id     text        NOT NULL,
  event_type  text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);

-- Written in the same transaction as the ingestion_dedupe row; a relay publishes unpublished
-- rows with publisher confirms and only then sets published_at. A crash anywhere in between
-- leaves the row unpublished, so it is published (at least once) later, never lost.
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

-- One row per (consumer, event) processed, written in the consumer's own transaction, so a
-- redelivered message changes nothing. tenant_id leads the key for row-level security.
CREATE TABLE consumer_dedupe (
  tenant_id    uuid        NOT NULL,
  event_id     uuid        NOT NULL,
  consumer     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id, consumer)
);

-- Messages a consumer gave up on after too many deliveries, or could not parse at all; kept for
-- inspection and replay. tenant_id and event_id are null when the body could not be read.
CREATE TABLE dead_letters (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue          text        NOT NULL,
  routing_key    text,
  tenant_id      uuid,
  event_id       uuid,
  reason         text        NOT NULL,
  delivery_count integer     NOT NULL CHECK (delivery_count >= 0),
  headers        jsonb,
  envelope       jsonb,       -- the message when it is valid JSON
  body           bytea,       -- the raw bytes otherwise
  trace_id       text,
  received_at    timestamptz NOT NULL DEFAULT now(),
  replayed_at    timestamptz,
  CHECK (envelope IS NOT NULL OR body IS NOT NULL)
);
CREATE INDEX dead_letters_queue_time ON dead_letters (queue, received_at);
CREATE INDEX dead_letters_tenant_event ON dead_letters (tenant_id, event_id);

-- Down Migration
DROP TABLE dead_letters;
DROP TABLE consumer_dedupe;
DROP TABLE ingestion_outbox;
DROP TABLE ingestion_dedupe;
