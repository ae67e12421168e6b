/**
 * The cloud alarm API (gateways/http/alarms/, docs/cloud-alarms.md) through the real HTTP server
 * and the tenant pool (row-level security), every answer checked against the OpenAPI document
 * (serveApi). The alarms are written the way cloud-alarm-service writes them (alarm-store.ts);
 * acknowledging and rule changes must queue downlink commands for the alarm's farm server
 * (edge_commands), and tenant B must neither see nor acknowledge tenant A's alarm.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import {
  recordAcknowledged,
  recordCleared,
  recordEscalated,
  recordRaised,
  type AlarmAcknowledged,
  type AlarmCleared,
  type AlarmEscalated,
  type AlarmEventMeta,
  type AlarmRaised,
} from '../../cloud/alarms/alarm-store';
import { recordOutcomes } from '../../cloud/downlink/command-queue';
import { provisionEdge } from '../../cloud/edges';
import type { AlarmRuleSpec } from '../../domain/downlink/commands';
import { createAlarmsRouter } from '../../gateways/http/alarms/alarms-router';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { validEvent } from '../support/events';
import { serveApi, type ApiServer } from './api-support';

const now = new Date('2026-06-15T12:00:00Z');

let owner: Pool;
let app: Pool;
let server: ApiServer;
let a: TestTenant;
let b: TestTenant;
let edgeA: string;
const farmA = `farm-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  server = await serveApi({ routers: [createAlarmsRouter({ pool: app, now: () => now })] });
  a = await seedTenant(owner, 'Alarms A');
  b = await seedTenant(owner, 'Alarms B');
  edgeA = (await provisionEdge(owner, { edgeId: `test-edge-${randomUUID().slice(0, 8)}`, tenants: [a.id], name: 'jest' })).edgeId;
  await owner.query(`INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, $2, 'Home farm', 'broiler')`, [a.id, farmA]);
});

afterAll(async () => {
  await server.close();
  for (const table of ['alarm_events', 'alarm_acknowledgement_requests', 'alarms', 'edge_commands']) {
    await owner.query(`DELETE FROM ${table} WHERE tenant_id = ANY($1::uuid[])`, [[a.id, b.id]]);
  }
  await owner.query('DELETE FROM edges WHERE edge_id = $1', [edgeA]);
  await Promise.all([owner.end(), app.end()]);
});

interface AlarmPayloads {
  'alarm.raised': AlarmRaised;
  'alarm.escalated': AlarmEscalated;
  'alarm.acknowledged': AlarmAcknowledged;
  'alarm.cleared': AlarmCleared;
}

/** The payload of a valid alarm event of farm A, as the farm server sends it. */
function payloadOf<T extends keyof AlarmPayloads>(type: T, alarmId: string, extra: Record<string, unknown> = {}): AlarmPayloads[T] {
  const event: { payload: unknown } = validEvent(type, { payload: { alarm_id: alarmId, farm_id: farmA, ...extra } } as never);
  return event.payload as AlarmPayloads[T];
}

const meta = (tenantId: string): AlarmEventMeta => ({ tenantId, eventId: randomUUID(), edgeId: edgeA });

/** An alarm of tenant A as the consumer records it: raised, and its first step. */
async function raisedAlarm(tenantId = a.id): Promise<string> {
  const alarmId = randomUUID();
  await recordRaised(owner, meta(tenantId), payloadOf('alarm.raised', alarmId));
  await recordEscalated(owner, meta(tenantId), payloadOf('alarm.escalated', alarmId), { sent: [], unresolved: [], failed: [] });
  return alarmId;
}

async function commandsOf(tenantId: string, type: string) {
  const { rows } = await owner.query<{ command_id: string; edge_id: string; seq: string; payload: Record<string, unknown>; created_by: string }>(
    'SELECT command_id::text, edge_id, seq, payload, created_by FROM edge_commands WHERE tenant_id = $1 AND type = $2 ORDER BY seq',
    [tenantId, type],
  );
  return rows;
}

