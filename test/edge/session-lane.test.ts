/**
 * The bridge's WeighVision lane against the real broker (the project's mosquitto config) and the
 * edge database, with a signaller the test controls in place of Temporal (the real one is covered
 * by test/workflows/weighvision-session.test.ts and the end-to-end test):
 * each event becomes one signal; a Temporal outage is retried without holding up telemetry, and the
 * bridge's PUBACK is held until the signal is stored (a bridge that dies meanwhile gets the message
 * again from the broker); a closed session's event is quarantined as session_closed, one for
 * another station's session as session_not_owned; an invalid session message (a session id made
 * only of dots included) is quarantined without reaching the signaller.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Pool } from 'pg';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import type { SessionSignaller, SignalOutcome, WeighVisionTopic } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { telemetryTopic, weighVisionTopic, type DeviceAddress, type WeighVisionEvent } from '../../domain/contracts';
import { bridgeOptions, countRows, waitForCount } from '../support/bridge';
import { startTestBroker, type TestBroker } from '../support/broker';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';

/** A signaller whose next answers the test scripts: an outcome, or an error (Temporal down). */
class ScriptedSignaller implements SessionSignaller {
  readonly received: { topic: WeighVisionTopic; event: WeighVisionEvent }[] = [];
  /** Event ids in the order their signals were stored. */
  readonly stored: string[] = [];
  answers: (SignalOutcome | Error)[] = [];
  /** How long the server takes to store a given event's signal. */
  readonly slow = new Map<string, number>();
  async signal(topic: WeighVisionTopic, event: WeighVisionEvent): Promise<SignalOutcome> {
    this.received.push({ topic, event });
    const next = this.answers.shift() ?? 'signalled';
    await new Promise((r) => setTimeout(r, this.slow.get(event.event_id) ?? 0));
    if (next instanceof Error) throw next;
    this.stored.push(event.event_id);
    return next;
  }
}

let pool: Pool;
let broker: TestBroker;
let bridge: MqttBridge;
let station: MqttClient;
let address: DeviceAddress;
const bridgeClientId = `farmiq-test-bridge-${randomUUID().slice(0, 8)}`;
const signaller = new ScriptedSignaller();

function startBridge(sessions: SessionSignaller): Promise<MqttBridge> {
  const b = new MqttBridge({ ...bridgeOptions(broker, bridgeClientId), sessions }, pino({ level: 'silent' }));
  return b.start().then(() => b);
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
  address = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: `wv-${randomUUID().slice(0, 6)}` };
  const creds = await provisionDevice(pool, { ...address, kind: 'weighvision-station' });
  await broker.reload();
  bridge = await startBridge(signaller);
  station = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 5, clientId: `station-${randomUUID().slice(0, 6)}` });
});

afterAll(async () => {
  await station?.endAsync();
  await bridge?.stop();
  await broker?.stop();
  await pool.query('DELETE FROM ingress_rejects WHERE tenant_id = $1 OR topic LIKE $2', [address.tenantId, `iot/weighvision/${address.tenantId}/%`]);
  await pool.query('DELETE FROM telemetry_raw WHERE tenant_id = $1', [address.tenantId]);
  await pool.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [address.tenantId]);
  await pool?.end();
});

function sessionEvent(type: WeighVisionEvent['event_type'], payload: object) {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: 't',
    event_type: type,
    tenant_id: address.tenantId,
    device_id: address.deviceId,
    ts: new Date().toISOString(),
    payload,
  };
}

const signalsOf = (eventId: string) => signaller.received.filter((r) => r.event.event_id === eventId);

test("a session event becomes one signal on its session, with the topic's address", async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  const event = sessionEvent('weighvision.weight.recorded', { weight_kg: 101.5, stable: true });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'weight.recorded'), JSON.stringify(event), { qos: 1 });
  const got = await until('the signal', 15_000, () => (signalsOf(event.event_id).length > 0 ? signalsOf(event.event_id) : undefined));
  expect(got).toHaveLength(1);
  expect(got[0].topic).toMatchObject({
    family: 'weighvision',
    sessionId,
    step: 'weight.recorded',
    tenantId: address.tenantId,
    farmId: 'farm-1',
    barnId: 'barn-1',
    deviceId: address.deviceId,
  });
  expect(got[0].event.payload).toEqual({ weight_kg: 101.5, stable: true });
});

