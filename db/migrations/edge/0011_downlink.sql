-- Up Migration
-- The downlink on the farm server (issue 13, docs/downlink.md): every command the cloud sent,
-- recorded in the same transaction that applies it, so a command redelivered after a crash is
-- found here and not applied again. Written only by sync/downlink/downlink-store.ts.
--
-- seq is the cloud's numbering of one edge id's commands: a farm server registered again under
-- another EDGE_ID starts again at 1, so everything here is read per edge id.
CREATE TABLE downlink_commands (
  command_id     uuid        PRIMARY KEY,
  edge_id        text        NOT NULL,
  seq            bigint      NOT NULL CHECK (seq >= 1),
  tenant_id      uuid        NOT NULL,
  type           text        NOT NULL,
  payload        jsonb       NOT NULL,
  created_by     text        NOT NULL,
  created_at     timestamptz NOT NULL, -- the cloud's clock
  status         text        NOT NULL CHECK (status IN ('applied', 'refused')),
  result         text        NOT NULL,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  -- Effects outside this database (a Temporal signal, the broker's files) run after the commit and
  -- are retried on every exchange until done; the outcome goes to the cloud only then.
  has_effect     boolean     NOT NULL DEFAULT false,
  effect_done_at timestamptz,
  effect_attempts integer    NOT NULL DEFAULT 0,
  effect_error   text,
  -- when the cloud was told the outcome (null: tell it with the next exchange)
  reported_at    timestamptz,
  CHECK (status = 'applied' OR NOT has_effect)
);
CREATE INDEX downlink_commands_tenant ON downlink_commands (tenant_id, seq);
CREATE INDEX downlink_commands_edge_seq ON downlink_commands (edge_id, seq);
CREATE INDEX downlink_commands_unreported ON downlink_commands (edge_id, seq) WHERE reported_at IS NULL;
CREATE INDEX downlink_commands_effect_pending ON downlink_commands (edge_id, seq) WHERE has_effect AND effect_done_at IS NULL;

-- The MQTT password a device.provision command generated, for the farm's installer to read on the
-- farm server (`farmiq devices show`). It never leaves this database (not in the outcome, not in
-- any event); the broker itself keeps only its hash (edge_devices). Gone when the device is revoked.
CREATE TABLE downlink_device_passwords (
  tenant_id  uuid        NOT NULL,
  farm_id    text        NOT NULL,
  barn_id    text        NOT NULL,
  device_id  text        NOT NULL,
  username   text        NOT NULL UNIQUE,
  password   text        NOT NULL,
  command_id uuid        NOT NULL REFERENCES downlink_commands,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id, device_id)
);

-- Down Migration
DROP TABLE downlink_device_passwords;
DROP TABLE downlink_commands;
