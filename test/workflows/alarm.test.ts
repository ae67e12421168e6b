/**
 * The alarm workflow (farmAlarm) on the time-skipping test server, with its real activities on an
 * edge database of its own (farmiq_edge_alarm_wf): each step's time and the events it appended to
 * sync_outbox, acknowledgement mid-ladder, a clear before any acknowledgement, a repeated raise,
 * reminders and continue-as-new, and a worker restart mid-ladder. The siren is a fake here (the
 * real broker and webhook are in test/activities/alarm-delivery.test.ts); the cloud's
 * reachability is set per test.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import { acknowledgeAlarm, type AlarmSignaller } from '../../alarms/acknowledge';
import {
  acknowledgeSignal,
  alarmStateQuery,
  alarmWorkflowType,
  clearSignal,
  raiseSignal,
  type AlarmInput,
  type AlarmRaise,
  type EscalationLadder,
} from '../../alarms/alarm-contract';
import { alarmHistory, getAlarm } from '../../alarms/alarm-store';
import type { SirenMessage } from '../../alarms/local-channels/mqtt-siren';
import { alarmEventId } from '../../alarms/alarm-events';
import { farmiqSearchAttributes, farmiqStatus } from '../../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { uuidV5 } from '../../domain/ids';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';
import { recordHistory } from '../support/record-history';
import { temporalTestServerPath } from '../support/stack';
import { until } from '../support/until';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let pool: Pool;
let cloudReachable = true;
const sirens: { topic: string; message: SirenMessage }[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  pool = await openSyncTestDatabase('alarm-workflow-test', edgeTestDatabaseUrl('alarm_wf'));
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
  await pool?.end();
});

const started = new Set<string>();
beforeEach(() => {
  cloudReachable = true;
  sirens.length = 0;
});
// A test that failed half-way leaves no open alarm behind: its timers would fire for a worker
// that is gone and hold the test server's time skipping for every later test.
afterEach(async () => {
  for (const id of started)
    await env.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  started.clear();
});

function activities() {
  return createAlarmActivities({
    pool,
    cloudGraceSeconds: 120,
    reachability: async () => ({ reachable: cloudReachable }),
    local: {
      siren: {
        async publish(topic, message) {
          sirens.push({ topic, message });
        },
        async close() {},
      },
    },
  });
}

/** cached: false, no sticky queue (the test server keeps a gone worker's sticky tasks on its own clock). */
function newWorker(taskQueue: string, opts: { cached?: boolean } = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: activities(),
    ...(opts.cached === false ? { maxCachedWorkflows: 0 } : {}),
  });
}

async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `alarm-test-${randomUUID()}`;
  const worker = await newWorker(taskQueue);
  return worker.runUntil(fn(taskQueue));
}

const ladder: EscalationLadder = {
  steps: [
    { afterSeconds: 0, channels: ['in_app', 'push'], recipients: ['role:admin'] },
    { afterSeconds: 300, channels: ['sms'], recipients: ['role:admin'] },
    { afterSeconds: 900, channels: ['sms', 'email'], recipients: ['role:admin', 'user:ana@farm.example'] },
  ],
};

class Alarm {
  readonly tenantId = randomUUID();
  readonly farmId = 'farm-1';
  readonly barnId = 'barn-2';
  readonly ruleId = `temp-high-${randomUUID().slice(0, 6)}`;
  readonly workflowId = alarmWorkflowId(this.tenantId, this.farmId, this.barnId, this.ruleId);
  raise!: AlarmRaise;

  constructor(
    private readonly taskQueue: string,
    private readonly ladderOf: EscalationLadder = ladder,
  ) {}

  /** A raise as the evaluator makes it (raisedAt: now on the test server's clock). */
  async raiseAt(conditionSince = 'cond-1'): Promise<AlarmRaise> {
    const raisedAt = new Date(await env.currentTimeMs()).toISOString();
    return {
      alarmId: uuidV5(`${this.workflowId}|${conditionSince}`),
      ruleKind: 'limit',
      severity: 'critical',
      metric: 'temperature',
      value: 35.2,
      threshold: 29,
      unit: 'C',
      conditionSince: raisedAt,
      raisedAt,
      summary: 'Barn 2 temperature 35.2 °C above 29 °C',
      ladder: this.ladderOf,
    };
  }

  /** signalWithStart `raise`, as the evaluator does. */
  async start(raise?: AlarmRaise): Promise<WorkflowHandleWithSignaledRunId> {
    this.raise ??= raise ?? (await this.raiseAt());
    started.add(this.workflowId);
    const input: AlarmInput = { tenantId: this.tenantId, farmId: this.farmId, barnId: this.barnId, ruleId: this.ruleId, raise: raise ?? this.raise };
    return env.client.workflow.signalWithStart(alarmWorkflowType, {
      workflowId: this.workflowId,
      taskQueue: this.taskQueue,
      args: [input],
      signal: raiseSignal,
      signalArgs: [raise ?? this.raise],
    });
  }

