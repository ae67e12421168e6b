/**
 * Telemetry units end to end, through the real processes:
 *
 *   sensors with their own device credentials → Mosquitto (test broker, ACL from edge_devices) → MQTT
 *   bridge → edge Postgres (telemetry_raw, 1-minute rollups, outbox; ingress_rejects) → edge worker
 *   (forwarder) → cloud HTTP → RabbitMQ → cloud consumers → cloud Postgres
 *
 * A °F (and a kelvin) temperature sensor beside a °C one in the same barn: every stored reading is
 * °C, with what the sensor sent kept in source_value / source_unit, so the barn's temperature is not
 * an average of °C and °F. A unit a metric does not take ends in ingress_rejects as
 * `unit_not_accepted`, and the messages around it — on the same connection, after it — go through.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { telemetryTopic, type DeviceAddress } from '../../domain/contracts';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { bridgeOptions } from '../support/bridge';
import { startTestBroker, type TestBroker } from '../support/broker';
import { telemetryReading } from '../support/events';
import { until } from '../support/until';
import { openDatabases, randomUUID, SyncStack, type Databases } from './support';

const tenant = randomUUID();
let db: Databases;
let stack: SyncStack;
let broker: TestBroker;
let bridge: MqttBridge;
const clients: MqttClient[] = [];

beforeAll(async () => {
  db = await openDatabases('units');
  stack = await SyncStack.create({ label: 'units', db, tenants: [tenant] });
  await stack.startAll();
  broker = await startTestBroker({ pool: db.edge });
  bridge = new MqttBridge({ ...bridgeOptions(broker), databaseUrl: db.edgeUrl, edgeId: stack.edgeId }, pino({ level: 'silent' }));
  await bridge.start();
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.endAsync().catch(() => undefined);
  await bridge?.stop();
  await broker?.stop();
  await stack?.cleanup();
  await db?.close();
}, 180_000);

async function sensor(deviceId: string): Promise<{ address: DeviceAddress; client: MqttClient }> {
  const address = { tenantId: tenant, farmId: 'farm-units', barnId: 'barn-1', deviceId };
  const creds = await provisionDevice(db.edge, { ...address, kind: 'sensor' });
  await broker.reload();
  const client = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 5, clientId: `dev-${randomUUID().slice(0, 8)}` });
  clients.push(client);
  return { address, client };
}

interface StoredReading {
  device_id: string;
  metric: string;
  value: number;
  unit: string;
  source_value: number | null;
  source_unit: string | null;
}

const readingsOf = async (pool: Databases['edge']) =>
  (
    await pool.query<StoredReading>(
      `SELECT device_id, metric, value, unit, source_value, source_unit FROM telemetry_raw WHERE tenant_id = $1 ORDER BY occurred_at, device_id`,
      [tenant],
    )
  ).rows;

test('a °F sensor is stored and synced in °C with what it sent; a unit the metric does not take is refused and the rest goes through', async () => {
  const celsius = await sensor('temp-c');
  const fahrenheit = await sensor('temp-f');
  const kelvin = await sensor('temp-k');
  const air = await sensor('air-1');
  const minute = Date.now() - 10 * 60_000;
  const ts = (m: number) => new Date(minute + m * 60_000).toISOString();
  const send = async (s: { address: DeviceAddress; client: MqttClient }, metric: string, value: number, unit: string, m: number) => {
    const event = telemetryReading({ tenantId: tenant, deviceId: s.address.deviceId, metric, value, unit, ts: ts(m) });
    await s.client.publishAsync(telemetryTopic(s.address, metric), JSON.stringify(event), { qos: 1 });
    return event;
  };

  await send(celsius, 'temperature', 20, 'C', 0);
  await send(fahrenheit, 'temperature', 69.8, 'F', 1); // (69.8 − 32) · 5/9 = 21 °C
  const wrongUnit = await send(fahrenheit, 'temperature', 26, 'ppm', 2); // not a temperature unit
  await send(kelvin, 'temperature', 294.15, 'K', 3); // 294.15 − 273.15 = 21 °C
  await send(air, 'humidity', 61, '%RH', 4); // a spelling of % RH: 61 %
  await send(air, 'nh3', 12_000, 'ppb', 5); // 12,000 ppb / 1,000 = 12 ppm
  const co2InPpb = await send(air, 'co2', 1_200_000, 'ppb', 6); // CO2 is taken in ppm only
  await send(fahrenheit, 'temperature', 71.6, 'F', 7); // after its refused reading: (71.6 − 32) · 5/9 = 22 °C
  await send(celsius, 'temperature', 20.5, 'C', 8);

  // 9 published, 2 refused: 7 stored on the edge, and the same 7 in the cloud.
  const expected: StoredReading[] = [
    { device_id: 'temp-c', metric: 'temperature', value: 20, unit: 'C', source_value: null, source_unit: null },
    { device_id: 'temp-f', metric: 'temperature', value: 21, unit: 'C', source_value: 69.8, source_unit: 'F' },
    { device_id: 'temp-k', metric: 'temperature', value: 21, unit: 'C', source_value: 294.15, source_unit: 'K' },
    { device_id: 'air-1', metric: 'humidity', value: 61, unit: '%', source_value: 61, source_unit: '%RH' },
    { device_id: 'air-1', metric: 'nh3', value: 12, unit: 'ppm', source_value: 12_000, source_unit: 'ppb' },
    { device_id: 'temp-f', metric: 'temperature', value: 22, unit: 'C', source_value: 71.6, source_unit: 'F' },
    { device_id: 'temp-c', metric: 'temperature', value: 20.5, unit: 'C', source_value: null, source_unit: null },
  ];
  await until('7 readings on the edge', 30_000, async () => (await readingsOf(db.edge)).length >= 7);
  // The two devices publish on their own connections, so their refusals may commit in either
  // order: sorted by device (temp-f, then air-1), not by arrival.
  const rejects = await until('2 refusals', 30_000, async () => {
    const r = await db.edge.query<{ device_id: string; reason: string; detail: string; topic: string }>(
      'SELECT device_id, reason, detail, topic FROM ingress_rejects WHERE tenant_id = $1 ORDER BY device_id DESC',
      [tenant],
    );
    return r.rows.length >= 2 && r.rows;
  });
  expect(await readingsOf(db.edge)).toEqual(expected);
  expect(rejects.map((r) => [r.device_id, r.reason, r.topic])).toEqual([
    ['temp-f', 'unit_not_accepted', telemetryTopic(fahrenheit.address, 'temperature')],
    ['air-1', 'unit_not_accepted', telemetryTopic(air.address, 'co2')],
  ]);
  expect(rejects[0].detail).toContain('"ppm"');
  expect(rejects[1].detail).toContain('"ppb"');
  // Neither refused event is in the outbox: nothing of it reaches the cloud.
  const outboxed = await db.edge.query<{ event_id: string }>(
    "SELECT event_id::text FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'telemetry.reading'",
    [tenant],
  );
  expect(outboxed.rows).toHaveLength(7);
  expect(outboxed.rows.map((r) => r.event_id)).not.toContain(wrongUnit.event_id);
  expect(outboxed.rows.map((r) => r.event_id)).not.toContain(co2InPpb.event_id);

  // The barn's temperature on the edge: (20 + 21 + 21 + 22 + 20.5) / 5 = 104.5 / 5 = 20.9 °C. Had the
  // °F and K readings been averaged as sent: (20 + 69.8 + 294.15 + 71.6 + 20.5) / 5 = 95.21.
  const barn = await db.edge.query<{ mean: number; units: string[] }>(
    `SELECT avg(value)::float8 AS mean, array_agg(DISTINCT unit) AS units FROM telemetry_raw WHERE tenant_id = $1 AND barn_id = 'barn-1' AND metric = 'temperature'`,
    [tenant],
  );
  expect(barn.rows[0].units).toEqual(['C']);
  expect(barn.rows[0].mean).toBeCloseTo(20.9, 9);
  // The 1-minute rollups the climate judgement stands on are in °C too: the °F sensor's two minutes, 21 and 22.
  const rollups = await db.edge.query<{ unit: string; value_sum: number }>(
    `SELECT unit, value_sum FROM telemetry_rollup WHERE tenant_id = $1 AND device_id = 'temp-f' AND bucket_width = '1m' ORDER BY bucket_start`,
    [tenant],
  );
  expect(rollups.rows).toEqual([
    { unit: 'C', value_sum: 21 },
    { unit: 'C', value_sum: 22 },
  ]);

  // Through sync: the cloud stores the same °C values with the same source_value / source_unit.
  await until('7 readings in the cloud', 60_000, async () => (await readingsOf(db.cloud)).length >= 7);
  expect(await readingsOf(db.cloud)).toEqual(expected);
}, 120_000);
