-- Up Migration
-- Edge ingest (spec §2, §4, §7.3): dedupe, telemetry, feed intake, rollups, the sync outbox,
-- quarantined device messages and the device registry behind the broker's credentials and ACL.

CREATE TABLE ingress_dedupe (
  tenant_id   uuid        NOT NULL,
  event_id    uuid        NOT NULL,
  event_type  text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE telemetry_raw (
  tenant_id   uuid             NOT NULL,
  event_id    uuid             NOT NULL,
  farm_id     text             NOT NULL,
  barn_id     text             NOT NULL,
  device_id   text             NOT NULL,
  metric      text             NOT NULL,
  value       double precision NOT NULL,
  unit        text             NOT NULL,
  occurred_at timestamptz      NOT NULL,
  trace_id    text             NOT NULL,
  received_at timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
-- Readings arrive roughly in time order, so a BRIN index serves time-range scans at almost no
-- write cost (a B-tree here would cost a third of the ingest rate).
CREATE INDEX telemetry_raw_occurred_brin ON telemetry_raw USING brin (occurred_at);

-- Per device and metric, per minute and per hour; kept current in the ingest transaction and
-- published as telemetry.aggregated once a window has closed.
CREATE TABLE telemetry_rollup (
  tenant_id          uuid             NOT NULL,
  farm_id            text             NOT NULL,
  barn_id            text             NOT NULL,
  device_id          text             NOT NULL,
  metric             text             NOT NULL,
  bucket_width       text             NOT NULL CHECK (bucket_width IN ('1m', '1h')),
  bucket_start       timestamptz      NOT NULL,
  unit               text             NOT NULL,
  reading_count      bigint           NOT NULL,
  value_sum          double precision NOT NULL,
  value_min          double precision NOT NULL,
  value_max          double precision NOT NULL,
  revision           integer          NOT NULL DEFAULT 1,
  published_revision integer          NOT NULL DEFAULT 0,
  updated_at         timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start)
);
CREATE INDEX telemetry_rollup_unpublished ON telemetry_rollup (bucket_start)
  WHERE revision > published_revision;

CREATE TABLE feed_intake_local (
  tenant_id       uuid          NOT NULL,
  event_id        uuid          NOT NULL, -- the feed.intake.recorded event id
  source_event_id uuid          NOT NULL, -- the device's feed.dispensed event id
  farm_id         text          NOT NULL,
  barn_id         text          NOT NULL,
  device_id       text          NOT NULL,
  quantity_kg     numeric(12,3) NOT NULL CHECK (quantity_kg > 0),
  feed_type       text          NOT NULL,
  silo_id         text,
  pen_id          text,
  animal_count    integer,
  dispensed_at    timestamptz   NOT NULL,
  trace_id        text          NOT NULL,
  recorded_at     timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX feed_intake_local_barn_time ON feed_intake_local (tenant_id, farm_id, barn_id, dispensed_at);

CREATE TABLE feed_intake_dedupe (
  tenant_id       uuid        NOT NULL,
  source_event_id uuid        NOT NULL,
  intake_event_id uuid        NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, source_event_id)
);

-- The outbox of spec §7.2/§7.3: every column the claim query reads, and a partial index in
-- exactly its ORDER BY so claiming stays an index scan however many rows are acked.
CREATE TABLE sync_outbox (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        uuid        NOT NULL,
  event_id         uuid        NOT NULL,
  event_type       text        NOT NULL,
  envelope         jsonb       NOT NULL,
  trace_id         text,
  occurred_at      timestamptz NOT NULL,
  priority         smallint    NOT NULL DEFAULT 0,
  status           text        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'claimed', 'sending', 'sent', 'acked', 'dlq', 'failed')),
  attempt_count    integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  claimed_by       text,
  claimed_at       timestamptz,
  lease_expires_at timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  acked_at         timestamptz
);
-- No unique index on (tenant_id, event_id) here: every producer dedupes before it appends
-- (ingress_dedupe, feed_intake_dedupe, rollup revisions) and the cloud dedupes again, while a
-- third random-UUID B-tree on the hottest insert path cost about a quarter of the ingest rate.
CREATE INDEX sync_outbox_claim ON sync_outbox (priority DESC, occurred_at ASC)
  WHERE status IN ('pending', 'claimed');
-- Dead events are few; operators list and requeue them.
CREATE INDEX sync_outbox_dead ON sync_outbox (status, id) WHERE status IN ('dlq', 'failed');

-- Device messages that failed validation: never dropped silently, never a crash.
CREATE TABLE ingress_rejects (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now(),
  source       text        NOT NULL CHECK (source IN ('mqtt', 'http')),
  topic        text,
  reason       text        NOT NULL,
  detail       text        NOT NULL,
  tenant_id    text,
  device_id    text,
  payload      bytea,       -- the raw bytes, cut to the first 64 KiB
  payload_size integer     NOT NULL
);
CREATE INDEX ingress_rejects_reason_time ON ingress_rejects (reason, received_at);

-- Devices allowed on the farm's broker; the broker's password file and ACL are generated from it.
CREATE TABLE edge_devices (
  username      text        PRIMARY KEY,
  tenant_id     uuid        NOT NULL,
  farm_id       text        NOT NULL,
  barn_id       text        NOT NULL,
  device_id     text        NOT NULL,
  kind          text        NOT NULL DEFAULT 'sensor'
                CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser')),
  password_hash text        NOT NULL, -- mosquitto_passwd format, never the password itself
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  UNIQUE (tenant_id, farm_id, barn_id, device_id)
);

-- Down Migration
DROP TABLE edge_devices;
DROP TABLE ingress_rejects;
DROP TABLE sync_outbox;
DROP TABLE feed_intake_dedupe;
DROP TABLE feed_intake_local;
DROP TABLE telemetry_rollup;
DROP TABLE telemetry_raw;
DROP TABLE ingress_dedupe;
