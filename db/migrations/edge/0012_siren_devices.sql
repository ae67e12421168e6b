-- Up Migration
-- Sirens and relays are devices of their own kind: they log in to read their farm's alarm sirens
-- (farmiq/<tenant>/<farm>/+/alarm/siren) and publish nothing (gateways/mqtt-bridge/broker/render.ts).
ALTER TABLE edge_devices DROP CONSTRAINT edge_devices_kind_check;
ALTER TABLE edge_devices ADD CONSTRAINT edge_devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter', 'siren'));

-- Down Migration
DELETE FROM edge_devices WHERE kind = 'siren';
ALTER TABLE edge_devices DROP CONSTRAINT edge_devices_kind_check;
ALTER TABLE edge_devices ADD CONSTRAINT edge_devices_kind_check
  CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter'));
