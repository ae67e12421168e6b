-- Up Migration
-- Alarms on the farm server (docs/alarms.md): one row per alarm (one run of the farmAlarm workflow)
-- and its history, one line per thing that happened to it. Written only by alarms/alarm-store.ts,
-- from the alarm workflow's activities, in the same transaction as the alarm's catalog event in
-- sync_outbox. The workflow is the alarm's live state; these tables are what an operator lists and
-- what survives the workflow's retention.

CREATE TABLE alarms (
  alarm_id          uuid        PRIMARY KEY,
  tenant_id         uuid        NOT NULL,
  farm_id           text        NOT NULL,
  -- NULL for a farm-wide rule (sync_stalled).
  barn_id           text,
  rule_id           text        NOT NULL,
  rule_kind         text        NOT NULL,
  severity          text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  -- The workflow that runs it (alarm/<tenant>/<farm>/<barn|_farm>/<rule>): an acknowledgement signals it.
  workflow_id       text        NOT NULL,
  state             text        NOT NULL DEFAULT 'raised' CHECK (state IN ('raised', 'acknowledged', 'cleared')),
  summary           text        NOT NULL,
  metric            text,
  device_id         text,
  value             double precision,
  threshold         double precision,
  unit              text,
  condition_since   timestamptz NOT NULL,
  raised_at         timestamptz NOT NULL,
  -- The highest ladder step (or reminder) delivered so far; NULL before the first.
  last_step         integer,
  acknowledged_by   text,
  acknowledged_at   timestamptz,
  acknowledged_via  text        CHECK (acknowledged_via IN ('dashboard', 'operator_api', 'cli')),
  acknowledgement_note text,
  acknowledged_command_id uuid,
  cleared_at        timestamptz,
  clear_reason      text        CHECK (clear_reason IN ('condition', 'rule_removed')),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'cleared') = (cleared_at IS NOT NULL)),
  CHECK (acknowledged_at IS NULL OR acknowledged_by IS NOT NULL)
);
-- `farmiq alarms list` / GET /api/v1/alarms: the open ones, newest first; and all of them.
CREATE INDEX alarms_open ON alarms (raised_at DESC) WHERE state <> 'cleared';
CREATE INDEX alarms_raised ON alarms (raised_at DESC);
-- One tenant's alarms (listAlarms with a tenant), and the key row-level security would use.
CREATE INDEX alarms_tenant ON alarms (tenant_id, raised_at DESC);

-- entry_key makes each line once-only: a retried activity (or a redelivered acknowledgement)
-- finds its line and appends neither it nor its outbox event again.
CREATE TABLE alarm_history (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  uuid        NOT NULL,
  alarm_id   uuid        NOT NULL REFERENCES alarms ON DELETE CASCADE,
  entry_key  text        NOT NULL,
  at         timestamptz NOT NULL,
  what       text        NOT NULL CHECK (what IN ('raised', 'escalated', 'reminded', 'delivered_locally', 'local_delivery_failed',
                                                  'acknowledged', 'cleared', 'ignored')),
  detail     text        NOT NULL,
  UNIQUE (alarm_id, entry_key)
);
CREATE INDEX alarm_history_tenant ON alarm_history (tenant_id, alarm_id);

-- Down Migration
DROP TABLE alarm_history;
DROP TABLE alarms;
