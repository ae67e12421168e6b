-- Up Migration
-- WeighVision sessions as Temporal workflows (docs/weighvision.md): the session row keeps how its
-- result was reached, every device event of a session is appended to the outbox exactly once, and
-- each station's vision estimate is recalibrated by its scale.

ALTER TABLE weighvision_sessions
  ADD COLUMN vision_raw_kg      numeric(10,3)    CHECK (vision_raw_kg >= 0), -- before the station's calibration
  ADD COLUMN calibration_factor double precision CHECK (calibration_factor > 0),
  ADD COLUMN images_inferred    integer          NOT NULL DEFAULT 0 CHECK (images_inferred >= 0),
  ADD COLUMN missing_images     integer          NOT NULL DEFAULT 0 CHECK (missing_images >= 0);

-- The device events of each session that are in the outbox (sync_outbox has no unique event key,
-- see 0001): the session workflow's record activity appends only those it inserts here first.
CREATE TABLE weighvision_session_events (
  tenant_id   uuid        NOT NULL,
  event_id    uuid        NOT NULL,
  session_id  text        NOT NULL,
  event_type  text        NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES weighvision_sessions ON DELETE CASCADE
);
CREATE INDEX weighvision_session_events_session ON weighvision_session_events (tenant_id, session_id);

-- Per station: scale weight / raw vision estimate, as a moving average over its sessions.
CREATE TABLE station_calibrations (
  tenant_id  uuid             NOT NULL,
  farm_id    text             NOT NULL,
  barn_id    text             NOT NULL,
  station_id text             NOT NULL,
  factor     double precision NOT NULL CHECK (factor > 0),
  sessions   integer          NOT NULL CHECK (sessions >= 0), -- sessions that taught it
  updated_at timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id, station_id)
);

-- Down Migration
DROP TABLE station_calibrations;
DROP TABLE weighvision_session_events;
ALTER TABLE weighvision_sessions
  DROP COLUMN missing_images,
  DROP COLUMN images_inferred,
  DROP COLUMN calibration_factor,
  DROP COLUMN vision_raw_kg;
