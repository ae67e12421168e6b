/**
 * cloud-alarm-service against the real servers: the farm server's alarm events go through signed
 * HTTP ingestion → ingestion_outbox → the relay → RabbitMQ (farmiq_test vhost, this file's own
 * exchange and queues) → the consumer → the cloud alarm tables; an escalation step becomes
 * notifications (notifications/send.ts) that the delivery worker delivers to a real SMTP server.
 * Events are also published straight to the exchange the way the relay publishes them, to
 * redeliver one or to send them out of order.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { CloudConsumers } from '../../cloud/consumers/cloud-consumers';
import { alarmService } from '../../cloud/consumers/alarm-service';
import { messageOf, OutboxRelay } from '../../cloud/ingestion/outbox-relay';
import { eventCatalog, type EventType } from '../../domain/contracts';
import { AmqpConnection } from '../../messaging/connection';
import { topologyNames } from '../../messaging/topology';
import { EmailChannel } from '../../notifications/channels/email';
import { DeliveryWorker } from '../../notifications/delivery-worker';
import { NotificationQueue } from '../../notifications/queue';
import { logger } from '../../platform/logger';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { startSmtpSink, startTestBroker, type SmtpSink, type TestBroker } from '../notifications/support';
import { deleteTestTopology, testAmqpUrl, testTopologyPrefix, withTestChannel } from '../support/amqp';
import { until } from '../support/until';
import { batchOf, cleanupTenants, edgeEvent, newEdge, postSigned, resultsOf, silentLog, startIngestionServer, type TestEdge, type TestServer } from './support';

const log = logger('test-alarm-service');
const names = topologyNames(testTopologyPrefix('alarms'));

let owner: Pool;
let app: Pool;
let relayConnection: AmqpConnection;
let consumerConnection: AmqpConnection;
let relay: OutboxRelay;
let consumers: CloudConsumers;
let server: TestServer;
let notifyBroker: TestBroker;
let queue: NotificationQueue;
let worker: DeliveryWorker;
let smtp: SmtpSink;
let t: TestTenant;
let other: TestTenant;
let edge: TestEdge;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  t = await seedTenant(owner, 'Alarms');
  other = await seedTenant(owner, 'Alarms other');
  // One farm server syncing for both tenants: each event names its own.
  edge = await newEdge(owner, [t.id, other.id]);
  smtp = await startSmtpSink();
  notifyBroker = await startTestBroker('alarm-notify');
  queue = new NotificationQueue({ connection: notifyBroker.connection, names: notifyBroker.names, deliveryLimit: 5, log });
  worker = new DeliveryWorker({
    pool: owner,
    connection: notifyBroker.connection,
    names: notifyBroker.names,
    deliveryLimit: 5,
    channels: { email: new EmailChannel({ smtpUrl: smtp.url, from: 'FarmIQ <alarms@farmiq.test>', timeoutMs: 5000 }) },
    log,
    policy: { maxAttempts: 3, baseSeconds: 0.01, maxSeconds: 0.05, jitterSeconds: 0 },
    random: () => 0.5,
    concurrency: 2,
    sendTimeoutMs: 5000,
    dispatchIntervalMs: 50,
    redispatchAfterMs: 60_000,
  });
  worker.start();
  relayConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-alarm-relay', log: silentLog, maxBackoffMs: 1000 });
  consumerConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-alarm-consumers', log: silentLog, maxBackoffMs: 1000 });
  relay = new OutboxRelay({ pool: owner, connection: relayConnection, names, deliveryLimit: 3, log: silentLog, sweepIntervalMs: 250, retentionHours: 24 });
  consumers = new CloudConsumers({
    pool: owner,
    connection: consumerConnection,
    names,
    deliveryLimit: 3,
    log: silentLog,
    prefetch: 50,
    batchMax: 20,
    services: [alarmService],
    alarmNotifications: { pool: app, publisher: queue, log: silentLog },
  });
  relay.start();
  consumers.start();
  await until('the alarm consumer subscribed', 30_000, async () => Object.values(consumers.status()).every(Boolean));
  server = await startIngestionServer({ pool: owner, relay });
});

afterAll(async () => {
  await server?.close();
  await consumers?.stop();
  await relay?.stop();
  await worker?.stop();
  await queue?.close();
  await notifyBroker?.close();
  await smtp?.close();
  await relayConnection?.stop();
  await consumerConnection?.stop();
  await deleteTestTopology(names).catch(() => {});
  if (owner) {
    const tenants = [t.id, other.id];
    for (const table of ['alarm_events', 'alarms', 'alarm_acknowledgement_requests'])
      await owner.query(`DELETE FROM ${table} WHERE tenant_id = ANY($1::uuid[])`, [tenants]);
    await owner.query('DELETE FROM notifications WHERE tenant_id = ANY($1::uuid[])', [tenants]).catch(() => {});
    await cleanupTenants(owner, [], [edge.edgeId]).catch(() => {});
  }
  await app?.end();
  await owner?.end();
});

type AlarmType = Extract<EventType, `alarm.${string}`>;

/** An alarm event of the test tenant, as the farm server syncs it. */
function alarmEvent<T extends AlarmType>(type: T, alarmId: string, payload: Record<string, unknown> = {}, tenantId = t.id) {
  return edgeEvent(type, tenantId, { payload: { alarm_id: alarmId, ...payload } } as never);
}

