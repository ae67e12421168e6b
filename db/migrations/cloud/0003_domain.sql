-- Up Migration
-- Cloud domain data written by the RabbitMQ consumers (spec §2, §3, §4, §8): telemetry, rollups,
-- authoritative feed intake and the cloud copy of WeighVision sessions, images and inference.
-- Edges sync a live lane beside a backfill lane, so events reach the cloud out of order: child
-- rows (weights, images, results) may precede their session and carry no foreign key to it.
-- Nor do these tables reference the directory: an event for a barn not yet registered must be
-- stored, not dead-lettered.

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
  trace_id    text,
  received_at timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX telemetry_raw_barn_metric_time
  ON telemetry_raw (tenant_id, farm_id, barn_id, metric, occurred_at);

-- The edge republishes a window with a higher revision when late readings change it; the
-- consumer upserts with "WHERE excluded.revision > telemetry_rollups.revision" so the newest wins
-- whatever order the revisions arrive in.
CREATE TABLE telemetry_rollups (
  tenant_id     uuid             NOT NULL,
  farm_id       text             NOT NULL,
  barn_id       text             NOT NULL,
  device_id     text             NOT NULL,
  metric        text             NOT NULL,
  bucket_width  text             NOT NULL CHECK (bucket_width IN ('1m', '1h')),
  bucket_start  timestamptz      NOT NULL,
  unit          text             NOT NULL,
  reading_count bigint           NOT NULL CHECK (reading_count > 0),
  value_mean    double precision NOT NULL,
  value_min     double precision NOT NULL,
  value_max     double precision NOT NULL,
  revision      integer          NOT NULL CHECK (revision > 0),
  event_id      uuid             NOT NULL, -- the telemetry.aggregated event of this revision
  updated_at    timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start),
  CHECK (value_min <= value_max)
);
CREATE INDEX telemetry_rollups_barn_metric_time
  ON telemetry_rollups (tenant_id, farm_id, barn_id, metric, bucket_width, bucket_start);

-- Authoritative feed intake (spec §4 step 8). source_event_id is the device's feed.dispensed:
-- unique per tenant, so one dispense is counted once even if an edge re-recorded it under a new
-- intake event id.
CREATE TABLE feed_intake (
  tenant_id       uuid          NOT NULL,
  event_id        uuid          NOT NULL,
  source_event_id uuid          NOT NULL,
  farm_id         text          NOT NULL,
  barn_id         text          NOT NULL,
  device_id       text          NOT NULL,
  quantity_kg     numeric(12,3) NOT NULL CHECK (quantity_kg > 0),
  feed_type       text          NOT NULL,
  silo_id         text,
  pen_id          text,
  animal_count    integer       CHECK (animal_count > 0),
  dispensed_at    timestamptz   NOT NULL,
  trace_id        text,
  received_at     timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id),
  UNIQUE (tenant_id, source_event_id)
);
CREATE INDEX feed_intake_barn_time ON feed_intake (tenant_id, farm_id, barn_id, dispensed_at);

CREATE TABLE weighvision_sessions (
  tenant_id         uuid             NOT NULL,
  session_id        text             NOT NULL,
  farm_id           text             NOT NULL,
  barn_id           text             NOT NULL,
  station_id        text             NOT NULL,
  batch_id          uuid,
  status            text             NOT NULL DEFAULT 'created'
                    CHECK (status IN ('created', 'collecting', 'finalizing', 'finalized', 'timed_out', 'failed')),
  started_at        timestamptz,      -- device time of session.created, once it has arrived
  finalized_at      timestamptz,      -- device time of session.finalized, once it has arrived
  image_count       integer          CHECK (image_count >= 0),
  reading_count     integer          NOT NULL DEFAULT 0 CHECK (reading_count >= 0),
  weight_kg         numeric(10,3)    CHECK (weight_kg > 0),
  vision_weight_kg  numeric(10,3)    CHECK (vision_weight_kg >= 0),
  vision_confidence double precision CHECK (vision_confidence BETWEEN 0 AND 1),
  quality_flags     text[]           NOT NULL DEFAULT '{}',
  trace_id          text,
  created_at        timestamptz      NOT NULL DEFAULT now(),
  updated_at        timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX weighvision_sessions_barn_time
  ON weighvision_sessions (tenant_id, farm_id, barn_id, finalized_at);

CREATE TABLE weighvision_weights (
  tenant_id   uuid          NOT NULL,
  event_id    uuid          NOT NULL,
  session_id  text          NOT NULL,
  weight_kg   numeric(10,3) NOT NULL CHECK (weight_kg > 0),
  stable      boolean,
  occurred_at timestamptz   NOT NULL,
  trace_id    text,
  received_at timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX weighvision_weights_session ON weighvision_weights (tenant_id, session_id, occurred_at);

-- Metadata only: the image itself stays in the farm's object store.
CREATE TABLE media_objects (
  tenant_id    uuid        NOT NULL,
  media_id     uuid        NOT NULL,
  event_id     uuid        NOT NULL, -- the media.stored event
  session_id   text        NOT NULL,
  farm_id      text        NOT NULL,
  barn_id      text        NOT NULL,
  station_id   text        NOT NULL,
  object_key   text        NOT NULL,
  content_type text        NOT NULL,
  size_bytes   bigint      NOT NULL CHECK (size_bytes > 0),
  stored_at    timestamptz NOT NULL,
  trace_id     text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, media_id)
);
CREATE INDEX media_objects_session ON media_objects (tenant_id, session_id);

CREATE TABLE inference_results (
  tenant_id           uuid             NOT NULL,
  media_id            uuid             NOT NULL,
  event_id            uuid             NOT NULL, -- the inference.completed event
  session_id          text             NOT NULL,
  model_id            text             NOT NULL,
  estimated_weight_kg numeric(10,3)    NOT NULL CHECK (estimated_weight_kg >= 0),
  confidence          double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  quality_flags       text[]           NOT NULL DEFAULT '{}',
  inference_ms        double precision NOT NULL CHECK (inference_ms >= 0),
  completed_at        timestamptz      NOT NULL,
  trace_id            text,
  received_at         timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, media_id)
);
CREATE INDEX inference_results_session ON inference_results (tenant_id, session_id);

-- Down Migration
DROP TABLE inference_results;
DROP TABLE media_objects;
DROP TABLE weighvision_weights;
DROP TABLE weighvision_sessions;
DROP TABLE feed_intake;
DROP TABLE telemetry_rollups;
DROP TABLE telemetry_raw;
