/**
 * Alarm rules: the defaults and how stored rules change them (alarms/rules.ts, default-rules.ts),
 * the edge operator API (gateways/http/alarms/rules-router.ts) against the real edge database,
 * and the downlink's rule commands (alarms/rule-commands.ts) in a transaction of their own.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { defaultRules } from '../../alarms/default-rules';
import { createAlarmRuleHandlers } from '../../alarms/rule-commands';
import { farmRules } from '../../alarms/rule-store';
import { conditionRuleAt, effectiveRules, ruleProblem } from '../../alarms/rules';
import { createPool } from '../../db/pool';
import { inTransaction } from '../../db/transaction';
import { alarmRuleSpec, type AlarmRuleSpec, type EdgeCommand } from '../../domain/downlink/commands';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { CommandRefused } from '../../sync/downlink/handlers';
import { bearer, newOperator, request, serve, unreachableSyncControl, type Served } from '../http/support';
import { testEdgeDatabaseUrl } from '../support/stack';

describe('the default rules', () => {
  const rules = defaultRules('farm-1');

  it('are valid specs each kind can judge, with the EU gas limits and the age band', () => {
    for (const r of rules) {
      expect(alarmRuleSpec.safeParse(r).success).toBe(true);
      expect(ruleProblem(r)).toBeNull();
    }
    expect(rules.find((r) => r.rule_id === 'nh3-high')).toMatchObject({ threshold: 20, bound: 'max' });
    expect(rules.find((r) => r.rule_id === 'co2-high')).toMatchObject({ threshold: 3000, bound: 'max' });
    expect(rules.map((r) => r.kind)).toEqual(
      expect.arrayContaining(['limit', 'rate_of_change', 'sensor_silent', 'feed_outage', 'station_silent', 'sync_stalled']),
    );
    expect(rules.find((r) => r.rule_id === 'temp-high')?.ladder.always_local).toEqual(['mqtt_siren']);
  });

  it('judge temperature against the flock comfort band at its age, and not at all without a flock', () => {
    const high = rules.find((r) => r.rule_id === 'temp-high')!;
    const low = rules.find((r) => r.rule_id === 'temp-low')!;
    // Broilers at day 10: 25–29 °C; at day 30: 18–22 °C (domain/climate/bands.ts).
    expect(conditionRuleAt(high, { barnId: 'b', species: 'broiler', ageDays: 10 })?.threshold).toBe(29);
    expect(conditionRuleAt(low, { barnId: 'b', species: 'broiler', ageDays: 10 })?.threshold).toBe(25);
    expect(conditionRuleAt(high, { barnId: 'b', species: 'broiler', ageDays: 30 })?.threshold).toBe(22);
    expect(conditionRuleAt(high, undefined)).toBeNull();
  });

  it('are replaced by a stored rule of the same id and removed by its tombstone', () => {
    const changed = { ...rules.find((r) => r.rule_id === 'nh3-high')!, threshold: 15 };
    const extra: AlarmRuleSpec = { ...changed, rule_id: 'nh3-barn-2', barn_id: 'barn-2' };
    const effective = effectiveRules(rules, [
      { ruleId: 'nh3-high', spec: changed },
      { ruleId: 'co2-high', spec: null },
      { ruleId: 'nh3-barn-2', spec: extra },
      { ruleId: 'broken', spec: { rule_id: 'broken' } as unknown as AlarmRuleSpec },
    ]);
    expect(effective.find((r) => r.rule_id === 'nh3-high')?.threshold).toBe(15);
    expect(effective.find((r) => r.rule_id === 'co2-high')).toBeUndefined();
    expect(effective.find((r) => r.rule_id === 'nh3-barn-2')).toBeDefined();
    expect(effective.find((r) => r.rule_id === 'broken')).toBeUndefined();
    expect(effective).toHaveLength(rules.length);
  });
});

describe('the alarm rules API and the rule commands', () => {
  let pool: Pool;
  let served: Served;
  let token: string;

  beforeAll(async () => {
    pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-alarm-rules' });
    token = (await newOperator(pool, 'alarm-rules')).token;
    served = await serve(createEdgeOperatorApp({ pool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl() }));
  });

  afterAll(async () => {
    await served?.close();
    await pool?.end();
  });

  const call = (method: string, path: string, body?: unknown, auth = true) =>
    request(served.url, method, path, {
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(auth ? bearer(token) : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('needs an operator token', async () => {
    const tenantId = randomUUID();
    expect((await call('GET', `/api/v1/alarm-rules?tenant_id=${tenantId}&farm_id=farm-1`, undefined, false)).status).toBe(401);
    expect((await call('DELETE', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}&farm_id=farm-1`, undefined, false)).status).toBe(401);
  });

  it('lists the defaults, stores a changed rule, deletes a default, and says which is which', async () => {
    const tenantId = randomUUID();
    const first = await call('GET', `/api/v1/alarm-rules?tenant_id=${tenantId}&farm_id=farm-1`);
    expect(first.status).toBe(200);
    expect(first.body.rules).toHaveLength(defaultRules('farm-1').length);
    expect(first.body.rules.every((r: { source: string }) => r.source === 'default')).toBe(true);

    const nh3 = { ...defaultRules('farm-1').find((r) => r.rule_id === 'nh3-high')!, threshold: 12 };
    const { rule_id: _id, ...withoutId } = nh3;
    const put = await call('PUT', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}`, withoutId);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ changed: true, rule: { rule_id: 'nh3-high', threshold: 12 } });
    expect((await call('PUT', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}`, nh3)).body.changed).toBe(false);

    const del = await call('DELETE', `/api/v1/alarm-rules/co2-high?tenant_id=${tenantId}&farm_id=farm-1`);
    expect(del.body).toMatchObject({ changed: true, rule_id: 'co2-high' });
    expect((await call('DELETE', `/api/v1/alarm-rules/co2-high?tenant_id=${tenantId}&farm_id=farm-1`)).body.changed).toBe(false);

    const after = await call('GET', `/api/v1/alarm-rules?tenant_id=${tenantId}&farm_id=farm-1`);
    expect(after.body.rules.find((r: { rule_id: string }) => r.rule_id === 'nh3-high')).toMatchObject({ threshold: 12, source: 'stored' });
    expect(after.body.rules.find((r: { rule_id: string }) => r.rule_id === 'co2-high')).toBeUndefined();
    expect(after.body.deleted_defaults).toEqual(['co2-high']);
    // Another tenant's farm of the same name keeps its defaults.
    expect((await farmRules(pool, randomUUID(), 'farm-1')).find((r) => r.rule_id === 'co2-high')).toBeDefined();
  });

  it('refuses a malformed rule with its field, a rule its kind cannot judge with 422, and a path/body mismatch', async () => {
    const tenantId = randomUUID();
    const base = defaultRules('farm-1').find((r) => r.rule_id === 'nh3-high')!;
    const bad = await call('PUT', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}`, { ...base, severity: 'loud' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_body' });
    const unjudgeable = await call('PUT', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}`, { ...base, threshold: undefined });
    expect(unjudgeable.status).toBe(422);
    const mismatch = await call('PUT', `/api/v1/alarm-rules/nh3-high?tenant_id=${tenantId}`, { ...base, rule_id: 'other' });
    expect(mismatch.status).toBe(400);
    expect((await call('GET', `/api/v1/alarm-rules?farm_id=farm-1`)).status).toBe(400);
  });

  it('applies alarm_rule.upsert and alarm_rule.delete under the command tenant, and refuses a rule it cannot judge', async () => {
    const tenantId = randomUUID();
    const handlers = createAlarmRuleHandlers();
    const command = (type: string, payload: unknown): EdgeCommand => ({
      command_id: randomUUID(),
      seq: 1,
      tenant_id: tenantId,
      type,
      payload,
      created_at: new Date().toISOString(),
      created_by: 'ana@farm.example',
    });
    const rule = { ...defaultRules('farm-1').find((r) => r.rule_id === 'humidity-high')!, threshold: 75 };
    const stored = await inTransaction(pool, (tx) => handlers['alarm_rule.upsert']!.apply(tx, rule, command('alarm_rule.upsert', rule)));
    expect(stored.result).toBe('stored');
    expect((await farmRules(pool, tenantId, 'farm-1')).find((r) => r.rule_id === 'humidity-high')?.threshold).toBe(75);
    const row = await pool.query(`SELECT source, updated_by FROM alarm_rules WHERE tenant_id = $1 AND rule_id = 'humidity-high'`, [tenantId]);
    expect(row.rows[0]).toEqual({ source: 'downlink', updated_by: 'ana@farm.example' });

    const payload = { rule_id: 'humidity-high', farm_id: 'farm-1' };
    const deleted = await inTransaction(pool, (tx) => handlers['alarm_rule.delete']!.apply(tx, payload, command('alarm_rule.delete', payload)));
    expect(deleted.result).toBe('deleted');
    expect((await farmRules(pool, tenantId, 'farm-1')).find((r) => r.rule_id === 'humidity-high')).toBeUndefined();

    const unjudgeable = { ...rule, threshold: undefined };
    await expect(
      inTransaction(pool, (tx) => handlers['alarm_rule.upsert']!.apply(tx, unjudgeable, command('alarm_rule.upsert', unjudgeable))),
    ).rejects.toBeInstanceOf(CommandRefused);
  });
});
