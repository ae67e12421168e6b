-- Up Migration
-- The scale ÷ vision ratio each WeighVision session taught its station, with the verdict the
-- history gave it (weighvision/station-calibration.ts): the factor is the median of the recent
-- accepted ratios, and the trend of the recent ones flags a drifting scale. Written only by
-- activities/weighvision/session.ts, in the transaction that concludes the session (one ratio per
-- session). Existing stations keep their station_calibrations factor until three new sessions
-- have taught them; nothing is backfilled (the running average kept no history).

CREATE TABLE station_calibration_ratios (
  id          bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order sessions were concluded in
  tenant_id   uuid             NOT NULL,
  farm_id     text             NOT NULL,
  barn_id     text             NOT NULL,
  station_id  text             NOT NULL,
  session_id  text             NOT NULL,
  ratio       double precision NOT NULL CHECK (ratio > 0),
  verdict     text             NOT NULL CHECK (verdict IN ('accepted', 'outlier', 'out_of_bounds', 'drift')),
  recorded_at timestamptz      NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, session_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES weighvision_sessions ON DELETE CASCADE
);
CREATE INDEX station_calibration_ratios_station ON station_calibration_ratios (tenant_id, farm_id, barn_id, station_id, id);

-- Down Migration
DROP TABLE station_calibration_ratios;
