/**
 * The minute sweep of the time-based rules (alarms/sweep.ts) against the real edge database and
 * the Temporal dev server with the stand-in `farmAlarm`: a sensor silent past its rule raises,
 * its next reading clears, a reading of any metric counts; a barn with a flock, a feed dispenser and
 * no feed raises feed_outage, counted from the later of placement and the dispenser's provisioning,
 * and a barn without a dispenser none; a rule disabled, a revoked sensor, an age band gone with its
 * flock clear the open alarm as rule_removed; time-based alarms carry minutes; the sweep workflow
 * runs the activity.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Pool } from 'pg';
import { alarmStateQuery } from '../../alarms/alarm-contract';
import { defaultRules } from '../../alarms/default-rules';
import type { AlarmClear, AlarmInput } from '../../alarms/alarm-contract';
import type { ConditionSignaller } from '../../alarms/evaluator';
import { saveConditions, upsertRule } from '../../alarms/rule-store';
import { sweepAlarms } from '../../alarms/sweep';
import { createAlarmSweepActivities } from '../../activities/alarms/sweep';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { depopulateFlock, placeFlock } from '../../flocks/flock-store';
import { provisionDevice, revokeDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { alarmSweepSchedule } from '../../temporal/schedules';
import { temporalAddress, testEdgeDatabaseUrl } from '../support/stack';
import { namespace, startAlarmTestTemporal, type AlarmTestTemporal } from './alarm-test-support';

let pool: Pool;
let temporal: AlarmTestTemporal;
const farmId = 'farm-1';
const barnId = 'barn-1';
const minutes = (m: number) => new Date(Date.now() + m * 60_000);

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  temporal = await startAlarmTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
  await pool?.end();
});

async function phaseOf(tenantId: string, place: string, ruleId: string): Promise<string | undefined> {
  const r = await pool.query<{ phase: string }>(`SELECT phase FROM alarm_conditions WHERE tenant_id = $1 AND farm_id = $2 AND place = $3 AND rule_id = $4`, [
    tenantId,
    farmId,
    place,
    ruleId,
  ]);
  return r.rows[0]?.phase;
}

/**
 * A new tenant whose farm has sync_stalled off: the test database's outbox is shared with every
 * other test and holds rows no forwarder sends.
 */
async function newTenant(): Promise<string> {
  const tenantId = randomUUID();
  const stalled = defaultRules(farmId).find((x) => x.rule_id === 'sync-stalled')!;
  await upsertRule(pool, tenantId, { ...stalled, enabled: false }, { updatedBy: 'test', source: 'operator_api' });
  return tenantId;
}

async function newSensor(tenantId: string): Promise<string> {
  const deviceId = `dev-${randomUUID().slice(0, 8)}`;
  await provisionDevice(pool, { tenantId, farmId, barnId, deviceId, kind: 'sensor' });
  return deviceId;
}

async function newFlock(tenantId: string, placedAt: Date): Promise<string> {
  const flockId = randomUUID();
  await placeFlock(
    pool,
    {
      tenant_id: tenantId,
      flock_id: flockId,
      farm_id: farmId,
      barn_id: barnId,
      species: 'broiler',
      breed: 'ross-308',
      head_count: 1000,
      age_at_placement_days: 0,
      placed_at: placedAt.toISOString(),
    },
    { traceId: 'sweep-test', actor: 'test' },
  );
  return flockId;
}

async function rollupAt(tenantId: string, deviceId: string, metric: string, at: Date): Promise<void> {
  const bucket = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
  await pool.query(
    `INSERT INTO telemetry_rollup (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count, value_sum, value_min, value_max)
     VALUES ($1, $2, $3, $4, $5, '1m', $6, 'x', 1, 25, 25, 25)`,
    [tenantId, farmId, barnId, deviceId, metric, bucket],
  );
}

/** A signaller that only records what it would send (no workflow behind it). */
function recordingSignaller(): ConditionSignaller & { raised: AlarmInput[]; cleared: AlarmClear[] } {
  const raised: AlarmInput[] = [];
  const cleared: AlarmClear[] = [];
  return {
    raised,
    cleared,
    raise: async (_id, input) => void raised.push(input),
    clear: async (_id, c) => void cleared.push(c),
  };
}

