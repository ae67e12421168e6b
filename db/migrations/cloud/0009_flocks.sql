-- Up Migration
-- The cloud copy of the flocks (docs/flocks.md), written only by cloud/consumers/flock-service.ts
-- from flock.placed, flock.mortality.recorded and flock.depopulated. Events reach the cloud in any
-- order (a live lane beside a backfill lane), so a depopulation or a day's counts may arrive
-- before the placement: the placement columns are filled when flock.placed arrives, and the day
-- counts carry no foreign key. Existing barns have no flock; their directory figures
-- (barns.animal_count, placed_at) stay as they are.

CREATE TABLE flocks (
  tenant_id             uuid        NOT NULL,
  flock_id              uuid        NOT NULL,
  farm_id               text        NOT NULL,
  barn_id               text        NOT NULL,
  species               text        CHECK (species IN ('broiler', 'swine')),
  breed                 text,
  sex                   text        CHECK (sex IN ('mixed', 'male', 'female')),
  head_count_placed     integer     CHECK (head_count_placed > 0),
  age_at_placement_days integer     CHECK (age_at_placement_days >= 0),
  placed_at             timestamptz,
  depopulated_at        timestamptz,
  placed_event_id       uuid,
  depopulated_event_id  uuid,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, flock_id),
  -- The placement arrives whole or not at all.
  CHECK ((placed_event_id IS NULL) = (placed_at IS NULL)
         AND (placed_at IS NULL) = (species IS NULL)
         AND (placed_at IS NULL) = (breed IS NULL)
         AND (placed_at IS NULL) = (head_count_placed IS NULL)
         AND (placed_at IS NULL) = (age_at_placement_days IS NULL)),
  CHECK ((depopulated_event_id IS NULL) = (depopulated_at IS NULL))
);
CREATE INDEX flocks_barn_time ON flocks (tenant_id, farm_id, barn_id, placed_at);

-- One row per flock, day and source; the newest record of a key wins (recorded_at, then event_id).
CREATE TABLE flock_daily_counts (
  tenant_id   uuid        NOT NULL,
  flock_id    uuid        NOT NULL,
  day         date        NOT NULL,
  source      text        NOT NULL CHECK (source IN ('device', 'operator')),
  farm_id     text        NOT NULL,
  barn_id     text        NOT NULL,
  dead        integer     NOT NULL CHECK (dead >= 0),
  culled      integer     NOT NULL CHECK (culled >= 0),
  reason      text,
  event_id    uuid        NOT NULL,
  device_id   text        NOT NULL,
  recorded_at timestamptz NOT NULL,
  trace_id    text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, flock_id, day, source)
);

-- Sensor readings the edge converted to their metric's unit keep what the sensor sent.
ALTER TABLE telemetry_raw ADD COLUMN source_value double precision, ADD COLUMN source_unit text;

-- Read by the dashboard under row-level security, like the other consumer tables (0006).
GRANT SELECT ON flocks, flock_daily_counts TO farmiq_app;
ALTER TABLE flocks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON flocks TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);
ALTER TABLE flock_daily_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON flock_daily_counts TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);

-- Down Migration
ALTER TABLE telemetry_raw DROP COLUMN source_value, DROP COLUMN source_unit;
DROP TABLE flock_daily_counts;
DROP TABLE flocks;
