/**
 * Edge ingest against the real broker (the project's mosquitto config) and the real edge
 * database: exactly-once rows, quarantine with reasons, bursts, and a kill -9 of the bridge.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { deviceEventTopic, telemetryTopic, type DeviceAddress } from '../../domain/contracts';
import type { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { startTestBroker, type TestBroker } from '../support/broker';
import { startInProcessBridge, spawnBridgeProcess, waitForCount, countRows } from '../support/bridge';
import { testEdgeDatabaseUrl } from '../support/stack';
import { runDeviceProcess } from '../../bench/support/device-process';

const run = promisify(execFile);

let pool: Pool;
let broker: TestBroker;

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
});

afterAll(async () => {
  await broker?.stop();
  await pool?.end();
});

async function newDevice(kind: 'sensor' | 'feed-dispenser' = 'sensor'): Promise<DeviceAddress & { username: string; password: string }> {
  const address = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: `dev-${randomUUID().slice(0, 8)}` };
  const creds = await provisionDevice(pool, { ...address, kind });
  await broker.reload();
  return { ...address, ...creds };
}

function reading(d: DeviceAddress, overrides: Record<string, unknown> = {}) {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: `trace-${randomUUID()}`,
    event_type: 'telemetry.reading',
    tenant_id: d.tenantId,
    device_id: d.deviceId,
    ts: new Date().toISOString(),
    payload: { metric: 'temperature', value: 26.4, unit: 'C' },
    ...overrides,
  };
}

async function counter(name: string): Promise<number> {
  const metric = (await register.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}

function mosquittoPub(d: { username: string; password: string }, topic: string, message: string) {
  return run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    '-u',
    d.username,
    '-P',
    d.password,
    '-q',
    '1',
    '-V',
    'mqttv311',
    '-t',
    topic,
    '-m',
    message,
  ]);
}

describe('with the bridge running in-process', () => {
  let bridge: MqttBridge;
  beforeAll(async () => {
    bridge = await startInProcessBridge(broker);
  });
  afterAll(async () => {
    await bridge?.stop();
  });

  test('a reading published twice with mosquitto_pub lands once in telemetry_raw and once, pending, in sync_outbox', async () => {
    const d = await newDevice();
    const event = reading(d);
    const topic = telemetryTopic(d, 'temperature');
    const duplicatesBefore = await counter('farmiq_bridge_duplicates_total');

    await mosquittoPub(d, topic, JSON.stringify(event));
    await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 1);
    await mosquittoPub(d, topic, JSON.stringify(event));
    await waitForCount(async () => (await counter('farmiq_bridge_duplicates_total')) - duplicatesBefore, 1);

    const raw = await pool.query('SELECT * FROM telemetry_raw WHERE tenant_id = $1', [d.tenantId]);
    expect(raw.rows).toHaveLength(1);
    expect(raw.rows[0]).toMatchObject({
      event_id: event.event_id,
      farm_id: 'farm-1',
      barn_id: 'barn-1',
      device_id: d.deviceId,
      metric: 'temperature',
      value: 26.4,
      unit: 'C',
      trace_id: event.trace_id,
    });
    const outbox = await pool.query('SELECT status, event_type, envelope, attempt_count FROM sync_outbox WHERE tenant_id = $1', [d.tenantId]);
    expect(outbox.rows).toEqual([
      { status: 'pending', event_type: 'telemetry.reading', envelope: { ...event, farm_id: 'farm-1', barn_id: 'barn-1' }, attempt_count: 0 },
    ]);
    expect(await countRows(pool, 'ingress_dedupe', d.tenantId)).toBe(1);
    expect((await counter('farmiq_bridge_duplicates_total')) - duplicatesBefore).toBe(1);
    // The reading also counts in its minute and hour rollups, once.
    const rollups = await pool.query('SELECT bucket_width, reading_count, value_sum FROM telemetry_rollup WHERE tenant_id = $1 ORDER BY bucket_width', [
      d.tenantId,
    ]);
    expect(rollups.rows).toEqual([
      { bucket_width: '1h', reading_count: '1', value_sum: 26.4 },
      { bucket_width: '1m', reading_count: '1', value_sum: 26.4 },
    ]);
  });

  test('feed.dispensed becomes feed_intake_local + feed_intake_dedupe + an outbox feed.intake.recorded, once', async () => {
    const d = await newDevice('feed-dispenser');
    const dispensed = {
      schema_version: '1.0',
      event_id: randomUUID(),
      trace_id: 'trace-feed-1',
      event_type: 'feed.dispensed',
      tenant_id: d.tenantId,
      device_id: d.deviceId,
      ts: '2026-11-27T06:00:00Z',
      payload: { quantity_kg: 12.5, feed_type: 'grower', silo_id: 'silo-2', animal_count: 480 },
    };
    const client = await mqtt.connectAsync(broker.url, { username: d.username, password: d.password, protocolVersion: 5 });
    await client.publishAsync(deviceEventTopic(d, 'feed.dispensed'), JSON.stringify(dispensed), { qos: 1 });
    await client.publishAsync(deviceEventTopic(d, 'feed.dispensed'), JSON.stringify(dispensed), { qos: 1 });
    await client.endAsync();
    await waitForCount(() => countRows(pool, 'feed_intake_local', d.tenantId), 1);
    await new Promise((r) => setTimeout(r, 300)); // give a wrongly accepted duplicate time to show up

    const local = await pool.query('SELECT * FROM feed_intake_local WHERE tenant_id = $1', [d.tenantId]);
    expect(local.rows).toHaveLength(1);
    expect(local.rows[0]).toMatchObject({
      source_event_id: dispensed.event_id,
      quantity_kg: '12.500',
      feed_type: 'grower',
      silo_id: 'silo-2',
      animal_count: 480,
      trace_id: 'trace-feed-1',
    });
    expect(await countRows(pool, 'feed_intake_dedupe', d.tenantId)).toBe(1);
    const outbox = await pool.query('SELECT event_id, event_type, status, envelope FROM sync_outbox WHERE tenant_id = $1', [d.tenantId]);
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0]).toMatchObject({ event_id: local.rows[0].event_id, event_type: 'feed.intake.recorded', status: 'pending' });
    expect(outbox.rows[0].envelope.payload).toMatchObject({
      source_event_id: dispensed.event_id,
      farm_id: 'farm-1',
      barn_id: 'barn-1',
      quantity_kg: 12.5,
      dispensed_at: '2026-11-27T06:00:00Z',
    });
  });

  test('bad messages are quarantined with their reason and raw bytes, and never block the good one behind them', async () => {
    const d = await newDevice();
    const other = randomUUID();
    const topic = telemetryTopic(d, 'temperature');
    const good = reading(d);
    const client = await mqtt.connectAsync(broker.url, { username: d.username, password: d.password, protocolVersion: 5 });
    await client.publishAsync(topic, '{not json', { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(reading(d, { tenant_id: other })), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(reading(d, { payload: { metric: 'temperature', value: 'hot', unit: 'C' } })), { qos: 1 });
    await client.publishAsync(topic, Buffer.alloc(70 * 1024, 0x20), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(good), { qos: 1 });
    await client.endAsync();

    await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 1);
    await waitForCount(async () => Number((await pool.query(`SELECT count(*) FROM ingress_rejects WHERE tenant_id = $1`, [d.tenantId])).rows[0].count), 4);
    const rejects = await pool.query('SELECT reason, topic, payload, payload_size, device_id FROM ingress_rejects WHERE tenant_id = $1 ORDER BY id', [
      d.tenantId,
    ]);
    expect(rejects.rows.map((r) => r.reason)).toEqual(['invalid_json', 'tenant_mismatch', 'schema_violation:payload.value', 'payload_too_large']);
    expect(rejects.rows[0].payload.toString()).toBe('{not json');
    expect(rejects.rows[3].payload_size).toBe(70 * 1024);
    expect(rejects.rows.every((r) => r.topic === topic && r.device_id === d.deviceId)).toBe(true);
    // Nothing of the rejected tenant reached the domain tables.
    expect(await countRows(pool, 'telemetry_raw', other)).toBe(0);
    expect((await pool.query('SELECT event_id FROM telemetry_raw WHERE tenant_id = $1', [d.tenantId])).rows).toEqual([{ event_id: good.event_id }]);
  });
});

function publisher(d: DeviceAddress & { username: string; password: string }, count: number, duplicateEvery = 0) {
  return runDeviceProcess<{ published: number }>('bench/support/publisher.ts', broker.url, d, { count, 'duplicate-every': duplicateEvery });
}

test('a 50,000-message QoS 1 burst from an external publisher loses nothing', async () => {
  const d = await newDevice();
  const bridge = await startInProcessBridge(broker);
  try {
    const result = await publisher(d, 50_000);
    expect(result.published).toBe(50_000);
    const stored = await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 50_000);
    expect(stored).toBe(50_000);
    expect(await countRows(pool, 'sync_outbox', d.tenantId)).toBe(50_000);
    const rollup = await pool.query(`SELECT sum(reading_count)::int AS n FROM telemetry_rollup WHERE tenant_id = $1 AND bucket_width = '1m'`, [d.tenantId]);
    expect(rollup.rows[0].n).toBe(50_000);
  } finally {
    await bridge.stop();
  }
});

test('kill -9 of the bridge mid-burst, then a restart: 0 lost, 0 doubled', async () => {
  const d = await newDevice();
  const clientId = `farmiq-kill-test-${randomUUID().slice(0, 8)}`;
  let bridge = await spawnBridgeProcess(broker, clientId);
  // Every 10th reading is published twice, so redelivery and device duplicates both hit dedupe.
  const publishing = publisher(d, 40_000, 10);
  await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 8_000);
  bridge.child.kill('SIGKILL');
  await bridge.exited;
  const atKill = await countRows(pool, 'telemetry_raw', d.tenantId);
  expect(atKill).toBeLessThan(40_000); // really killed mid-burst

  await publishing; // the broker keeps queuing for the bridge's persistent session meanwhile
  bridge = await spawnBridgeProcess(broker, clientId);
  try {
    const stored = await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 40_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(stored).toBe(40_000);
    expect(await countRows(pool, 'telemetry_raw', d.tenantId)).toBe(40_000);
    expect(await countRows(pool, 'sync_outbox', d.tenantId)).toBe(40_000);
    expect(await countRows(pool, 'ingress_dedupe', d.tenantId)).toBe(40_000);
    const rollup = await pool.query(`SELECT sum(reading_count)::int AS n FROM telemetry_rollup WHERE tenant_id = $1 AND bucket_width = '1h'`, [d.tenantId]);
    expect(rollup.rows[0].n).toBe(40_000);
  } finally {
    bridge.child.kill('SIGTERM');
    expect(await bridge.exited).toBe(0); // graceful shutdown exits cleanly
  }
});