/** Through ingestion, signed by the edge: the relay publishes and the consumer writes. */
async function sync(events: unknown[]): Promise<void> {
  const res = await postSigned(server.base, edge, batchOf(edge, events));
  expect(res.status).toBe(200);
  expect(resultsOf(res).filter((r) => r.status === 'rejected')).toEqual([]);
}

/** Straight to the exchange, exactly as the relay would publish the event's outbox row (a redelivery). */
async function publishAsRelay(events: { event_id: string; tenant_id: string; trace_id: string; event_type: string }[]): Promise<void> {
  await withTestChannel(async (ch) => {
    for (const e of events) {
      const m = messageOf({
        id: '0',
        tenant_id: e.tenant_id,
        event_id: e.event_id,
        routing_key: eventCatalog[e.event_type as EventType].routingKey,
        envelope: JSON.stringify(e),
        trace_id: e.trace_id,
        edge_id: edge.edgeId,
        request_id: null,
        event_type: e.event_type,
      });
      ch.publish(names.exchange, m.routingKey, m.body, { persistent: true, messageId: m.messageId, type: m.type, headers: m.headers });
    }
    await ch.waitForConfirms();
  });
}

interface AlarmRow {
  state: string;
  edge_id: string | null;
  rule_kind: string | null;
  severity: string | null;
  summary: string | null;
  last_step: number | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  cleared_at: Date | null;
  raised_at: Date | null;
}

async function alarmRow(alarmId: string, tenantId = t.id): Promise<AlarmRow | undefined> {
  const { rows } = await owner.query<AlarmRow>(
    `SELECT state, edge_id, rule_kind, severity, summary, last_step, acknowledged_by, acknowledged_at, cleared_at, raised_at
       FROM alarms WHERE tenant_id = $1 AND alarm_id = $2`,
    [tenantId, alarmId],
  );
  return rows[0];
}

async function history(alarmId: string, tenantId = t.id): Promise<{ what: string; detail: string; event_id: string }[]> {
  const { rows } = await owner.query('SELECT what, detail, event_id::text FROM alarm_events WHERE tenant_id = $1 AND alarm_id = $2 ORDER BY at, received_at', [
    tenantId,
    alarmId,
  ]);
  return rows;
}

async function historyOf(alarmId: string, n: number, tenantId = t.id) {
  return until(`${n} history rows of alarm ${alarmId}`, 20_000, async () => {
    const h = await history(alarmId, tenantId);
    return h.length >= n ? h : undefined;
  });
}

async function notificationsOf(alarmId: string, tenantId = t.id) {
  const { rows } = await owner.query<{ channel: string; user_id: string | null; idempotency_key: string; status: string; title: string }>(
    `SELECT channel, user_id::text, idempotency_key, status, title FROM notifications
      WHERE tenant_id = $1 AND data->>'alarm_id' = $2 ORDER BY channel, idempotency_key`,
    [tenantId, alarmId],
  );
  return rows;
}