test("a session's finalized is signalled after its earlier events, even when one is slow to store", async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  const reading = sessionEvent('weighvision.weight.recorded', { weight_kg: 99, stable: true });
  const finalized = sessionEvent('weighvision.session.finalized', { image_count: 0 });
  const otherSession = sessionEvent('weighvision.session.created', {});
  signaller.slow.set(reading.event_id, 300);
  await station.publishAsync(weighVisionTopic(address, sessionId, 'weight.recorded'), JSON.stringify(reading), { qos: 1 });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'finalized'), JSON.stringify(finalized), { qos: 1 });
  await station.publishAsync(weighVisionTopic(address, `${sessionId}-other`, 'created'), JSON.stringify(otherSession), { qos: 1 });
  await until('the finalized stored', 15_000, () => (signaller.stored.includes(finalized.event_id) ? true : undefined));
  const watched: string[] = [reading.event_id, finalized.event_id, otherSession.event_id];
  const order = signaller.stored.filter((id) => watched.includes(id));
  // Another session does not wait behind this one; this one keeps its order.
  expect(order).toEqual([otherSession.event_id, reading.event_id, finalized.event_id]);
});

test('with Temporal down the signal is retried while telemetry goes on, and never acknowledged until stored', async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  signaller.answers = Array.from({ length: 1000 }, () => new Error('Temporal unavailable'));
  const event = sessionEvent('weighvision.session.created', {});
  await station.publishAsync(weighVisionTopic(address, sessionId, 'created'), JSON.stringify(event), { qos: 1 });
  await until('the signal retried', 15_000, () => (signalsOf(event.event_id).length >= 2 ? true : undefined)); // failing, retried

  // Telemetry is not held up behind it.
  const reading = {
    ...sessionEvent('weighvision.session.created', {}),
    event_type: 'telemetry.reading',
    payload: { metric: 'temperature', value: 21, unit: 'C' },
  };
  await station.publishAsync(telemetryTopic(address, 'temperature'), JSON.stringify(reading), { qos: 1 });
  expect(await waitForCount(() => countRows(pool, 'telemetry_raw', address.tenantId), 1)).toBe(1);
  expect(bridge.pipeline.sessions?.status().signalling).toBe(1);

  // The bridge dies while Temporal is still down: no PUBACK was sent, so the broker keeps the
  // message for the bridge's session and hands it to the next bridge, which signals it.
  await bridge.broker.abort();
  await bridge.stop().catch(() => {});
  const failed = signalsOf(event.event_id).length;
  signaller.answers = [];
  bridge = await startBridge(signaller);
  await until('the signal from the next bridge', 15_000, () => (signalsOf(event.event_id).length > failed ? true : undefined));
  expect(signalsOf(event.event_id).length).toBe(failed + 1);
});

test('an event Temporal refuses for what it carries (INVALID_ARGUMENT) is quarantined as temporal_refused at once, not retried', async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  signaller.answers = [Object.assign(new Error('3 INVALID_ARGUMENT: Blob data size exceeds limit.'), { code: 3 })];
  const event = sessionEvent('weighvision.weight.recorded', { weight_kg: 91 });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'weight.recorded'), JSON.stringify(event), { qos: 1 });
  const rows = await until('the temporal_refused reject', 15_000, async () => {
    const r = await pool.query(`SELECT reason, detail FROM ingress_rejects WHERE tenant_id = $1 AND detail LIKE $2`, [address.tenantId, `%${event.event_id}%`]);
    return r.rowCount ? r.rows : undefined;
  });
  expect(rows).toEqual([{ reason: 'temporal_refused', detail: expect.stringContaining('INVALID_ARGUMENT') }]);
  expect(signalsOf(event.event_id)).toHaveLength(1);
  expect(bridge.pipeline.sessions?.status().signalling).toBe(0);
});

test('an event of a closed session is quarantined as session_closed', async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  signaller.answers = ['session_closed'];
  const event = sessionEvent('weighvision.weight.recorded', { weight_kg: 90 });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'weight.recorded'), JSON.stringify(event), { qos: 1 });
  const rows = await until('the session_closed reject', 15_000, async () => {
    const r = await pool.query(`SELECT reason, topic, device_id FROM ingress_rejects WHERE tenant_id = $1 AND detail LIKE $2`, [
      address.tenantId,
      `%${event.event_id}%`,
    ]);
    return r.rowCount ? r.rows : undefined;
  });
  expect(rows).toEqual([{ reason: 'session_closed', topic: weighVisionTopic(address, sessionId, 'weight.recorded'), device_id: address.deviceId }]);
});

