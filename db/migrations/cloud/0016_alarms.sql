-- Up Migration
-- The cloud's record of the farm servers' alarms (docs/cloud-alarms.md). The farm server is the
-- source of truth: it raises, escalates, acknowledges and clears each alarm (alarms/, one Temporal
-- workflow per alarm) and syncs each transition as a catalog event; cloud-alarm-service
-- (cloud/consumers/alarm-service.ts, through cloud/alarms/alarm-store.ts, the only writer of these
-- tables) keeps one row per alarm and one history row per event. Events may arrive in any order
-- (a retried batch, a redelivery): the row converges, its state only ever moves forward
-- (raised → acknowledged → cleared), and the first acknowledgement and clearing stand.

CREATE TABLE alarms (
  tenant_id           uuid        NOT NULL,
  alarm_id            uuid        NOT NULL,
  -- The farm server that sent it (the ingested batch's edge); null when it could not be told.
  edge_id             text,
  farm_id             text        NOT NULL,
  barn_id             text,
  rule_id             text        NOT NULL,
  -- rule_kind, severity and summary: null until alarm.raised (or, for the last two, an
  -- escalation) arrives; an acknowledgement or a clearing may come first. The API lists an alarm
  -- once its severity and summary are known.
  rule_kind           text        CHECK (rule_kind IN ('limit', 'rate_of_change', 'sensor_silent', 'feed_outage', 'station_silent', 'sync_stalled')),
  severity            text        CHECK (severity IN ('info', 'warning', 'critical')),
  state               text        NOT NULL CHECK (state IN ('raised', 'acknowledged', 'cleared')),
  summary             text,
  metric              text,
  device_id           text,
  value               double precision,
  threshold           double precision,
  unit                text,
  condition_since     timestamptz,
  raised_at           timestamptz,
  acknowledged_at     timestamptz,
  acknowledged_by     text,
  acknowledged_source text        CHECK (acknowledged_source IN ('dashboard', 'operator_api', 'cli')),
  acknowledged_note   text,
  cleared_at          timestamptz,
  cleared_reason      text        CHECK (cleared_reason IN ('condition', 'rule_removed')),
  -- The highest escalation step seen (0 is the step at the raise).
  last_step           integer     CHECK (last_step >= 0),
  first_seen_at       timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, alarm_id)
);
-- The dashboard's list: a farm's open alarms, newest first.
CREATE INDEX alarms_farm_state ON alarms (tenant_id, farm_id, state, raised_at DESC);

-- One row per alarm event (event_id), so a redelivered event adds nothing.
CREATE TABLE alarm_events (
  tenant_id   uuid        NOT NULL,
  event_id    uuid        NOT NULL,
  alarm_id    uuid        NOT NULL,
  what        text        NOT NULL CHECK (what IN ('raised', 'escalated', 'acknowledged', 'cleared')),
  at          timestamptz NOT NULL,
  -- One sentence for a person: the step's channels and recipients, who acknowledged, why it cleared.
  detail      text        NOT NULL,
  -- The event's payload and, for an escalation, what the cloud sent and to whom it could not.
  data        jsonb       NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX alarm_events_alarm ON alarm_events (tenant_id, alarm_id, at);

-- A dashboard user's acknowledgement on its way to the farm server (the downlink command that
-- carries it). The alarm itself turns acknowledged only when the edge's alarm.acknowledged event
-- comes back. One per alarm: a second click finds this row and the same command.
CREATE TABLE alarm_acknowledgement_requests (
  tenant_id    uuid        NOT NULL,
  alarm_id     uuid        NOT NULL,
  command_id   uuid        NOT NULL,
  seq          bigint      NOT NULL,
  requested_by text        NOT NULL,
  note         text,
  requested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, alarm_id)
);

-- The dashboard reads the alarms under row-level security (0006) and records acknowledgement
-- requests through farmiq_app; the consumer writes the rest as the owner.
GRANT SELECT ON alarms, alarm_events TO farmiq_app;
GRANT SELECT, INSERT ON alarm_acknowledgement_requests TO farmiq_app;
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['alarms', 'alarm_events', 'alarm_acknowledgement_requests'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO PUBLIC
         USING (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)
         WITH CHECK (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
END
$$;

-- Down Migration
DROP TABLE alarm_acknowledgement_requests;
DROP TABLE alarm_events;
DROP TABLE alarms;
