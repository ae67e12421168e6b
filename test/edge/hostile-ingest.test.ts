/**
 * Hostile device messages through the real broker, the real bridge process and the real edge
 * database (issue: "two telemetry messages with a NUL stop all ingest on the farm"). Every valid
 * reading must land, every hostile message must be in ingress_rejects with a reason, and the
 * bridge must stay healthy — including when the database itself refuses a row that validation let
 * through (the batch is narrowed to that row; the rest commits at once).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { Pool } from 'pg';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { telemetryTopic, type DeviceAddress } from '../../domain/contracts';
import { startTestBroker, type TestBroker } from '../support/broker';
import { spawnBridgeProcess, countRows, type BridgeProcess } from '../support/bridge';
import { hostileKinds, hostileMessage } from '../support/hostile-messages';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';

let pool: Pool;
let broker: TestBroker;
let bridge: BridgeProcess;

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
  bridge = await spawnBridgeProcess(broker, `farmiq-hostile-bridge-${randomUUID().slice(0, 8)}`);
}, 60_000);

afterAll(async () => {
  bridge?.child.kill('SIGTERM');
  await bridge?.exited;
  await broker?.stop();
  await pool?.end();
});

type Device = DeviceAddress & { username: string; password: string };

async function newDevice(): Promise<Device> {
  const address = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: `dev-${randomUUID().slice(0, 8)}` };
  const creds = await provisionDevice(pool, { ...address, kind: 'sensor' });
  await broker.reload();
  return { ...address, ...creds };
}

async function connect(d: Device): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { username: d.username, password: d.password, clientId: d.username, protocolVersion: 5, reconnectPeriod: 0 });
}

function reading(d: DeviceAddress, traceId = `valid-${randomUUID()}`) {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: traceId,
    event_type: 'telemetry.reading',
    tenant_id: d.tenantId,
    device_id: d.deviceId,
    ts: new Date().toISOString(),
    payload: { metric: 'temperature', value: 20 + Math.random() * 5, unit: 'C' },
  };
}

/** The reject rows whose stored bytes contain the marker. */
async function rejectsWith(marker: string): Promise<{ reason: string; detail: string }[]> {
  const { rows } = await pool.query<{ reason: string; detail: string }>(
    `SELECT reason, detail FROM ingress_rejects WHERE position(convert_to($1, 'UTF8') IN payload) > 0`,
    [marker],
  );
  return rows;
}

async function healthy(): Promise<boolean> {
  const r = await fetch(bridge.healthUrl);
  return r.ok;
}

test('two readings with a NUL in trace_id are quarantined and a valid reading published after them lands', async () => {
  const d = await newDevice();
  const client = await connect(d);
  try {
    const topic = telemetryTopic(d, 'temperature');
    const marker = randomUUID();
    for (let i = 0; i < 2; i++) await client.publishAsync(topic, JSON.stringify(reading(d, `${marker}\u0000${i}`)), { qos: 1 });
    const valid = reading(d);
    await client.publishAsync(topic, JSON.stringify(valid), { qos: 1 });

    await until('the valid reading', 20_000, async () => (await countRows(pool, 'telemetry_raw', d.tenantId)) === 1);
    const rejects = await until('two rejects', 20_000, async () => {
      const r = await rejectsWith(marker);
      return r.length === 2 ? r : undefined;
    });
    expect(rejects.map((r) => r.reason)).toEqual(['schema_violation:trace_id', 'schema_violation:trace_id']);
    expect(await countRows(pool, 'sync_outbox', d.tenantId)).toBe(1);
    expect(await healthy()).toBe(true);
  } finally {
    await client.endAsync();
  }
});