describe('the alarm sweep', () => {
  it('raises sensor_silent for a sensor silent past 15 minutes and clears it at its next reading', async () => {
    const tenantId = await newTenant();
    const deviceId = await newSensor(tenantId);
    const signaller = temporal.signaller();
    const deps = { pool, signaller };

    // Provisioned just now: 10 minutes on it is not silent yet.
    expect((await sweepAlarms({ ...deps, now: () => minutes(10) }, { tenantIds: [tenantId] })).raised).toBe(0);
    const raised = await sweepAlarms({ ...deps, now: () => minutes(16) }, { tenantIds: [tenantId] });
    expect(raised.raised).toBe(1);
    expect(await phaseOf(tenantId, barnId, 'sensor-silent')).toBe('active');
    const workflowId = alarmWorkflowId(tenantId, farmId, barnId, 'sensor-silent');
    const status = await temporal.client.workflow.getHandle(workflowId).query(alarmStateQuery);
    expect(status).toMatchObject({ ruleId: 'sensor-silent', state: 'raised', severity: 'warning' });

    // A reading at minute 17 (its minute rollup), swept at minute 18: a minute of silence, cleared.
    const bucket = new Date(Math.floor(minutes(17).getTime() / 60_000) * 60_000);
    await pool.query(
      `INSERT INTO telemetry_rollup (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count, value_sum, value_min, value_max)
       VALUES ($1, $2, $3, $4, 'temperature', '1m', $5, 'C', 1, 25, 25, 25)`,
      [tenantId, farmId, barnId, deviceId, bucket],
    );
    const cleared = await sweepAlarms({ ...deps, now: () => minutes(18) }, { tenantIds: [tenantId] });
    expect(cleared.cleared).toBe(1);
    expect(await phaseOf(tenantId, barnId, 'sensor-silent')).toBe('normal');
    expect(await temporal.client.workflow.getHandle(workflowId).result()).toMatchObject({ state: 'cleared' });
  });

  it('raises feed_outage for a barn with a dispenser and no feed for 12 hours, counted from the dispenser, in minutes', async () => {
    const tenantId = await newTenant();
    // The flock came two days ago; the dispenser is provisioned now: the 12 hours count from now.
    await newFlock(tenantId, new Date(Date.now() - 2 * 86_400_000));
    await provisionDevice(pool, { tenantId, farmId, barnId, deviceId: `feeder-${randomUUID().slice(0, 8)}`, kind: 'feed-dispenser' });
    const signaller = recordingSignaller();
    expect((await sweepAlarms({ pool, signaller, now: () => minutes(11 * 60) }, { tenantIds: [tenantId] })).raised).toBe(0);
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(12 * 60 + 3) }, { tenantIds: [tenantId] });
    expect(r.raised).toBe(1);
    expect(await phaseOf(tenantId, barnId, 'feed-outage')).toBe('active');
    // Minutes, as people read them: "723 min (limit 720 min)".
    const raise = signaller.raised[0].raise;
    expect(raise).toMatchObject({ ruleKind: 'feed_outage', threshold: 720, unit: 'min' });
    expect(raise.value).toBeGreaterThanOrEqual(723);
    expect(raise.value).toBeLessThan(724);
    expect(raise.summary).toMatch(/no feed dispensed for 723 min \(limit 720 min\) \(feed-outage\)/);
  });

  it('raises no feed_outage in a barn with a flock and neither a dispenser nor recent feed', async () => {
    const tenantId = await newTenant();
    await newFlock(tenantId, new Date(Date.now() - 2 * 86_400_000));
    const signaller = recordingSignaller();
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(13 * 60) }, { tenantIds: [tenantId] });
    expect(r.raised).toBe(0);
    expect(await phaseOf(tenantId, barnId, 'feed-outage')).toBeUndefined();
  });

  it('counts a reading of any metric as news from a sensor, and a sensor_silent alarm carries minutes', async () => {
    const tenantId = await newTenant();
    const deviceId = await newSensor(tenantId);
    // A metric outside the climate ones (a water meter's flow) at minute 14: not silent at minute 20.
    await rollupAt(tenantId, deviceId, 'water_flow', minutes(14));
    const signaller = recordingSignaller();
    expect((await sweepAlarms({ pool, signaller, now: () => minutes(20) }, { tenantIds: [tenantId] })).raised).toBe(0);
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(31) }, { tenantIds: [tenantId] });
    expect(r.raised).toBe(1);
    expect(signaller.raised[0].raise).toMatchObject({ ruleKind: 'sensor_silent', threshold: 15, unit: 'min', deviceId });
  });

  it('clears an open alarm whose rule was disabled, as rule_removed', async () => {
    const tenantId = await newTenant();
    await newSensor(tenantId);
    const signaller = temporal.signaller();
    expect((await sweepAlarms({ pool, signaller, now: () => minutes(20) }, { tenantIds: [tenantId] })).raised).toBe(1);
    const rule = defaultRules(farmId).find((x) => x.rule_id === 'sensor-silent')!;
    await upsertRule(pool, tenantId, { ...rule, enabled: false }, { updatedBy: 'test', source: 'operator_api' });
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(21) }, { tenantIds: [tenantId] });
    expect(r.cleared).toBe(1);
    expect(await phaseOf(tenantId, barnId, 'sensor-silent')).toBe('normal');
    const ended = await temporal.client.workflow.getHandle(alarmWorkflowId(tenantId, farmId, barnId, 'sensor-silent')).result();
    expect(ended.state).toBe('cleared');
  });

  it('clears an open sensor_silent alarm as rule_removed once its sensor is revoked', async () => {
    const tenantId = await newTenant();
    const deviceId = await newSensor(tenantId);
    const signaller = recordingSignaller();
    expect((await sweepAlarms({ pool, signaller, now: () => minutes(20) }, { tenantIds: [tenantId] })).raised).toBe(1);
    const username = (await pool.query<{ username: string }>('SELECT username FROM edge_devices WHERE tenant_id = $1 AND device_id = $2', [tenantId, deviceId]))
      .rows[0].username;
    expect(await revokeDevice(pool, username)).toBe(true);
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(21) }, { tenantIds: [tenantId] });
    expect(r.cleared).toBe(1);
    expect(signaller.cleared).toEqual([expect.objectContaining({ reason: 'rule_removed', alarmId: signaller.raised[0].raise.alarmId })]);
    expect(await phaseOf(tenantId, barnId, 'sensor-silent')).toBe('normal');
  });

  it('clears an open age-band alarm as rule_removed once the flock left the barn', async () => {
    const tenantId = await newTenant();
    const flockId = await newFlock(tenantId, new Date(Date.now() - 86_400_000));
    const since = new Date(Date.now() - 600_000).toISOString();
    await saveConditions(pool, [
      { tenantId, farmId, place: barnId, ruleId: 'temp-high', state: { phase: 'active', conditionSince: since, alarmId: randomUUID() } },
    ]);
    const signaller = recordingSignaller();
    // The flock is there: its band is the bound, the alarm stays open.
    expect((await sweepAlarms({ pool, signaller, now: () => minutes(1) }, { tenantIds: [tenantId] })).cleared).toBe(0);
    expect(await phaseOf(tenantId, barnId, 'temp-high')).toBe('active');
    await depopulateFlock(pool, flockId, new Date().toISOString(), { traceId: 'sweep-test', actor: 'test' });
    const r = await sweepAlarms({ pool, signaller, now: () => minutes(2) }, { tenantIds: [tenantId] });
    expect(r.cleared).toBe(1);
    expect(signaller.cleared).toEqual([expect.objectContaining({ reason: 'rule_removed' })]);
    expect(await phaseOf(tenantId, barnId, 'temp-high')).toBe('normal');
  });

  it('runs as the schedule does: the sweep workflow calls the activity', async () => {
    const taskQueue = `alarm-sweep-test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: await NativeConnection.connect({ address: temporalAddress }),
      namespace,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
      activities: createAlarmSweepActivities({ pool, signaller: temporal.signaller() }),
    });
    const tenantId = randomUUID();
    const schedule = alarmSweepSchedule({ edgeId: `edge-${tenantId.slice(0, 8)}`, taskQueue });
    const result = await worker.runUntil(
      temporal.client.workflow.execute(schedule.action.workflowType, {
        taskQueue,
        workflowId: `${schedule.action.workflowId}-${randomUUID()}`,
        args: [{ tenantIds: [tenantId] }],
      }),
    );
    expect(result).toEqual({ farms: 0, judged: 0, raised: 0, cleared: 0, failed: 0 });
  });
});
