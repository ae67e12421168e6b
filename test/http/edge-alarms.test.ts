/**
 * The alarm routes of the edge operator API (gateways/http/alarms/edge-alarms-router.ts) through
 * the real HTTP server, with a real alarm workflow on the time-skipping test server and its real
 * activities on an edge database of its own (farmiq_edge_alarm_http): the operator token, listing
 * and showing with the history, an acknowledgement that reaches the workflow and stops its ladder
 * (recorded with who and how, synced as alarm.acknowledged), its repeat, and the refusals.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import pino from 'pino';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import type { AlarmSignaller } from '../../alarms/acknowledge';
import { acknowledgeSignal, alarmWorkflowType, clearSignal, raiseSignal, type AlarmInput } from '../../alarms/alarm-contract';
import { recordCleared, recordRaised } from '../../alarms/alarm-store';
import { farmiqSearchAttributes } from '../../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';
import { temporalTestServerPath } from '../support/stack';
import { until } from '../support/until';
import { bearer, newOperator, request, serve, unreachableSyncControl, type Served } from './support';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let pool: Pool;
let served: Served;
let operator: { name: string; token: string };
const taskQueue = `edge-alarms-http-${randomUUID()}`;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  pool = await openSyncTestDatabase('edge-alarms-http-test', edgeTestDatabaseUrl('alarm_http'));
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createAlarmActivities({
      pool,
      cloudGraceSeconds: 120,
      reachability: async () => ({ reachable: true }),
      local: { siren: { publish: async () => {}, close: async () => {} } },
    }),
  });
  running = worker.run();
  const signaller: AlarmSignaller = {
    acknowledge: (workflowId, ack) => env.client.workflow.getHandle(workflowId).signal(acknowledgeSignal, ack),
    close: async () => {},
  };
  operator = await newOperator(pool, 'edge-alarms');
  served = await serve(createEdgeOperatorApp({ pool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl(), alarmSignaller: signaller }));
});

afterAll(async () => {
  await served?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
  await pool?.end();
});

const get = (path: string) => request(served.url, 'GET', path, { headers: bearer(operator.token) });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(served.url, 'POST', path, { headers: { 'content-type': 'application/json', ...bearer(operator.token), ...headers }, body: JSON.stringify(body) });

/** An alarm as the evaluator starts it: signalWithStart raise, on a ladder with a step at 5 min. */
async function raiseAlarm() {
  const tenantId = randomUUID();
  const ruleId = `co2-high-${randomUUID().slice(0, 6)}`;
  const workflowId = alarmWorkflowId(tenantId, 'farm-1', 'barn-4', ruleId);
  const raisedAt = new Date(await env.currentTimeMs()).toISOString();
  const raise: AlarmInput['raise'] = {
    alarmId: randomUUID(),
    ruleKind: 'limit',
    severity: 'warning',
    metric: 'co2',
    value: 3400,
    threshold: 3000,
    unit: 'ppm',
    conditionSince: raisedAt,
    raisedAt,
    summary: 'Barn 4 CO2 3400 ppm above 3000 ppm',
    ladder: {
      steps: [
        { afterSeconds: 0, channels: ['in_app'], recipients: ['role:operator'] },
        { afterSeconds: 300, channels: ['sms'], recipients: ['role:admin'] },
      ],
    },
  };
  const handle = await env.client.workflow.signalWithStart(alarmWorkflowType, {
    workflowId,
    taskQueue,
    args: [{ tenantId, farmId: 'farm-1', barnId: 'barn-4', ruleId, raise }],
    signal: raiseSignal,
    signalArgs: [raise],
  });
  await until('the first step recorded', 20_000, async () => (await get(`/api/v1/alarms/${raise.alarmId}`)).body.alarm?.last_step === 0);
  return { tenantId, raise, handle };
}

async function events(tenantId: string, type: string) {
  const r = await pool.query<{ envelope: { payload: Record<string, unknown> } }>(
    'SELECT envelope FROM sync_outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY id',
    [tenantId, type],
  );
  return r.rows.map((x) => x.envelope.payload);
}