test('a row the database refuses (a CHECK the contract does not know) is narrowed out of its batch: the rest commits, it is quarantined as storage_refused', async () => {
  const d = await newDevice();
  const poisonTrace = `poison-${randomUUID()}`;
  const constraint = `hostile_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  // NOT VALID: existing rows are not checked; only this test's poison rows are refused.
  await pool.query(`ALTER TABLE telemetry_raw ADD CONSTRAINT ${constraint} CHECK (trace_id <> '${poisonTrace}') NOT VALID`);
  const client = await connect(d);
  try {
    const topic = telemetryTopic(d, 'temperature');
    const valid = Array.from({ length: 300 }, () => reading(d));
    const poison = [reading(d, poisonTrace), reading(d, poisonTrace)];
    // One burst, so the poison rows share micro-batches with valid ones.
    const all = [...valid.slice(0, 100), poison[0], ...valid.slice(100, 200), poison[1], ...valid.slice(200)];
    await Promise.all(all.map((e) => client.publishAsync(topic, JSON.stringify(e), { qos: 1 })));

    await until('every valid reading', 20_000, async () => (await countRows(pool, 'telemetry_raw', d.tenantId)) === valid.length);
    const rejects = await until('both poison rows quarantined', 20_000, async () => {
      const r = await rejectsWith(poisonTrace);
      return r.length === 2 ? r : undefined;
    });
    expect(rejects.map((r) => r.reason)).toEqual(['storage_refused:23514', 'storage_refused:23514']);
    expect(await countRows(pool, 'sync_outbox', d.tenantId)).toBe(valid.length);
    // A redelivery of the poison changes nothing but adds its record: no duplicates of the valid rows.
    expect(await countRows(pool, 'ingress_dedupe', d.tenantId)).toBe(valid.length);
    await until('bridge health ok again', 20_000, healthy);
  } finally {
    await client.endAsync();
    await pool.query(`ALTER TABLE telemetry_raw DROP CONSTRAINT ${constraint}`);
  }
});

test('generated hostile messages interleaved with valid readings: every valid reading lands, every hostile one is recorded with its reason, the bridge stays healthy', async () => {
  const d = await newDevice();
  const client = await connect(d);
  let validSent = 0;
  try {
    const kind = fc.integer({ min: 0, max: hostileKinds.length - 1 });
    const step = fc.record({ hostile: fc.array(fc.tuple(kind, fc.nat({ max: 1000 })), { minLength: 1, maxLength: 12 }), validBetween: fc.nat({ max: 3 }) });
    await fc.assert(
      fc.asyncProperty(step, async ({ hostile, validBetween }) => {
        const messages = hostile.map(([k, knob]) => hostileMessage(d, k, knob));
        const publishes: Promise<unknown>[] = [];
        for (const m of messages) {
          publishes.push(client.publishAsync(m.topic, m.payload, { qos: 1 }));
          for (let i = 0; i < validBetween + 1; i++) {
            publishes.push(client.publishAsync(telemetryTopic(d, 'temperature'), JSON.stringify(reading(d)), { qos: 1 }));
            validSent++;
          }
        }
        await Promise.all(publishes);
        await until(`${validSent} valid readings`, 20_000, async () => (await countRows(pool, 'telemetry_raw', d.tenantId)) === validSent);
        for (const m of messages) {
          const rows = await until(`the reject of ${m.kind}`, 20_000, async () => {
            const r = await rejectsWith(m.marker);
            return r.length === 1 ? r : undefined;
          });
          if (m.reason instanceof RegExp) expect(rows[0].reason).toMatch(m.reason);
          else if (m.reason) expect({ kind: m.kind, reason: rows[0].reason }).toEqual({ kind: m.kind, reason: m.reason });
          expect(rows[0].detail.length).toBeGreaterThan(0);
        }
        expect(await healthy()).toBe(true);
      }),
      { numRuns: 25 },
    );
    // Nothing hostile became a reading, and each valid reading is there once, with its outbox row.
    expect(await countRows(pool, 'telemetry_raw', d.tenantId)).toBe(validSent);
    expect(await countRows(pool, 'sync_outbox', d.tenantId)).toBe(validSent);
  } finally {
    await client.endAsync();
  }
}, 240_000);
