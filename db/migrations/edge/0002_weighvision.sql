-- Up Migration
-- Edge WeighVision (spec §3, §8.2-8.4): one row per weighing session, the scale readings behind
-- it, the images uploaded through presigned URLs and one inference result per image.

CREATE TABLE weighvision_sessions (
  tenant_id            uuid          NOT NULL,
  session_id           text          NOT NULL,
  farm_id              text          NOT NULL,
  barn_id              text          NOT NULL,
  station_id           text          NOT NULL,
  batch_id             uuid,
  status               text          NOT NULL DEFAULT 'created'
                       CHECK (status IN ('created', 'collecting', 'finalizing', 'finalized', 'timed_out', 'failed')),
  -- Device times of session.created and session.finalized. Either event may be processed after
  -- other events of its session, so each stays null until it has been.
  started_at           timestamptz,
  finalized_at         timestamptz,
  image_count          integer       CHECK (image_count >= 0), -- announced by session.finalized
  reading_count        integer       NOT NULL DEFAULT 0 CHECK (reading_count >= 0),
  stable_reading_count integer       NOT NULL DEFAULT 0 CHECK (stable_reading_count >= 0),
  scale_median_kg      numeric(10,3) CHECK (scale_median_kg > 0),
  vision_weight_kg     numeric(10,3) CHECK (vision_weight_kg >= 0),
  vision_confidence    double precision CHECK (vision_confidence BETWEEN 0 AND 1),
  weight_kg            numeric(10,3) CHECK (weight_kg > 0),
  weight_source        text          CHECK (weight_source IN ('scale', 'vision')),
  quality_flags        text[]        NOT NULL DEFAULT '{}',
  failure_reason       text,
  workflow_id          text,
  trace_id             text,
  created_at           timestamptz   NOT NULL DEFAULT now(),
  updated_at           timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, session_id),
  CHECK (stable_reading_count <= reading_count),
  CHECK ((weight_kg IS NULL) = (weight_source IS NULL))
);
CREATE INDEX weighvision_sessions_barn_status
  ON weighvision_sessions (tenant_id, farm_id, barn_id, status, started_at);

-- One row per weighvision.weight.recorded; the session writer creates the session row before its
-- first reading, whichever event of the session came first.
CREATE TABLE weighvision_weights (
  tenant_id   uuid          NOT NULL,
  event_id    uuid          NOT NULL,
  session_id  text          NOT NULL,
  weight_kg   numeric(10,3) NOT NULL CHECK (weight_kg > 0),
  stable      boolean,      -- null when the scale does not report stability
  occurred_at timestamptz   NOT NULL,
  trace_id    text,
  received_at timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES weighvision_sessions ON DELETE CASCADE
);
CREATE INDEX weighvision_weights_session ON weighvision_weights (tenant_id, session_id, occurred_at);

-- No foreign key to weighvision_sessions: a station may ask for an upload URL (HTTP) before the
-- bridge has processed the session's created event (MQTT), and the upload must not fail for it.
CREATE TABLE media_objects (
  tenant_id    uuid        NOT NULL,
  media_id     uuid        NOT NULL,
  session_id   text        NOT NULL,
  farm_id      text        NOT NULL,
  barn_id      text        NOT NULL,
  station_id   text        NOT NULL,
  object_key   text        NOT NULL UNIQUE,
  content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
  size_bytes   bigint      CHECK (size_bytes > 0), -- known once the object is stored
  status       text        NOT NULL DEFAULT 'presigned' CHECK (status IN ('presigned', 'stored')),
  presigned_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL, -- when the presigned PUT URL stops working
  stored_at    timestamptz,
  trace_id     text,
  PRIMARY KEY (tenant_id, media_id),
  CHECK (status <> 'stored' OR (stored_at IS NOT NULL AND size_bytes IS NOT NULL))
);
CREATE INDEX media_objects_session ON media_objects (tenant_id, session_id);
-- Finds abandoned uploads (URL expired, object never completed) for cleanup.
CREATE INDEX media_objects_presigned_expiry ON media_objects (expires_at) WHERE status = 'presigned';

CREATE TABLE inference_results (
  tenant_id           uuid             NOT NULL,
  media_id            uuid             NOT NULL,
  session_id          text             NOT NULL,
  model_id            text             NOT NULL,
  estimated_weight_kg numeric(10,3)    NOT NULL CHECK (estimated_weight_kg >= 0),
  confidence          double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  quality_flags       text[]           NOT NULL DEFAULT '{}',
  inference_ms        double precision NOT NULL CHECK (inference_ms >= 0),
  trace_id            text,
  created_at          timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, media_id),
  FOREIGN KEY (tenant_id, media_id) REFERENCES media_objects ON DELETE CASCADE
);
CREATE INDEX inference_results_session ON inference_results (tenant_id, session_id);

-- Down Migration
DROP TABLE inference_results;
DROP TABLE media_objects;
DROP TABLE weighvision_weights;
DROP TABLE weighvision_sessions;