test('every alarm route needs an operator token', async () => {
  const id = randomUUID();
  for (const [method, path] of [
    ['GET', '/api/v1/alarms'],
    ['GET', `/api/v1/alarms/${id}`],
    ['POST', `/api/v1/alarms/${id}/acknowledge`],
  ]) {
    const none = await request(served.url, method, path, { headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    expect([path, none.status, none.body.error.code]).toEqual([path, 401, 'operator_unauthenticated']);
  }
});

test('list and show an open alarm; acknowledge it over HTTP: the workflow records it, the ladder stops, a repeat is 200', async () => {
  const { tenantId, raise, handle } = await raiseAlarm();
  const list = await get('/api/v1/alarms');
  expect(list.status).toBe(200);
  expect(list.body.alarms.find((a: { alarm_id: string }) => a.alarm_id === raise.alarmId)).toMatchObject({
    state: 'raised',
    severity: 'warning',
    farm_id: 'farm-1',
    barn_id: 'barn-4',
    value: 3400,
    summary: raise.summary,
    last_step: 0,
  });
  const shown = await get(`/api/v1/alarms/${raise.alarmId}`);
  expect(shown.body.history.map((h: { what: string }) => h.what)).toEqual(['raised', 'escalated']);

  const ack = await post(`/api/v1/alarms/${raise.alarmId}/acknowledge`, { by: 'ana', note: 'vents opened' });
  expect([ack.status, ack.body]).toEqual([202, { alarm_id: raise.alarmId, acknowledged: 'signalled' }]);
  const acked = await until('acknowledged', 20_000, async () => {
    const r = await get(`/api/v1/alarms/${raise.alarmId}`);
    return r.body.alarm.state === 'acknowledged' && r.body;
  });
  expect(acked.alarm).toMatchObject({
    acknowledged_by: `ana (operator ${operator.name})`,
    acknowledged_via: 'operator_api',
    acknowledgement_note: 'vents opened',
  });
  expect(await events(tenantId, 'alarm.acknowledged')).toEqual([
    expect.objectContaining({ alarm_id: raise.alarmId, source: 'operator_api', note: 'vents opened' }),
  ]);

  const again = await post(`/api/v1/alarms/${raise.alarmId}/acknowledge`, { by: 'bo' });
  expect([again.status, again.body.acknowledged, again.body.acknowledged_by]).toEqual([200, 'before', `ana (operator ${operator.name})`]);

  // The 5-minute step never comes.
  await env.sleep(600_000);
  expect(await events(tenantId, 'alarm.escalated')).toHaveLength(1);
  await handle.signal(clearSignal, { alarmId: raise.alarmId, reason: 'condition', at: new Date(await env.currentTimeMs()).toISOString() });
  expect(await handle.result()).toMatchObject({ state: 'cleared', acknowledgedBy: `ana (operator ${operator.name})` });
  expect((await get('/api/v1/alarms')).body.alarms.some((a: { alarm_id: string }) => a.alarm_id === raise.alarmId)).toBe(false);
  expect((await get('/api/v1/alarms?state=all')).body.alarms.find((a: { alarm_id: string }) => a.alarm_id === raise.alarmId)).toMatchObject({
    state: 'cleared',
  });
});

test('the CLI says so (x-farmiq-client: cli): recorded with source cli', async () => {
  const { tenantId, raise, handle } = await raiseAlarm();
  const ack = await post(`/api/v1/alarms/${raise.alarmId}/acknowledge`, { by: operator.name }, { 'x-farmiq-client': 'cli' });
  expect(ack.status).toBe(202);
  await until('alarm.acknowledged', 20_000, async () => (await events(tenantId, 'alarm.acknowledged')).length === 1);
  expect((await events(tenantId, 'alarm.acknowledged'))[0]).toMatchObject({ acknowledged_by: operator.name, source: 'cli' });
  await handle.terminate('test over');
});

test('refusals: unknown alarm 404, bad id 400, missing by 400, a cleared alarm 409, bad query 400', async () => {
  const unknown = randomUUID();
  expect((await get(`/api/v1/alarms/${unknown}`)).body.error.code).toBe('alarm_not_found');
  const r404 = await post(`/api/v1/alarms/${unknown}/acknowledge`, { by: 'x' });
  expect([r404.status, r404.body.error.code]).toEqual([404, 'alarm_not_found']);
  const bad = await get('/api/v1/alarms/not-a-uuid');
  expect([bad.status, bad.body.error.field]).toEqual([400, 'alarmId']);
  const noBy = await post(`/api/v1/alarms/${unknown}/acknowledge`, {});
  expect([noBy.status, noBy.body.error.code, noBy.body.error.field]).toEqual([400, 'invalid_body', 'by']);
  const q = await get('/api/v1/alarms?state=closed');
  expect([q.status, q.body.error.code]).toEqual([400, 'invalid_query']);

  // An alarm recorded and cleared without acknowledgement (its workflow long gone).
  const at = new Date().toISOString();
  const address = { tenantId: randomUUID(), farmId: 'farm-1', ruleId: 'sync-stalled' };
  const raise = {
    alarmId: randomUUID(),
    ruleKind: 'sync_stalled' as const,
    severity: 'warning' as const,
    conditionSince: at,
    raisedAt: at,
    summary: 'no sync for 6 h',
    ladder: { steps: [] },
  };
  await recordRaised(pool, { address, raise, workflowId: alarmWorkflowId(address.tenantId, 'farm-1', undefined, 'sync-stalled') });
  await recordCleared(pool, { address, clear: { alarmId: raise.alarmId, reason: 'condition', at }, acknowledged: false });
  const cleared = await post(`/api/v1/alarms/${raise.alarmId}/acknowledge`, { by: 'x' });
  expect([cleared.status, cleared.body.error.code]).toEqual([409, 'alarm_cleared']);
  expect((await get(`/api/v1/alarms/${raise.alarmId}`)).body.alarm).toMatchObject({ barn_id: null, state: 'cleared', clear_reason: 'condition' });
});
