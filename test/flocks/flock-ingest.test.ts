/**
 * Flock counts, telemetry units and WeighVision batch ids through the real broker and bridge into
 * the real edge database: a mortality counter's day (once, however often it is delivered), the
 * refusals with their reasons, a °F reading stored as °C, and a session whose batch_id is not the
 * barn's flock.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Pool } from 'pg';
import { deviceEventTopic, telemetryTopic, weighVisionTopic, type DeviceAddress, type WeighVisionEvent } from '../../domain/contracts';
import { placeFlock, depopulateFlock } from '../../flocks/flock-store';
import { provisionDevice, type DeviceKind } from '../../gateways/mqtt-bridge/broker/credentials';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import type { SessionSignaller, SignalOutcome, WeighVisionTopic } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { bridgeOptions, countRows, waitForCount } from '../support/bridge';
import { startTestBroker, type TestBroker } from '../support/broker';
import { validEvent } from '../support/events';
import { testEdgeDatabaseUrl } from '../support/stack';

class RecordingSignaller implements SessionSignaller {
  readonly received: WeighVisionEvent[] = [];
  async signal(_topic: WeighVisionTopic, event: WeighVisionEvent): Promise<SignalOutcome> {
    this.received.push(structuredClone(event));
    return 'signalled';
  }
}

const tenantId = randomUUID();
const meta = { traceId: 'trace-flock-test', actor: 'test' };
let pool: Pool;
let broker: TestBroker;
let bridge: MqttBridge;
const signaller = new RecordingSignaller();
const clients: MqttClient[] = [];

async function device(kind: DeviceKind, barnId = 'barn-1'): Promise<{ address: DeviceAddress; client: MqttClient }> {
  const address = { tenantId, farmId: 'farm-1', barnId, deviceId: `${kind}-${randomUUID().slice(0, 6)}` };
  const creds = await provisionDevice(pool, { ...address, kind });
  await broker.reload();
  const client = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 5, clientId: `dev-${randomUUID().slice(0, 8)}` });
  clients.push(client);
  return { address, client };
}

function mortality(address: DeviceAddress, payload: Record<string, unknown>, ts = '2026-03-02T20:00:00Z') {
  return validEvent('flock.mortality.recorded', { tenant_id: tenantId, device_id: address.deviceId, ts, payload });
}

async function publish(client: MqttClient, topic: string, event: unknown): Promise<void> {
  await client.publishAsync(topic, JSON.stringify(event), { qos: 1 });
}

async function rejectsOf(deviceId: string) {
  const r = await pool.query<{ reason: string; detail: string }>(
    'SELECT reason, detail FROM ingress_rejects WHERE tenant_id = $1 AND device_id = $2 ORDER BY id',
    [tenantId, deviceId],
  );
  return r.rows;
}

async function newFlock(barnId: string) {
  const flockId = randomUUID();
  await placeFlock(
    pool,
    {
      tenant_id: tenantId,
      flock_id: flockId,
      farm_id: 'farm-1',
      barn_id: barnId,
      placed_at: '2026-03-01T06:00:00Z',
      species: 'broiler',
      breed: 'ross-308',
      sex: 'mixed',
      head_count: 20000,
      age_at_placement_days: 0,
    },
    meta,
  );
  return flockId;
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
  bridge = new MqttBridge({ ...bridgeOptions(broker), sessions: signaller }, pino({ level: 'silent' }));
  await bridge.start();
});

afterAll(async () => {
  for (const c of clients) await c.endAsync();
  await bridge?.stop();
  await broker?.stop();
  for (const table of ['ingress_rejects', 'telemetry_raw', 'telemetry_rollup', 'sync_outbox', 'flocks', 'ingress_dedupe']) {
    await pool.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
  }
  await pool?.end();
});

test('a mortality counter records its day once however often it is delivered, and a later count of the day replaces it', async () => {
  const flockId = await newFlock('barn-1');
  const { address, client } = await device('mortality-counter');
  const topic = deviceEventTopic(address, 'flock.mortality.recorded');
  // The device claims to be an operator: the channel decides (MQTT is a device).
  const first = mortality(address, { flock_id: flockId, day: '2026-03-02', dead: 25, culled: 5, reason: 'leg problems', source: 'operator' });
  await publish(client, topic, first);
  await publish(client, topic, first); // QoS 1 redelivery / a resend of the same event
  await waitForCount(() => countRows(pool, 'sync_outbox', tenantId, `AND event_type = 'flock.mortality.recorded'`), 1);
  // Once both copies are through, a later count of the same day (its running total grew by 3 deaths).
  const later = mortality(address, { flock_id: flockId, day: '2026-03-02', dead: 28, culled: 5 }, '2026-03-02T23:00:00Z');
  await publish(client, topic, later);
  await waitForCount(() => countRows(pool, 'sync_outbox', tenantId, `AND event_type = 'flock.mortality.recorded'`), 2);

  const days = await pool.query(
    "SELECT to_char(day, 'YYYY-MM-DD') AS day, source, dead, culled, event_id::text, device_id FROM flock_daily_counts WHERE flock_id = $1",
    [flockId],
  );
  expect(days.rows).toEqual([{ day: '2026-03-02', source: 'device', dead: 28, culled: 5, event_id: later.event_id, device_id: address.deviceId }]);
  const outbox = await pool.query(
    `SELECT event_id::text, envelope FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'flock.mortality.recorded' ORDER BY id`,
    [tenantId],
  );
  expect(outbox.rows.map((r) => r.event_id)).toEqual([first.event_id, later.event_id]);
  expect(outbox.rows[0].envelope).toEqual({ ...first, farm_id: 'farm-1', barn_id: 'barn-1', payload: { ...first.payload, source: 'device' } });
  expect(await rejectsOf(address.deviceId)).toEqual([]);
});

test("counts for an unknown flock, another barn's flock or a depopulated flock are quarantined with their reasons; a good count beside them goes through", async () => {
  const here = await newFlock('barn-2');
  const elsewhere = await newFlock('barn-3');
  const gone = await newFlock('barn-4');
  await depopulateFlock(pool, gone, '2026-03-03T06:00:00Z', meta);
  const { address, client } = await device('mortality-counter', 'barn-2');
  const { address: goneAddress, client: goneClient } = await device('mortality-counter', 'barn-4');
  const unknown = randomUUID();

  await publish(
    client,
    deviceEventTopic(address, 'flock.mortality.recorded'),
    mortality(address, { flock_id: unknown, day: '2026-03-02', dead: 1, culled: 0 }),
  );
  await publish(
    client,
    deviceEventTopic(address, 'flock.mortality.recorded'),
    mortality(address, { flock_id: elsewhere, day: '2026-03-02', dead: 1, culled: 0 }),
  );
  await publish(client, deviceEventTopic(address, 'flock.mortality.recorded'), mortality(address, { flock_id: here, day: '2026-02-27', dead: 1, culled: 0 }));
  await publish(client, deviceEventTopic(address, 'flock.mortality.recorded'), mortality(address, { flock_id: here, day: '2026-03-02', dead: 12, culled: 0 }));
  await publish(
    goneClient,
    deviceEventTopic(goneAddress, 'flock.mortality.recorded'),
    mortality(goneAddress, { flock_id: gone, day: '2026-03-02', dead: 4, culled: 0 }),
  );

  await waitForCount(async () => (await rejectsOf(address.deviceId)).length + (await rejectsOf(goneAddress.deviceId)).length, 4);
  expect((await rejectsOf(address.deviceId)).map((r) => r.reason)).toEqual(['unknown_flock', 'flock_barn_mismatch', 'flock_day_out_of_range']);
  expect((await rejectsOf(goneAddress.deviceId)).map((r) => r.reason)).toEqual(['flock_depopulated']);
  await waitForCount(() => countRows(pool, 'flock_daily_counts', tenantId, `AND flock_id = '${here}'`), 1);
  const days = await pool.query('SELECT flock_id::text, dead FROM flock_daily_counts WHERE tenant_id = $1 AND flock_id = ANY($2::uuid[])', [
    tenantId,
    [here, elsewhere, gone],
  ]);
  expect(days.rows).toEqual([{ flock_id: here, dead: 12 }]);
});

test('a refused count leaves no dedupe row: sent again once its flock is placed, it is taken', async () => {
  const { address, client } = await device('mortality-counter', 'barn-5');
  const flockId = randomUUID();
  const event = mortality(address, { flock_id: flockId, day: '2026-03-02', dead: 3, culled: 1 });
  const topic = deviceEventTopic(address, 'flock.mortality.recorded');
  await publish(client, topic, event);
  await waitForCount(async () => (await rejectsOf(address.deviceId)).length, 1);
  await placeFlock(
    pool,
    {
      tenant_id: tenantId,
      flock_id: flockId,
      farm_id: 'farm-1',
      barn_id: 'barn-5',
      placed_at: '2026-03-01T06:00:00Z',
      species: 'broiler',
      breed: 'cobb-500',
      head_count: 18000,
      age_at_placement_days: 0,
    },
    meta,
  );
  await publish(client, topic, event);
  await waitForCount(() => countRows(pool, 'flock_daily_counts', tenantId, `AND flock_id = '${flockId}'`), 1);
  expect((await rejectsOf(address.deviceId)).map((r) => r.reason)).toEqual(['unknown_flock']);
});

test('a °F reading is stored in °C with what the sensor sent; a unit the metric does not take is quarantined', async () => {
  const { address, client } = await device('sensor', 'barn-6');
  const fahrenheit = validEvent('telemetry.reading', {
    tenant_id: tenantId,
    device_id: address.deviceId,
    ts: '2026-03-02T10:00:00Z',
    payload: { metric: 'temperature', value: 82.4, unit: 'F', source_value: undefined, source_unit: undefined },
  });
  const wrong = validEvent('telemetry.reading', {
    tenant_id: tenantId,
    device_id: address.deviceId,
    ts: '2026-03-02T10:00:10Z',
    payload: { metric: 'temperature', value: 26, unit: 'ppm', source_value: undefined, source_unit: undefined },
  });
  await publish(client, telemetryTopic(address, 'temperature'), fahrenheit);
  await publish(client, telemetryTopic(address, 'temperature'), wrong);
  await waitForCount(() => countRows(pool, 'telemetry_raw', tenantId, `AND device_id = '${address.deviceId}'`), 1);
  await waitForCount(async () => (await rejectsOf(address.deviceId)).length, 1);

  // (82.4 − 32) × 5/9 = 28
  const raw = await pool.query('SELECT value, unit, source_value, source_unit FROM telemetry_raw WHERE tenant_id = $1 AND device_id = $2', [
    tenantId,
    address.deviceId,
  ]);
  expect(raw.rows).toEqual([{ value: 28, unit: 'C', source_value: 82.4, source_unit: 'F' }]);
  const outbox = await pool.query(`SELECT envelope FROM sync_outbox WHERE tenant_id = $1 AND event_id = $2`, [tenantId, fahrenheit.event_id]);
  expect(outbox.rows[0].envelope.payload).toEqual({ metric: 'temperature', value: 28, unit: 'C', source_value: 82.4, source_unit: 'F' });
  const rollup = await pool.query(`SELECT unit, value_sum FROM telemetry_rollup WHERE tenant_id = $1 AND device_id = $2 AND bucket_width = '1m'`, [
    tenantId,
    address.deviceId,
  ]);
  expect(rollup.rows).toEqual([{ unit: 'C', value_sum: 28 }]);
  const rejects = await rejectsOf(address.deviceId);
  expect(rejects.map((r) => r.reason)).toEqual(['unit_not_accepted']);
  expect(rejects[0].detail).toContain('"ppm"');
});

test("a session whose batch_id is not the barn's current flock goes on without it and is noted as unknown_flock", async () => {
  const flockId = await newFlock('barn-7');
  const { address, client } = await device('weighvision-station', 'barn-7');
  const session = (batchId: string) => {
    const sessionId = `s-${randomUUID().slice(0, 8)}`;
    const event = validEvent('weighvision.session.created', {
      tenant_id: tenantId,
      device_id: address.deviceId,
      ts: '2026-03-05T09:00:00Z',
      payload: { batch_id: batchId },
    });
    return { topic: weighVisionTopic(address, sessionId, 'created'), event };
  };
  const good = session(flockId);
  const bad = session(randomUUID());
  await publish(client, good.topic, good.event);
  await publish(client, bad.topic, bad.event);
  await waitForCount(async () => signaller.received.filter((e) => e.device_id === address.deviceId).length, 2);
  await waitForCount(async () => (await rejectsOf(address.deviceId)).length, 1);

  const byId = new Map(signaller.received.map((e) => [e.event_id, e]));
  expect(byId.get(good.event.event_id)!.payload).toEqual({ batch_id: flockId });
  expect(byId.get(bad.event.event_id)!.payload).toEqual({});
  const rejects = await rejectsOf(address.deviceId);
  expect(rejects.map((r) => r.reason)).toEqual(['unknown_flock']);
  expect(rejects[0].detail).toContain(bad.event.payload.batch_id!);
});