test("an event for another station's session is quarantined as session_not_owned, with the sender's topic", async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  signaller.answers = ['session_not_owned'];
  const event = sessionEvent('weighvision.weight.recorded', { weight_kg: 4999, stable: true });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'weight.recorded'), JSON.stringify(event), { qos: 1 });
  const rows = await until('the session_not_owned reject', 15_000, async () => {
    const r = await pool.query(
      `SELECT source, reason, topic, device_id, detail, convert_from(payload, 'UTF8') AS payload FROM ingress_rejects WHERE tenant_id = $1 AND detail LIKE $2`,
      [address.tenantId, `%${event.event_id}%`],
    );
    return r.rowCount ? r.rows : undefined;
  });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    source: 'mqtt',
    reason: 'session_not_owned',
    topic: weighVisionTopic(address, sessionId, 'weight.recorded'),
    device_id: address.deviceId,
  });
  expect(rows[0].detail).toContain(`session ${sessionId} was opened by another station`);
  expect(JSON.parse(rows[0].payload)).toEqual(event);
  expect(bridge.pipeline.sessions?.status().signalling).toBe(0);
});

test('a session id the signaller refuses to build a workflow id from is quarantined as unknown_topic', async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  signaller.answers = ['invalid_address'];
  const event = sessionEvent('weighvision.session.created', {});
  await station.publishAsync(weighVisionTopic(address, sessionId, 'created'), JSON.stringify(event), { qos: 1 });
  const rows = await until('the unknown_topic reject', 15_000, async () => {
    const r = await pool.query(`SELECT reason FROM ingress_rejects WHERE tenant_id = $1 AND topic = $2`, [
      address.tenantId,
      weighVisionTopic(address, sessionId, 'created'),
    ]);
    return r.rowCount ? r.rows : undefined;
  });
  expect(rows).toEqual([{ reason: 'unknown_topic' }]);
});

test('a session id made only of dots never reaches the signaller', async () => {
  const before = signaller.received.length;
  for (const dots of ['.', '..']) {
    const event = sessionEvent('weighvision.session.created', {});
    await station.publishAsync(weighVisionTopic(address, dots, 'created'), JSON.stringify(event), { qos: 1 });
  }
  const rows = await until('both dot-only topics rejected', 15_000, async () => {
    const r = await pool.query(`SELECT topic, reason FROM ingress_rejects WHERE topic IN ($1, $2) ORDER BY id`, [
      weighVisionTopic(address, '.', 'created'),
      weighVisionTopic(address, '..', 'created'),
    ]);
    return r.rowCount === 2 ? r.rows : undefined;
  });
  expect(rows.map((r) => r.reason)).toEqual(['unknown_topic', 'unknown_topic']);
  expect(signaller.received.length).toBe(before);
});

test('an invalid session message is quarantined with its reason and never signalled', async () => {
  const sessionId = `S-${randomUUID().slice(0, 6)}`;
  const before = signaller.received.length;
  const bad = sessionEvent('weighvision.session.finalized', { image_count: -2 });
  await station.publishAsync(weighVisionTopic(address, sessionId, 'finalized'), JSON.stringify(bad), { qos: 1 });
  const wrongType = sessionEvent('weighvision.session.created', {});
  await station.publishAsync(weighVisionTopic(address, sessionId, 'finalized'), JSON.stringify(wrongType), { qos: 1 });
  const reasons = await until('both invalid messages rejected', 15_000, async () => {
    const r = await pool.query(`SELECT reason FROM ingress_rejects WHERE tenant_id = $1 AND topic LIKE $2 ORDER BY id`, [address.tenantId, `%/${sessionId}/%`]);
    return r.rowCount === 2 ? r.rows.map((row) => row.reason) : undefined;
  });
  // Two micro-batches may commit side by side (BRIDGE_COMMIT_CONCURRENCY), so ids need not follow arrival.
  expect([...reasons].sort()).toEqual(['event_type_mismatch', 'schema_violation:payload.image_count']);
  expect(signaller.received.length).toBe(before);
});