test('viewers list the open alarms and read one with its history', async () => {
  const alarmId = await raisedAlarm();
  const clearedId = await raisedAlarm();
  await recordCleared(owner, meta(a.id), payloadOf('alarm.cleared', clearedId));

  const open = await server.call('GET', `/api/v1/alarms?farm_id=${farmA}`, { token: a.viewer.token });
  expect(open.status).toBe(200);
  const ids = open.body.items.map((i: { alarm_id: string }) => i.alarm_id);
  expect(ids).toContain(alarmId);
  expect(ids).not.toContain(clearedId);
  expect(open.body.items.find((i: { alarm_id: string }) => i.alarm_id === alarmId)).toEqual({
    alarm_id: alarmId,
    edge_id: edgeA,
    farm_id: farmA,
    barn_id: 'barn-1',
    rule_id: 'temperature-high',
    rule_kind: 'limit',
    severity: 'critical',
    state: 'raised',
    summary: 'barn-1 temperature 35.2 C above 29 C for 2 min',
    value: 35.2,
    threshold: 29,
    unit: 'C',
    condition_since: '2025-01-01T09:58:00.000Z',
    raised_at: '2025-01-01T10:00:00.000Z',
    acknowledged_at: null,
    acknowledged_by: null,
    cleared_at: null,
    last_step: 0,
    pending_acknowledgement: null,
  });

  const all = await server.call('GET', `/api/v1/alarms?farm_id=${farmA}&state=all&limit=500`, { token: a.viewer.token });
  expect(all.body.items.map((i: { alarm_id: string }) => i.alarm_id)).toEqual(expect.arrayContaining([alarmId, clearedId]));
  // Open ones first.
  const states = all.body.items.map((i: { state: string }) => i.state);
  expect(states.indexOf('cleared')).toBeGreaterThan(states.lastIndexOf('raised'));

  const one = await server.call('GET', `/api/v1/alarms/${clearedId}`, { token: a.viewer.token });
  expect(one.status).toBe(200);
  expect(one.body.alarm).toMatchObject({ state: 'cleared', cleared_at: '2025-01-01T10:20:00.000Z' });
  expect(one.body.history.map((h: { what: string }) => h.what)).toEqual(['raised', 'escalated', 'cleared']);
  expect(one.body.history[1].detail).toContain('step 0: in_app, push; to role:operator');

  const bad = await server.call('GET', '/api/v1/alarms?state=closed', { token: a.viewer.token });
  expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_query']);
});

test('acknowledging queues one alarm.acknowledge command for the alarm’s farm server; the alarm turns acknowledged only when the farm server says so', async () => {
  const alarmId = await raisedAlarm();
  const viewer = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: a.viewer.token, body: {} });
  expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);

  const ack = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: a.operator.token, body: { note: 'opening the vents' } });
  expect(ack.status).toBe(202);
  expect(ack.body).toEqual({ command_id: expect.any(String), seq: expect.any(Number), status: 'pending' });
  // A double click is the same command.
  const again = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: a.admin.token, body: {} });
  expect([again.status, again.body.command_id]).toEqual([202, ack.body.command_id]);

  const commands = (await commandsOf(a.id, 'alarm.acknowledge')).filter((c) => c.payload.alarm_id === alarmId);
  expect(commands).toHaveLength(1);
  expect(commands[0]).toMatchObject({ command_id: ack.body.command_id, edge_id: edgeA, created_by: a.operator.email });
  expect(commands[0].payload).toEqual({
    alarm_id: alarmId,
    farm_id: farmA,
    barn_id: 'barn-1',
    rule_id: 'temperature-high',
    acknowledged_by: a.operator.email,
    note: 'opening the vents',
    acknowledged_at: now.toISOString(),
  });

  // Still raised in the cloud, with the command on its way.
  let one = await server.call('GET', `/api/v1/alarms/${alarmId}`, { token: a.viewer.token });
  expect(one.body.alarm.state).toBe('raised');
  expect(one.body.alarm.pending_acknowledgement).toEqual({ command_id: ack.body.command_id, status: 'pending', created_at: expect.any(String) });
  await recordOutcomes(owner, edgeA, [{ command_id: ack.body.command_id, status: 'applied', result: 'acknowledged', applied_at: now.toISOString() }]);
  one = await server.call('GET', `/api/v1/alarms/${alarmId}`, { token: a.viewer.token });
  expect(one.body.alarm.pending_acknowledgement.status).toBe('applied');

  // The farm server's alarm.acknowledged event arrives: now it is acknowledged.
  await recordAcknowledged(owner, meta(a.id), payloadOf('alarm.acknowledged', alarmId, { acknowledged_by: a.operator.email, command_id: ack.body.command_id }));
  one = await server.call('GET', `/api/v1/alarms/${alarmId}`, { token: a.viewer.token });
  expect(one.body.alarm).toMatchObject({ state: 'acknowledged', acknowledged_by: a.operator.email, pending_acknowledgement: null });
  const late = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: a.operator.token, body: {} });
  expect([late.status, late.body.error.code]).toEqual([409, 'already_acknowledged']);

  await recordCleared(owner, meta(a.id), payloadOf('alarm.cleared', alarmId));
  const cleared = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: a.operator.token, body: {} });
  expect([cleared.status, cleared.body.error.code]).toEqual([409, 'alarm_cleared']);
});