test('raised then escalated: the cloud keeps the alarm with its edge, and the manager gets the step in the app and by email', async () => {
  const alarmId = randomUUID();
  const raised = alarmEvent('alarm.raised', alarmId);
  const step = alarmEvent('alarm.escalated', alarmId, { step: 1, channels: ['in_app', 'email', 'mqtt_siren'], recipients: ['role:admin'] });
  await sync([raised]);
  await sync([step]);
  const h = await historyOf(alarmId, 2);
  expect(h.map((r) => [r.what, r.event_id])).toEqual([
    ['raised', raised.event_id],
    ['escalated', step.event_id],
  ]);
  expect(await alarmRow(alarmId)).toMatchObject({ state: 'raised', edge_id: edge.edgeId, rule_kind: 'limit', severity: 'critical', last_step: 1 });

  // One notification per (recipient, cloud channel); the farm server's own siren is not the cloud's.
  const sent = await notificationsOf(alarmId);
  expect(sent.map((n) => [n.channel, n.user_id, n.idempotency_key])).toEqual([
    ['email', t.admin.id, `alarm:${alarmId}:1:step:${t.admin.id}:email`],
    ['in_app', t.admin.id, `alarm:${alarmId}:1:step:${t.admin.id}:in_app`],
  ]);
  expect(sent[0].title).toContain('barn-1 temperature 35.2 C');
  const mail = await until('the email at the SMTP server', 20_000, () => smtp.mails.find((m) => m.raw.includes(alarmId) || m.raw.includes('35.2 C')));
  expect(mail.to).toEqual([t.admin.email]);
  expect(h[1].detail).toContain('step 1: in_app, email, mqtt_siren; to role:admin');
});

test('out of order and redelivered: the alarm converges; cleared never goes back to raised and the acknowledgement stays', async () => {
  const alarmId = randomUUID();
  const cleared = alarmEvent('alarm.cleared', alarmId, { cleared_at: '2025-01-01T10:20:00Z' });
  const acked = alarmEvent('alarm.acknowledged', alarmId, { acknowledged_by: 'ana@farm.example', acknowledged_at: '2025-01-01T10:03:00Z' });
  const raised = alarmEvent('alarm.raised', alarmId);
  await sync([cleared]);
  await historyOf(alarmId, 1);
  expect(await alarmRow(alarmId)).toMatchObject({ state: 'cleared', severity: null, summary: null });
  await sync([acked]);
  await historyOf(alarmId, 2);
  await sync([raised]);
  await historyOf(alarmId, 3);
  const row = await alarmRow(alarmId);
  expect(row).toMatchObject({ state: 'cleared', rule_kind: 'limit', severity: 'critical', acknowledged_by: 'ana@farm.example', edge_id: edge.edgeId });
  expect(row?.raised_at?.toISOString()).toBe('2025-01-01T10:00:00.000Z');
  expect(row?.cleared_at?.toISOString()).toBe('2025-01-01T10:20:00.000Z');

  // The relay publishing them all again, and a second acknowledgement (another event): nothing moves.
  const lateAck = alarmEvent('alarm.acknowledged', alarmId, { acknowledged_by: 'someone-else@farm.example', acknowledged_at: '2025-01-01T10:30:00Z' });
  await publishAsRelay([raised, acked, cleared]);
  await sync([lateAck]);
  const h = await historyOf(alarmId, 4);
  expect(h.map((r) => r.what)).toEqual(['raised', 'acknowledged', 'cleared', 'acknowledged']);
  expect(await alarmRow(alarmId)).toMatchObject({ state: 'cleared', acknowledged_by: 'ana@farm.example' });
  expect(row?.acknowledged_at?.toISOString()).toBe('2025-01-01T10:03:00.000Z');

  // A step that comes after the clearing tells nobody, and says so.
  await sync([alarmEvent('alarm.escalated', alarmId, { step: 2, channels: ['in_app', 'email'], recipients: ['role:admin'] })]);
  const after = await historyOf(alarmId, 5);
  expect(after.find((r) => r.what === 'escalated')?.detail).toContain('not sent by the cloud: the alarm was cleared already');
  expect(await notificationsOf(alarmId)).toEqual([]);
  expect(await alarmRow(alarmId)).toMatchObject({ state: 'cleared', last_step: 2 });
});

test('a redelivered escalation sends nothing twice', async () => {
  const alarmId = randomUUID();
  const step = alarmEvent('alarm.escalated', alarmId, { step: 0, channels: ['in_app'], recipients: [`user:${t.operator.email}`] });
  await sync([step]);
  await historyOf(alarmId, 1);
  await publishAsRelay([step, step]);
  // A later event of the same alarm proves the redeliveries were consumed before it.
  await sync([alarmEvent('alarm.cleared', alarmId)]);
  await historyOf(alarmId, 2);
  const sent = await notificationsOf(alarmId);
  expect(sent.map((n) => [n.channel, n.user_id])).toEqual([['in_app', t.operator.id]]);
  expect((await history(alarmId)).map((r) => r.what)).toEqual(['escalated', 'cleared']);
});

