-- Up Migration
-- Flocks (placements) on the farm server (docs/flocks.md): a flock placed in a barn, its daily
-- deaths and culls, its depopulation. Written only by flocks/flock-store.ts. Existing barns have
-- no flock: nothing is backfilled (the barn's old animal_count lives in the cloud directory).

CREATE TABLE flocks (
  tenant_id             uuid        NOT NULL,
  flock_id              uuid        NOT NULL,
  farm_id               text        NOT NULL,
  barn_id               text        NOT NULL,
  species               text        NOT NULL CHECK (species IN ('broiler', 'swine')),
  breed                 text        NOT NULL,
  sex                   text        CHECK (sex IN ('mixed', 'male', 'female')),
  head_count_placed     integer     NOT NULL CHECK (head_count_placed > 0),
  age_at_placement_days integer     NOT NULL DEFAULT 0 CHECK (age_at_placement_days >= 0),
  placed_at             timestamptz NOT NULL,
  status                text        NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'depopulated')),
  depopulated_at        timestamptz,
  placed_event_id       uuid        NOT NULL,
  depopulated_event_id  uuid,
  trace_id              text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, flock_id),
  CHECK ((status = 'depopulated') = (depopulated_at IS NOT NULL)),
  CHECK (depopulated_at IS NULL OR depopulated_at >= placed_at)
);
-- All in, all out: one flock in a barn at a time.
CREATE UNIQUE INDEX flocks_one_placed_per_barn ON flocks (tenant_id, farm_id, barn_id) WHERE status = 'placed';
CREATE INDEX flocks_barn_time ON flocks (tenant_id, farm_id, barn_id, placed_at);
-- The operator API names a flock by its id alone.
CREATE UNIQUE INDEX flocks_flock_id ON flocks (flock_id);

-- One row per flock, day and source: a later record of the same day from the same source
-- replaces it (a counter resending its running total, an operator correcting a figure); a
-- redelivered event is deduped before it gets here (ingress_dedupe) or is older than the row.
CREATE TABLE flock_daily_counts (
  tenant_id   uuid        NOT NULL,
  flock_id    uuid        NOT NULL,
  day         date        NOT NULL,
  source      text        NOT NULL CHECK (source IN ('device', 'operator')),
  dead        integer     NOT NULL CHECK (dead >= 0),
  culled      integer     NOT NULL CHECK (culled >= 0),
  reason      text,
  event_id    uuid        NOT NULL,
  device_id   text        NOT NULL,
  recorded_at timestamptz NOT NULL,
  trace_id    text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, flock_id, day, source),
  FOREIGN KEY (tenant_id, flock_id) REFERENCES flocks ON DELETE CASCADE
);

-- Sensor readings converted to their metric's unit at ingest keep what the sensor sent.
ALTER TABLE telemetry_raw ADD COLUMN source_value double precision, ADD COLUMN source_unit text;

-- Mortality counters are devices of their own kind.
ALTER TABLE edge_devices DROP CONSTRAINT edge_devices_kind_check;
ALTER TABLE edge_devices ADD CONSTRAINT edge_devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter'));

-- Down Migration
ALTER TABLE edge_devices DROP CONSTRAINT edge_devices_kind_check;
UPDATE edge_devices SET kind = 'sensor' WHERE kind = 'mortality-counter';
ALTER TABLE edge_devices ADD CONSTRAINT edge_devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser'));
ALTER TABLE telemetry_raw DROP COLUMN source_value, DROP COLUMN source_unit;
DROP TABLE flock_daily_counts;
DROP TABLE flocks;
