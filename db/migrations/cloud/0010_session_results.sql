-- Up Migration
-- One truth for a weighing (docs/weighvision.md): the cloud keeps the result the edge concluded
-- (weighvision.session.concluded) instead of recomputing it from the raw rows. Until that event
-- arrives a session's summary is the provisional recompute (concluded_at IS NULL); rows of edges
-- that never send it keep working exactly as before. Written only by
-- cloud/consumers/weighvision-sessions.ts.

ALTER TABLE weighvision_sessions
  ADD COLUMN weight_source        text             CHECK (weight_source IN ('scale', 'vision')),
  ADD COLUMN scale_median_kg      numeric(10,3)    CHECK (scale_median_kg > 0),
  ADD COLUMN stable_reading_count integer          CHECK (stable_reading_count >= 0),
  ADD COLUMN vision_raw_kg        numeric(10,3)    CHECK (vision_raw_kg >= 0), -- before the station's calibration
  ADD COLUMN calibration_factor   double precision CHECK (calibration_factor > 0),
  ADD COLUMN images_inferred      integer          CHECK (images_inferred >= 0),
  ADD COLUMN missing_images       integer          CHECK (missing_images >= 0),
  ADD COLUMN failure_reason       text,
  ADD COLUMN concluded_event_id   uuid,            -- the weighvision.session.concluded applied
  ADD COLUMN concluded_at         timestamptz;     -- its edge time; NULL: the summary is provisional

-- Down Migration
ALTER TABLE weighvision_sessions
  DROP COLUMN concluded_at,
  DROP COLUMN concluded_event_id,
  DROP COLUMN failure_reason,
  DROP COLUMN missing_images,
  DROP COLUMN images_inferred,
  DROP COLUMN calibration_factor,
  DROP COLUMN vision_raw_kg,
  DROP COLUMN stable_reading_count,
  DROP COLUMN scale_median_kg,
  DROP COLUMN weight_source;