  get handle() {
    return env.client.workflow.getHandle(this.workflowId);
  }

  async clear() {
    const at = new Date(await env.currentTimeMs()).toISOString();
    return this.handle.signal(clearSignal, { alarmId: this.raise.alarmId, reason: 'condition', value: 27.5, at });
  }

  /** The alarm's events in the outbox, in order. */
  async events(type?: string): Promise<{ event_id: string; event_type: string; priority: number; payload: Record<string, unknown> }[]> {
    const r = await pool.query<{ event_id: string; event_type: string; priority: number; envelope: { payload: Record<string, unknown> } }>(
      `SELECT event_id, event_type, priority, envelope FROM sync_outbox WHERE tenant_id = $1 AND ($2::text IS NULL OR event_type = $2) ORDER BY id`,
      [this.tenantId, type ?? null],
    );
    return r.rows.map((x) => ({ event_id: x.event_id, event_type: x.event_type, priority: x.priority, payload: x.envelope.payload }));
  }

  async escalations(n: number) {
    return until(`${n} alarm.escalated events`, 20_000, async () => {
      const e = await this.events('alarm.escalated');
      return e.length >= n && e;
    });
  }

  /**
   * Whole seconds after the raise each escalation was stamped with (the test server's clock also
   * runs in real time between the skips: the raise and the run's start are some ms apart).
   */
  async stepTimes(): Promise<{ step: unknown; kind: unknown; after: number }[]> {
    const raisedAt = Date.parse(this.raise.raisedAt);
    return (await this.events('alarm.escalated')).map((e) => ({
      step: e.payload.step,
      kind: e.payload.kind,
      after: Math.floor((Date.parse(String(e.payload.escalated_at)) - raisedAt) / 1000),
    }));
  }

  async status() {
    const d = await this.handle.describe();
    return d.typedSearchAttributes.get(farmiqStatus);
  }
}

/**
 * Step 0 runs when the first workflow task does, a moment (a worker starting up) after raisedAt;
 * every later step is on a timer from raisedAt, to the second.
 */
function expectTimes(steps: { after: number }[], expected: number[]): void {
  expect(steps[0].after).toBeLessThan(5);
  expect(steps.slice(1).map((s) => s.after)).toEqual(expected.slice(1));
}

/** The signaller the operator API uses, on the test server's client. */
const signaller: AlarmSignaller = {
  acknowledge: (workflowId, ack) => env.client.workflow.getHandle(workflowId).signal(acknowledgeSignal, ack),
  close: async () => {},
};

