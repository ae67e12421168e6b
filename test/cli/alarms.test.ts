/**
 * `farmiq alarms list|show|ack` (the real bin/farmiq) against the edge operator API served here on
 * an edge database of its own (farmiq_edge_alarm_cli): the listing and one alarm's history, an
 * acknowledgement that reaches the alarm's workflow as the CLI's (the signaller records it here;
 * test/http/edge-alarms.test.ts runs the real workflow), and the errors a script branches on.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import type { AlarmSignaller } from '../../alarms/acknowledge';
import type { AlarmAcknowledgement } from '../../alarms/alarm-contract';
import { recordEscalation, recordRaised } from '../../alarms/alarm-store';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';
import { newOperator, serve, unreachableSyncControl, type Served } from '../http/support';
import { farmiq } from './support';

let pool: Pool;
let served: Served;
let env: Record<string, string>;
const signals: { workflowId: string; ack: AlarmAcknowledgement }[] = [];

beforeAll(async () => {
  pool = await openSyncTestDatabase('alarm-cli-test', edgeTestDatabaseUrl('alarm_cli'));
  const signaller: AlarmSignaller = {
    acknowledge: async (workflowId, ack) => {
      signals.push({ workflowId, ack });
    },
    close: async () => {},
  };
  served = await serve(createEdgeOperatorApp({ pool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl(), alarmSignaller: signaller }));
  const operator = await newOperator(pool, 'alarm-cli');
  env = { EDGE_OPERATOR_API_URL: served.url, FARMIQ_OPERATOR_TOKEN: operator.token };
});

afterAll(async () => {
  await served?.close();
  await pool?.end();
});

async function recordAlarm() {
  const at = new Date().toISOString();
  const address = { tenantId: randomUUID(), farmId: 'farm-9', barnId: 'barn-1', ruleId: `temp-low-${randomUUID().slice(0, 6)}` };
  const rung = { afterSeconds: 0, channels: ['in_app' as const], recipients: ['role:operator'] };
  const raise = {
    alarmId: randomUUID(),
    ruleKind: 'limit' as const,
    severity: 'critical' as const,
    conditionSince: at,
    raisedAt: at,
    summary: 'Barn 1 temperature 14 °C below 18 °C',
    ladder: { steps: [rung] },
  };
  await recordRaised(pool, { address, raise, workflowId: `alarm/${address.tenantId}/farm-9/barn-1/${address.ruleId}` });
  await recordEscalation(pool, { address, raise, escalation: { step: 0, kind: 'step', rung, deliveredLocally: [], at }, local: [] });
  return { address, raise };
}

const run = (...args: string[]) => farmiq(args, env);

test('list, show and ack: the acknowledgement reaches the workflow as the CLI’s, with who and the note', async () => {
  const { raise } = await recordAlarm();
  const list = await run('--json', 'alarms', 'list');
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { alarm_id: string; state: string }[]).find((a) => a.alarm_id === raise.alarmId)).toMatchObject({
    state: 'raised',
    severity: 'critical',
  });
  const text = await run('alarms', 'list');
  expect(text.stdout).toContain(raise.alarmId);

  const show = await run('--json', 'alarms', 'show', raise.alarmId);
  expect(show.code).toBe(0);
  expect((JSON.parse(show.stdout) as { history: { what: string }[] }).history.map((h) => h.what)).toEqual(['raised', 'escalated']);

  const ack = await run('--json', 'alarms', 'ack', raise.alarmId, '--by', 'night-shift', '--note', 'heater reset');
  expect([ack.code, JSON.parse(ack.stdout)]).toEqual([0, { alarm_id: raise.alarmId, acknowledged: 'signalled' }]);
  expect(signals.at(-1)).toMatchObject({ ack: { alarmId: raise.alarmId, source: 'cli', note: 'heater reset', by: expect.stringMatching(/^night-shift/) } });
});

test('errors a script can branch on: an unknown alarm, a bad id, no token', async () => {
  const unknown = await run('--json', 'alarms', 'ack', randomUUID());
  expect(unknown.code).toBe(1);
  expect(JSON.parse(unknown.stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'not_found' } });
  const bad = await run('--json', 'alarms', 'show', 'nope');
  expect(JSON.parse(bad.stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'invalid_input' } });
  const noToken = await farmiq(['--json', 'alarms', 'list'], { ...env, FARMIQ_OPERATOR_TOKEN: '' });
  expect(JSON.parse(noToken.stderr.trim().split('\n').at(-1)!)).toMatchObject({
    error: { code: 'invalid_input', message: expect.stringContaining('FARMIQ_OPERATOR_TOKEN') },
  });
});
