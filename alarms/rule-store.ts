/**
 * The only writer of alarm_rules and alarm_conditions (db/migrations/edge/0009_alarm_rules.sql).
 * Rules come from the operator API and the downlink; conditions from the evaluator and the sweep,
 * written only once the alarm workflow has taken the raise or clear they carry.
 */
import type { Queryable } from '../db/transaction';
import type { AlarmRuleSpec } from '../domain/downlink/commands';
import { compactCondition, type ConditionState } from './condition';
import { defaultRules } from './default-rules';
import { effectiveRules, type StoredRule } from './rules';

export interface RuleChange {
  updatedBy: string;
  source: 'operator_api' | 'downlink';
  commandId?: string;
}

export async function storedRules(db: Queryable, tenantId: string, farmId: string): Promise<StoredRule[]> {
  const r = await db.query<{ rule_id: string; spec: AlarmRuleSpec | null }>(
    `SELECT rule_id, spec FROM alarm_rules WHERE tenant_id = $1 AND farm_id = $2 ORDER BY rule_id`,
    [tenantId, farmId],
  );
  return r.rows.map((x) => ({ ruleId: x.rule_id, spec: x.spec }));
}

/** The rules in force at a farm: its defaults as its stored rules change them. */
export async function farmRules(db: Queryable, tenantId: string, farmId: string): Promise<AlarmRuleSpec[]> {
  return effectiveRules(defaultRules(farmId), await storedRules(db, tenantId, farmId));
}

/** Stores a rule (replacing its default or an earlier version). `changed` false when it was already so. */
export async function upsertRule(db: Queryable, tenantId: string, rule: AlarmRuleSpec, change: RuleChange): Promise<{ changed: boolean }> {
  const r = await db.query(
    `INSERT INTO alarm_rules (tenant_id, farm_id, rule_id, spec, deleted_at, updated_by, source, command_id)
     VALUES ($1, $2, $3, $4, NULL, $5, $6, $7)
     ON CONFLICT (tenant_id, farm_id, rule_id) DO UPDATE
       SET spec = EXCLUDED.spec, deleted_at = NULL, updated_by = EXCLUDED.updated_by, source = EXCLUDED.source,
           command_id = EXCLUDED.command_id, updated_at = now()
       WHERE alarm_rules.spec IS DISTINCT FROM EXCLUDED.spec`,
    [tenantId, rule.farm_id, rule.rule_id, JSON.stringify(rule), change.updatedBy, change.source, change.commandId ?? null],
  );
  return { changed: (r.rowCount ?? 0) > 0 };
}

/** Deletes a rule (a default too: the tombstone keeps it deleted). `changed` false when it was already gone. */
export async function deleteRule(db: Queryable, tenantId: string, farmId: string, ruleId: string, change: RuleChange): Promise<{ changed: boolean }> {
  const r = await db.query(
    `INSERT INTO alarm_rules (tenant_id, farm_id, rule_id, spec, deleted_at, updated_by, source, command_id)
     VALUES ($1, $2, $3, NULL, now(), $4, $5, $6)
     ON CONFLICT (tenant_id, farm_id, rule_id) DO UPDATE
       SET spec = NULL, deleted_at = now(), updated_by = EXCLUDED.updated_by, source = EXCLUDED.source,
           command_id = EXCLUDED.command_id, updated_at = now()
       WHERE alarm_rules.deleted_at IS NULL`,
    [tenantId, farmId, ruleId, change.updatedBy, change.source, change.commandId ?? null],
  );
  return { changed: (r.rowCount ?? 0) > 0 };
}

/** One condition's address. */
export interface ConditionKey {
  tenantId: string;
  farmId: string;
  place: string;
  ruleId: string;
}

export const conditionKeyOf = (k: ConditionKey) => `${k.tenantId}|${k.farmId}|${k.place}|${k.ruleId}`;

/** The stored conditions of these keys (absent ones are normal). */
export async function loadConditions(db: Queryable, keys: readonly ConditionKey[]): Promise<Map<string, ConditionState>> {
  const out = new Map<string, ConditionState>();
  if (keys.length === 0) return out;
  const r = await db.query<{ tenant_id: string; farm_id: string; place: string; rule_id: string; state: ConditionState }>(
    `SELECT c.tenant_id::text, c.farm_id, c.place, c.rule_id, c.state
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS k(tenant_id, farm_id, place, rule_id)
       JOIN alarm_conditions c USING (tenant_id, farm_id, place, rule_id)`,
    [keys.map((k) => k.tenantId), keys.map((k) => k.farmId), keys.map((k) => k.place), keys.map((k) => k.ruleId)],
  );
  for (const row of r.rows) out.set(conditionKeyOf({ tenantId: row.tenant_id, farmId: row.farm_id, place: row.place, ruleId: row.rule_id }), row.state);
  return out;
}

/** The conditions of a farm not in the normal phase (the sweep clears those whose rule is gone). */
export async function openConditions(db: Queryable, tenantId: string, farmId: string): Promise<(ConditionKey & { state: ConditionState })[]> {
  const r = await db.query<{ place: string; rule_id: string; state: ConditionState }>(
    `SELECT place, rule_id, state FROM alarm_conditions WHERE tenant_id = $1 AND farm_id = $2 AND phase <> 'normal'`,
    [tenantId, farmId],
  );
  return r.rows.map((x) => ({ tenantId, farmId, place: x.place, ruleId: x.rule_id, state: x.state }));
}

/** Writes conditions in one statement (in key order, so two writers never deadlock). */
export async function saveConditions(db: Queryable, rows: readonly (ConditionKey & { state: ConditionState })[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => (conditionKeyOf(a) < conditionKeyOf(b) ? -1 : 1));
  await db.query(
    `INSERT INTO alarm_conditions (tenant_id, farm_id, place, rule_id, phase, state)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
     ON CONFLICT (tenant_id, farm_id, place, rule_id) DO UPDATE
       SET phase = EXCLUDED.phase, state = EXCLUDED.state, updated_at = now()`,
    [
      sorted.map((k) => k.tenantId),
      sorted.map((k) => k.farmId),
      sorted.map((k) => k.place),
      sorted.map((k) => k.ruleId),
      sorted.map((k) => k.state.phase),
      sorted.map((k) => JSON.stringify(compactCondition(k.state))),
    ],
  );
}