describe('farmAlarm', () => {
  test('the ladder step by step: each step at raisedAt + afterSeconds, one alarm.escalated each, then nothing until cleared', async () => {
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue);
      await a.start();
      // Raised and told at once (step 0 is at the raise).
      const first = await a.escalations(1);
      const raised = await a.events('alarm.raised');
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({
        event_id: alarmEventId(a.tenantId, a.raise.alarmId, 'raised'),
        priority: 10,
        payload: { alarm_id: a.raise.alarmId, rule_id: a.ruleId, barn_id: 'barn-2', severity: 'critical', value: 35.2, threshold: 29 },
      });
      expect(first[0].payload).toMatchObject({ step: 0, kind: 'step', channels: ['in_app', 'push'], recipients: ['role:admin'], delivered_locally: [] });
      expect(await a.status()).toBe('raised');

      // Shortly before step 1 nothing more; at 300 s step 1.
      await env.sleep(290_000);
      expect(await a.events('alarm.escalated')).toHaveLength(1);
      await env.sleep(10_000);
      await a.escalations(2);
      await env.sleep(600_000);
      const all = await a.escalations(3);
      expect(all[2].payload).toMatchObject({ step: 2, channels: ['sms', 'email'], recipients: ['role:admin', 'user:ana@farm.example'] });
      const times = await a.stepTimes();
      expect(times.map((t) => [t.step, t.kind])).toEqual([
        [0, 'step'],
        [1, 'step'],
        [2, 'step'],
      ]);
      expectTimes(times, [0, 300, 900]);

      // No reminders in this ladder: an hour later still three.
      await env.sleep(3_600_000);
      expect(await a.events('alarm.escalated')).toHaveLength(3);
      const state = await a.handle.query(alarmStateQuery);
      expect(state).toMatchObject({ state: 'raised', nextStep: 3, alarmId: a.raise.alarmId });
      expect(state.history.map((h) => h.what)).toEqual(['raised', 'escalated', 'escalated', 'escalated']);

      await a.clear();
      const result = await a.handle.result();
      expect(result).toMatchObject({ state: 'cleared', nextStep: 3 });
      expect((await a.events()).map((e) => e.event_type)).toEqual(['alarm.raised', 'alarm.escalated', 'alarm.escalated', 'alarm.escalated', 'alarm.cleared']);
      expect((await a.events('alarm.cleared'))[0].payload).toMatchObject({ reason: 'condition', value: 27.5, acknowledged: false });
      expect(await a.status()).toBe('cleared');
      const row = await getAlarm(pool, a.raise.alarmId);
      expect(row).toMatchObject({ state: 'cleared', lastStep: 2, clearReason: 'condition', workflowId: a.workflowId });
      await recordHistory(a.handle, 'farm-alarm.ladder-then-cleared');
    });
  });

  test('acknowledged mid-ladder: the ladder stops, the acknowledgement is recorded once, a stale one is noted; then the clear', async () => {
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue);
      await a.start();
      await a.escalations(1);
      await env.sleep(300_000);
      await a.escalations(2);

      const commandId = randomUUID();
      const r = await acknowledgeAlarm(pool, signaller, { alarmId: a.raise.alarmId, by: 'ana@farm.example', source: 'dashboard', commandId, note: 'fans on' });
      expect(r.already).toBe(false);
      await until('acknowledged recorded', 20_000, async () => (await a.events('alarm.acknowledged')).length === 1);
      expect(await a.status()).toBe('acknowledged');
      expect((await a.events('alarm.acknowledged'))[0].payload).toMatchObject({
        acknowledged_by: 'ana@farm.example',
        source: 'dashboard',
        command_id: commandId,
        note: 'fans on',
      });
      // The redelivered command, and a second signal straight to the workflow: nothing new.
      expect((await acknowledgeAlarm(pool, signaller, { alarmId: a.raise.alarmId, by: 'ana@farm.example', source: 'dashboard', commandId })).already).toBe(
        true,
      );
      await a.handle.signal(acknowledgeSignal, { alarmId: a.raise.alarmId, by: 'bo', source: 'cli', at: new Date().toISOString() });
      // One naming an earlier alarm under the same id: ignored, and said so in the history.
      const stale = randomUUID();
      await a.handle.signal(acknowledgeSignal, { alarmId: stale, by: 'bo', source: 'cli', at: new Date().toISOString() });
      await until('the stale acknowledgement noted', 20_000, async () =>
        (await alarmHistory(pool, a.raise.alarmId)).some((h) => h.what === 'ignored' && h.detail.includes(stale)),
      );

      // Step 2 (at 900 s) never comes.
      await env.sleep(3_600_000);
      expect(await a.events('alarm.escalated')).toHaveLength(2);
      expect(await a.events('alarm.acknowledged')).toHaveLength(1);

      await a.clear();
      const result = await a.handle.result();
      expect(result).toMatchObject({ state: 'cleared', acknowledgedBy: 'ana@farm.example' });
      expect((await a.events('alarm.cleared'))[0].payload).toMatchObject({ acknowledged: true });
      expect(await getAlarm(pool, a.raise.alarmId)).toMatchObject({
        state: 'cleared',
        acknowledgedBy: 'ana@farm.example',
        acknowledgedVia: 'dashboard',
        acknowledgedCommandId: commandId,
      });
      await recordHistory(a.handle, 'farm-alarm.acknowledged-mid-ladder');
      // Acknowledged it stays, cleared or not: a late acknowledgement is answered as before.
      await expect(acknowledgeAlarm(pool, signaller, { alarmId: a.raise.alarmId, by: 'x', source: 'cli' })).resolves.toMatchObject({ already: true });
    });
  });

  test('cleared before anyone acknowledged: alarm.cleared says so, the ladder ends', async () => {
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue);
      await a.start();
      await a.escalations(1);
      await env.sleep(120_000);
      await a.clear();
      const result = await a.handle.result();
      expect(result.state).toBe('cleared');
      expect((await a.events()).map((e) => e.event_type)).toEqual(['alarm.raised', 'alarm.escalated', 'alarm.cleared']);
      expect((await a.events('alarm.cleared'))[0].payload).toMatchObject({ acknowledged: false });
      await expect(acknowledgeAlarm(pool, signaller, { alarmId: a.raise.alarmId, by: 'x', source: 'cli' })).rejects.toMatchObject({ code: 'alarm_cleared' });
    });
  });

  test('a repeated raise while open is ignored; one naming another alarm is noted', async () => {
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue);
      const h = await a.start();
      await a.escalations(1);
      // The evaluator raising again (a bridge restart re-deriving the same alarm): same run, nothing new.
      const again = await a.start();
      expect(again.signaledRunId).toBe(h.signaledRunId);
      const other = { ...(await a.raiseAt('cond-2')) };
      await a.start(other);
      await until('the other raise noted', 20_000, async () =>
        (await alarmHistory(pool, a.raise.alarmId)).some((x) => x.what === 'ignored' && x.detail.includes(other.alarmId)),
      );
      expect(await a.events('alarm.raised')).toHaveLength(1);
      expect(await getAlarm(pool, other.alarmId)).toBeUndefined();
      const lines = await alarmHistory(pool, a.raise.alarmId);
      expect(lines.filter((x) => x.what === 'ignored')).toHaveLength(1);
      await a.clear();
      await a.handle.result();
    });
  });

  test('reminders every reminderEverySeconds after the last step while unacknowledged; a long loop continues as new without repeating a step', async () => {
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue, { steps: [{ afterSeconds: 0, channels: ['in_app'], recipients: ['role:operator'] }], reminderEverySeconds: 60 });
      const h = await a.start();
      await a.escalations(1);
      await env.sleep(180_000);
      await a.escalations(4);
      const times = (await a.stepTimes()).slice(0, 4);
      expect(times.map((t) => t.kind)).toEqual(['step', 'reminder', 'reminder', 'reminder']);
      expectTimes(times, [0, 60, 120, 180]);
      // 80 reminders: far past the 500 history events after which the run continues as new.
      await env.sleep(77 * 60_000);
      const steps = (await a.escalations(81)).map((e) => e.payload.step);
      expect(steps).toEqual(Array.from({ length: 81 }, (_, i) => i));
      const d = await a.handle.describe();
      expect(d.runId).not.toBe(h.signaledRunId);
      const state = await a.handle.query(alarmStateQuery);
      expect(state).toMatchObject({ state: 'raised', nextStep: 81, raisedAt: a.raise.raisedAt });
      await a.clear();
      expect((await a.handle.result()).state).toBe('cleared');
      expect(await a.events('alarm.raised')).toHaveLength(1);
      expect(await a.events('alarm.cleared')).toHaveLength(1);
    });
  }, 120_000);

  test('cloud unreachable: each step also sounds the siren (retained on), in the event and the history; the clear turns it off', async () => {
    cloudReachable = false;
    await withWorker(async (taskQueue) => {
      const a = new Alarm(taskQueue);
      await a.start();
      const [step0] = await a.escalations(1);
      expect(step0.payload.delivered_locally).toEqual(['mqtt_siren']);
      expect(sirens).toEqual([
        {
          topic: `farmiq/${a.tenantId}/farm-1/barn-2/alarm/siren`,
          message: {
            alarm_id: a.raise.alarmId,
            rule_id: a.ruleId,
            severity: 'critical',
            siren: 'on',
            state: 'raised',
            summary: a.raise.summary,
            alarm_ids: [a.raise.alarmId],
            sounding: 1,
          },
        },
      ]);
      // Back online before step 1: the cloud delivers it, no siren.
      cloudReachable = true;
      await env.sleep(300_000);
      const [, step1] = await a.escalations(2);
      expect(step1.payload.delivered_locally).toEqual([]);
      expect(sirens).toHaveLength(1);
      await a.clear();
      await a.handle.result();
      expect(sirens[1].message).toMatchObject({ siren: 'off', state: 'cleared' });
      const lines = await alarmHistory(pool, a.raise.alarmId);
      expect(lines.filter((l) => l.what === 'delivered_locally').map((l) => l.detail)).toEqual([
        `mqtt_siren: siren on on farmiq/${a.tenantId}/farm-1/barn-2/alarm/siren`,
        `mqtt_siren: siren off on farmiq/${a.tenantId}/farm-1/barn-2/alarm/siren`,
      ]);
    });
  });

  test('a worker restart mid-ladder: the ladder continues on the new worker without repeating or skipping a step', async () => {
    const taskQueue = `alarm-test-${randomUUID()}`;
    const a = new Alarm(taskQueue);
    const first = await newWorker(taskQueue, { cached: false });
    await first.runUntil(async () => {
      await a.start();
      await a.escalations(1);
      await env.sleep(120_000);
    });
    // A new worker process: no cached workflow, it replays the history and waits on the same timer.
    const second = await newWorker(taskQueue, { cached: false });
    await second.runUntil(async () => {
      await env.sleep(180_000);
      await a.escalations(2);
      await env.sleep(600_000);
      await a.escalations(3);
      await a.clear();
      await a.handle.result();
    });
    const steps = await a.stepTimes();
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2]);
    expectTimes(steps, [0, 300, 900]);
    expect((await alarmHistory(pool, a.raise.alarmId)).filter((l) => l.what === 'escalated')).toHaveLength(3);
  });
});
