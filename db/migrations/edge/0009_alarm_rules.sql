-- Up Migration
-- Alarm rules and the state of each rule's condition per place (docs/alarm-rules.md). Both written
-- only by alarms/rule-store.ts.
--
-- alarm_rules: a farm's stored rules, in the shape the dashboard writes them (AlarmRuleSpec,
-- domain/downlink/commands.ts). A stored rule replaces the default rule of the same id
-- (alarms/default-rules.ts); a deleted one is kept as a tombstone (deleted_at) so a deleted
-- default stays deleted. Written by the operator API and the downlink (alarm_rule.upsert/delete).
CREATE TABLE alarm_rules (
  tenant_id  uuid        NOT NULL,
  farm_id    text        NOT NULL,
  rule_id    text        NOT NULL,
  spec       jsonb,
  deleted_at timestamptz,
  updated_by text        NOT NULL,
  source     text        NOT NULL CHECK (source IN ('operator_api', 'downlink')),
  command_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, rule_id),
  CHECK ((spec IS NULL) = (deleted_at IS NOT NULL))
);

-- alarm_conditions: where each (rule, place) stands (normal, pending_raise, active, pending_clear),
-- written after the alarm workflow took the raise or clear, so a bridge restart keeps the phase
-- and a crash before the write re-sends the same (idempotent) raise. place is the barn, or
-- '_farm' for a farm-wide rule (sync_stalled).
CREATE TABLE alarm_conditions (
  tenant_id  uuid        NOT NULL,
  farm_id    text        NOT NULL,
  place      text        NOT NULL,
  rule_id    text        NOT NULL,
  phase      text        NOT NULL CHECK (phase IN ('normal', 'pending_raise', 'active', 'pending_clear')),
  state      jsonb       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, place, rule_id)
);

-- Down Migration
DROP TABLE alarm_conditions;
DROP TABLE alarm_rules;
