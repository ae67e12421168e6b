-- Up Migration
-- A siren or relay box of a farm (issue 13, docs/alarms.md): a device kind the farm server
-- provisions (edge 0012) that subscribes to its farm's alarm siren topics; the cloud's list of a
-- barn's devices admits the same kinds (cloud/device-directory.ts deviceKinds).
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter', 'siren'));

-- Down Migration
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
DELETE FROM devices WHERE kind = 'siren';
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter'));