test('tenant B can neither see nor acknowledge tenant A’s alarm (404), and nothing is queued', async () => {
  const alarmId = await raisedAlarm();
  const list = await server.call('GET', '/api/v1/alarms?state=all&limit=500', { token: b.admin.token });
  expect(list.status).toBe(200);
  expect(list.body.items.map((i: { alarm_id: string }) => i.alarm_id)).not.toContain(alarmId);
  const listByFarm = await server.call('GET', `/api/v1/alarms?farm_id=${farmA}&state=all`, { token: b.viewer.token });
  expect([listByFarm.status, listByFarm.body.error.code]).toEqual([404, 'farm_not_found']);
  const one = await server.call('GET', `/api/v1/alarms/${alarmId}`, { token: b.admin.token });
  expect([one.status, one.body.error.code]).toEqual([404, 'alarm_not_found']);
  const ack = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: b.admin.token, body: {} });
  expect([ack.status, ack.body.error.code]).toEqual([404, 'alarm_not_found']);
  expect(await commandsOf(b.id, 'alarm.acknowledge')).toEqual([]);
  expect((await commandsOf(a.id, 'alarm.acknowledge')).filter((c) => c.payload.alarm_id === alarmId)).toEqual([]);
});

test('an admin changes a rule: alarm_rule.upsert for the farm’s farm server; others are refused', async () => {
  const ruleId = `rule-${randomUUID().slice(0, 8)}`;
  const rule: AlarmRuleSpec = {
    rule_id: ruleId,
    farm_id: farmA,
    kind: 'limit',
    enabled: true,
    severity: 'critical',
    metric: 'temperature',
    bound: 'max',
    threshold: 31,
    raise_delay_seconds: 120,
    clear_delay_seconds: 300,
    hysteresis: 1,
    ladder: { steps: [{ after_seconds: 0, channels: ['in_app', 'email'], recipients: ['role:admin'] }], reminder_every_seconds: 1800 },
  };
  const path = `/api/v1/farms/${farmA}/alarm-rules/${ruleId}`;
  const operator = await server.call('PUT', path, { token: a.operator.token, body: rule });
  expect([operator.status, operator.body.error.code]).toEqual([403, 'forbidden']);
  const put = await server.call('PUT', path, { token: a.admin.token, body: rule });
  expect(put.status).toBe(202);
  expect(put.body).toEqual({ command_id: expect.any(String), seq: expect.any(Number) });
  const [command] = (await commandsOf(a.id, 'alarm_rule.upsert')).filter((c) => c.command_id === put.body.command_id);
  expect([command.edge_id, command.payload]).toEqual([edgeA, rule]);

  const mismatch = await server.call('PUT', `/api/v1/farms/${farmA}/alarm-rules/other-rule`, { token: a.admin.token, body: rule });
  expect([mismatch.status, mismatch.body.error.code, mismatch.body.error.field]).toEqual([400, 'invalid_body', 'rule_id']);
  const invalid = await server.call('PUT', path, { token: a.admin.token, body: { ...rule, ladder: { steps: [] } } });
  expect([invalid.status, invalid.body.error.code]).toEqual([400, 'invalid_body']);
  // Tenant B's admin on tenant A's farm: no such farm.
  const foreign = await server.call('PUT', path, { token: b.admin.token, body: rule });
  expect([foreign.status, foreign.body.error.code]).toEqual([404, 'farm_not_found']);
  expect(await commandsOf(b.id, 'alarm_rule.upsert')).toEqual([]);
});

test('an alarm whose farm server the cloud cannot tell is 409 farm_server_unknown', async () => {
  // Tenant B has no farm server at all; its alarm came without an ingested edge.
  const alarmId = randomUUID();
  await recordRaised(owner, { tenantId: b.id, eventId: randomUUID(), edgeId: null }, payloadOf('alarm.raised', alarmId));
  const ack = await server.call('POST', `/api/v1/alarms/${alarmId}/acknowledge`, { token: b.operator.token, body: {} });
  expect([ack.status, ack.body.error.code]).toEqual([409, 'farm_server_unknown']);
});
