/**
 * The alarm evaluator against the real edge database and the Temporal dev server (namespace
 * farmiq-edge), with a test worker running a stand-in `farmAlarm` (evaluator-test-workflow.ts):
 * a reading past the limit for the raise delay starts exactly one alarm and the condition is
 * stored; flapping raises one; the clear is signalled; history is ignored; a Temporal outage defers
 * the raise (nothing stored) until it is back; odd readings never throw.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Pool } from 'pg';
import pino from 'pino';
import { alarmStateQuery } from '../../alarms/alarm-contract';
import { AlarmEvaluator, type AcceptedReading, type ConditionSignaller } from '../../alarms/evaluator';
import { upsertRule } from '../../alarms/rule-store';
import type { AlarmRuleSpec } from '../../domain/downlink/commands';
import { farmiqRule, farmiqStatus } from '../../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import { uuidV5 } from '../../domain/ids';
import { startAlarmTestTemporal, testLimitRule, type AlarmTestTemporal } from './alarm-test-support';

const log = pino({ level: 'silent' });
const farmId = 'farm-1';
const barnId = 'barn-1';

let pool: Pool;
let temporal: AlarmTestTemporal;
let client: Client;
const countingSignaller = () => temporal.signaller();
const limitRule = (ruleId: string, over: Partial<AlarmRuleSpec> = {}) => testLimitRule(ruleId, farmId, over);

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  temporal = await startAlarmTestTemporal();
  client = temporal.client;
});

afterAll(async () => {
  await temporal?.stop();
  await pool?.end();
});

async function newFarm(rule: AlarmRuleSpec): Promise<{ tenantId: string; workflowId: string }> {
  const tenantId = randomUUID();
  await upsertRule(pool, tenantId, rule, { updatedBy: 'test', source: 'operator_api' });
  return { tenantId, workflowId: alarmWorkflowId(tenantId, farmId, barnId, rule.rule_id) };
}

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
function reading(tenantId: string, secondsAgo: number, value: number, over: Partial<AcceptedReading> = {}): AcceptedReading {
  return { tenantId, farmId, barnId, deviceId: 'dev-1', metric: 'test_metric', value, unit: 'x', ts: ago(secondsAgo), ...over };
}

async function storedPhase(tenantId: string, ruleId: string): Promise<{ phase: string; state: { alarmId?: string } } | undefined> {
  const r = await pool.query<{ phase: string; state: { alarmId?: string } }>(
    `SELECT phase, state FROM alarm_conditions WHERE tenant_id = $1 AND farm_id = $2 AND place = $3 AND rule_id = $4`,
    [tenantId, farmId, barnId, ruleId],
  );
  return r.rows[0];
}

function evaluator(signaller: ConditionSignaller, retrySeconds = 1) {
  return new AlarmEvaluator(pool, signaller, { liveWindowSeconds: 600, retrySeconds }, log);
}

describe('the alarm evaluator', () => {
  it('raises exactly one alarm once the value has been over the limit for the raise delay, and stores the condition', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('over-limit'));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    const first = await ev.evaluate([reading(tenantId, 300, 31), reading(tenantId, 280, 31.5)]);
    expect(first.raised).toBe(0);
    expect((await storedPhase(tenantId, 'over-limit'))?.phase).toBe('pending_raise');

    const second = await ev.evaluate([reading(tenantId, 200, 32)]);
    expect(second.raised).toBe(1);
    const stored = await storedPhase(tenantId, 'over-limit');
    expect(stored?.phase).toBe('active');

    const handle = client.workflow.getHandle(workflowId);
    const status = await handle.query(alarmStateQuery);
    expect(status.alarmId).toBe(stored?.state.alarmId);
    expect(status).toMatchObject({ tenantId, farmId, barnId, ruleId: 'over-limit', severity: 'critical', state: 'raised' });
    const described = await handle.describe();
    expect(described.type).toBe('farmAlarm');
    expect(described.typedSearchAttributes.get(farmiqRule)).toBe('over-limit');
    expect(described.typedSearchAttributes.get(farmiqStatus)).toBe('raised');

    // Still over: the open alarm is not raised again.
    const third = await ev.evaluate([reading(tenantId, 100, 35), reading(tenantId, 50, 36)]);
    expect(third.raised).toBe(0);
    expect(signaller.raises).toBe(1);
    ev.stop();
  });

  it('raises one alarm for a value flapping at the limit', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('flapping'));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    // 30.4 / 29.6 around 30, every 10 s for 4 minutes, in batches of three readings.
    const readings = Array.from({ length: 24 }, (_, i) => reading(tenantId, 400 - i * 10, i % 2 === 0 ? 30.4 : 29.6));
    for (let i = 0; i < readings.length; i += 3) await ev.evaluate(readings.slice(i, i + 3));
    expect(signaller.raises).toBe(1);
    const status = await client.workflow.getHandle(workflowId).query(alarmStateQuery);
    expect(status.history.filter((h) => h.what === 'raised')).toHaveLength(1);
    expect(status.history.filter((h) => h.what === 'ignored')).toHaveLength(0);
    ev.stop();
  });

  it('signals the clear once the value is back inside for the clear delay, and the alarm ends', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('clears', { raise_delay_seconds: 0 }));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    expect((await ev.evaluate([reading(tenantId, 400, 33)])).raised).toBe(1);
    const raisedId = (await storedPhase(tenantId, 'clears'))?.state.alarmId;
    expect((await ev.evaluate([reading(tenantId, 300, 29.5)])).cleared).toBe(0); // in the band
    expect((await ev.evaluate([reading(tenantId, 200, 28.5)])).cleared).toBe(0); // inside: pending_clear
    expect((await storedPhase(tenantId, 'clears'))?.phase).toBe('pending_clear');
    expect((await ev.evaluate([reading(tenantId, 130, 28)])).cleared).toBe(1);
    expect((await storedPhase(tenantId, 'clears'))?.phase).toBe('normal');
    const result = await client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ state: 'cleared', alarmId: raisedId });

    // Over again: a new alarm, a new run under the same id, with a new alarm id.
    expect((await ev.evaluate([reading(tenantId, 60, 34)])).raised).toBe(1);
    const again = await client.workflow.getHandle(workflowId).query(alarmStateQuery);
    expect(again.alarmId).not.toBe(raisedId);
    ev.stop();
  });

  it('judges the batches that commit while it is busy together, in commit order, and still raises once', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('coalesced', { raise_delay_seconds: 60 }));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    const rounds: number[] = [];
    const judgeRound = ev.evaluate.bind(ev);
    ev.evaluate = (readings) => {
      rounds.push(readings.length);
      return judgeRound(readings);
    };
    // 60 batches as the bridge hands them over, back to back: over the limit from 300 s ago on.
    for (let i = 0; i < 60; i++) ev.submit([reading(tenantId, 300 - i * 5, 31)]);
    await ev.idle();
    // All 60 waited for the first round to begin: one round judged them together.
    expect(rounds).toEqual([60]);
    expect(signaller.raises).toBe(1);
    expect((await storedPhase(tenantId, 'coalesced'))?.phase).toBe('active');
    expect((await client.workflow.getHandle(workflowId).query(alarmStateQuery)).state).toBe('raised');
    ev.stop();
  });

  it('ignores history (older than the live window) and readings dated far in the future', async () => {
    const { tenantId } = await newFarm(limitRule('history', { raise_delay_seconds: 0 }));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    const r = await ev.evaluate([reading(tenantId, 3600, 50), reading(tenantId, 601, 50), reading(tenantId, -3600, 50)]);
    expect(r).toMatchObject({ ignored: 3, raised: 0, judged: 0 });
    expect(await storedPhase(tenantId, 'history')).toBeUndefined();
    expect(signaller.raises).toBe(0);
    ev.stop();
  });

  it('defers a raise while Temporal is away (nothing stored), and sends it once it is back', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('outage', { raise_delay_seconds: 0 }));
    const signaller = countingSignaller();
    signaller.down = true;
    const ev = evaluator(signaller, 1);
    const r = await ev.evaluate([reading(tenantId, 100, 40)]);
    expect(r).toMatchObject({ raised: 0, deferred: 1 });
    // The raise was not taken: the condition is stored as pending, not active.
    expect((await storedPhase(tenantId, 'outage'))?.phase).toBe('pending_raise');
    // Further readings meanwhile do not call Temporal inline; they supersede the deferred raise.
    const during = await ev.evaluate([reading(tenantId, 90, 41)]);
    expect(during.deferred).toBe(1);
    expect(ev.deferredCount).toBe(1);
    signaller.down = false;
    await until('the deferred raise', 15_000, async () => (await storedPhase(tenantId, 'outage'))?.phase === 'active');
    expect(signaller.raises).toBe(1);
    const status = await client.workflow.getHandle(workflowId).query(alarmStateQuery);
    expect(status.alarmId).toBe((await storedPhase(tenantId, 'outage'))?.state.alarmId);
    ev.stop();
  });

  it('a restart after a raise Temporal did not take re-sends it from the stored start, with the same alarm id', async () => {
    const { tenantId, workflowId } = await newFarm(limitRule('restart', { raise_delay_seconds: 0 }));
    const down = countingSignaller();
    down.down = true;
    const before = evaluator(down, 60);
    const first = reading(tenantId, 100, 40);
    expect((await before.evaluate([first])).deferred).toBe(1);
    before.stop(); // the bridge dies with the raise unsent
    expect((await storedPhase(tenantId, 'restart'))?.phase).toBe('pending_raise');

    const after = evaluator(countingSignaller());
    expect((await after.evaluate([reading(tenantId, 50, 41)])).raised).toBe(1);
    const status = await client.workflow.getHandle(workflowId).query(alarmStateQuery);
    expect(status.alarmId).toBe(uuidV5(`${workflowId}|${new Date(Date.parse(first.ts)).toISOString()}`));
    expect((await storedPhase(tenantId, 'restart'))?.state.alarmId).toBe(status.alarmId);
    after.stop();
  });

  it('never throws for odd readings, and judges the sound ones beside them', async () => {
    const { tenantId } = await newFarm(limitRule('odd', { raise_delay_seconds: 0 }));
    const signaller = countingSignaller();
    const ev = evaluator(signaller);
    const odd = [
      reading(tenantId, 10, Number.NaN),
      reading(tenantId, 10, Number.POSITIVE_INFINITY),
      reading(tenantId, 10, 50, { ts: 'not a time' }),
      reading('not/a/tenant', 10, 50),
      reading(tenantId, 10, 50, { barnId: '../x' }),
      reading(tenantId, 10, 50, { metric: 'x'.repeat(10_000) }),
      reading(tenantId, 5, 45),
    ];
    const r = await ev.evaluate(odd);
    expect(r.raised).toBe(1);
    expect(r.ignored).toBe(5);
    // submit() in the background settles too.
    ev.submit(odd);
    await ev.idle();
    expect(signaller.raises).toBe(1);
    ev.stop();
  });
});