test('a hostile alarm event (unknown recipients, the longest summary) is recorded and does not block the next', async () => {
  const hostileId = randomUUID();
  const nextId = randomUUID();
  const summary = `${'Ω'.repeat(499)}!`;
  const recipients = [...Array.from({ length: 48 }, (_, i) => `user:nobody-${i}@elsewhere.example`), 'role:viewer', `user:${t.viewer.email.toUpperCase()}`];
  const hostile = alarmEvent('alarm.escalated', hostileId, { summary, recipients, channels: ['email', 'sms', 'in_app', 'lan_webhook'], step: 10_000 });
  const next = alarmEvent('alarm.raised', nextId);
  await sync([hostile, next]);
  await historyOf(nextId, 1);
  const [h] = await historyOf(hostileId, 1);
  expect(h.detail).toContain('unknown recipient(s): user:nobody-0@elsewhere.example');
  expect(await alarmRow(hostileId)).toMatchObject({ state: 'raised', summary, last_step: 10_000 });
  // The viewer (by role and by email, in another case) is told once per channel: email, sms, in_app.
  const sent = await notificationsOf(hostileId);
  expect(sent.map((n) => [n.channel, n.user_id])).toEqual([
    ['email', t.viewer.id],
    ['in_app', t.viewer.id],
    ['sms', t.viewer.id],
  ]);
  expect(sent[0].title.length).toBeLessThanOrEqual(200);
  const { rows } = await owner.query('SELECT count(*)::int AS n FROM dead_letters WHERE tenant_id = $1', [t.id]);
  expect(rows[0].n).toBe(0);
});

test('in_app with nobody resolved goes to the whole tenant', async () => {
  const alarmId = randomUUID();
  await sync([alarmEvent('alarm.escalated', alarmId, { channels: ['in_app', 'email'], recipients: ['user:gone@elsewhere.example'] })]);
  await historyOf(alarmId, 1);
  const sent = await notificationsOf(alarmId);
  expect(sent.map((n) => [n.channel, n.user_id, n.idempotency_key])).toEqual([['in_app', null, `alarm:${alarmId}:0:step:tenant:in_app`]]);
});

test('across tenants: the same alarm id is two alarms, and a step tells only its own tenant’s users', async () => {
  const alarmId = randomUUID();
  await sync([alarmEvent('alarm.raised', alarmId), alarmEvent('alarm.cleared', alarmId, {}, other.id)]);
  // Tenant B's step names tenant A's admin by email: nobody of tenant A is told (and B's alarm is cleared).
  const step = alarmEvent('alarm.escalated', alarmId, { channels: ['email'], recipients: [`user:${t.admin.email}`, 'role:admin'] }, other.id);
  await sync([step]);
  const h = (await historyOf(alarmId, 2, other.id)).find((r) => r.what === 'escalated');
  expect(await alarmRow(alarmId)).toMatchObject({ state: 'raised' });
  expect(await alarmRow(alarmId, other.id)).toMatchObject({ state: 'cleared' });
  expect((await history(alarmId)).map((r) => r.what)).toEqual(['raised']);
  expect(await notificationsOf(alarmId)).toEqual([]);
  // B's alarm is cleared already in the cloud: its late step is recorded but tells nobody.
  expect(h?.detail).toContain('not sent by the cloud: the alarm was cleared already');
  expect(await notificationsOf(alarmId, other.id)).toEqual([]);
});

test('across tenants: role and email recipients resolve among the event’s tenant only', async () => {
  const alarmId = randomUUID();
  const step = alarmEvent('alarm.escalated', alarmId, { channels: ['in_app'], recipients: [`user:${t.operator.email}`, 'role:admin'] }, other.id);
  await sync([step]);
  const [h] = await historyOf(alarmId, 1, other.id);
  expect(h.detail).toContain(`unknown recipient(s): user:${t.operator.email}`);
  expect((await notificationsOf(alarmId, other.id)).map((n) => [n.channel, n.user_id])).toEqual([['in_app', other.admin.id]]);
  expect(await notificationsOf(alarmId)).toEqual([]);
});
