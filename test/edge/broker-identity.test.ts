/**
 * Nobody takes the bridge's broker identity, nor a device's (issue 8, item 2), against a real
 * Mosquitto rendered from the project template (test/support/broker.ts) and the bridge's real
 * connection code (BrokerConnection: MQTT 5, fixed client id, clean start off, QoS 1).
 *
 * MQTT lets a new connection with a client id that is in use close the old connection and take
 * over (or, with clean start, throw away) its session. The broker therefore replaces every
 * client's id with its login (use_username_as_clientid), so a device with valid credentials can
 * only ever open its own session.
 *
 * No waiting on timers to prove an absence: Mosquitto closes the connection it takes over before
 * it sends CONNACK to the newcomer, and answers each client's packets in order. A round trip on a
 * connection that starts after the newcomer's CONNACK therefore sees a takeover (its socket closed)
 * or a delivery (the message arrives before the answer) if there was one.
 */
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { Pool } from 'pg';
import { BrokerConnection, type BrokerConnectionOptions } from '../../gateways/mqtt-bridge/broker-connection';
import { provisionDevice, type DeviceCredentials } from '../../gateways/mqtt-bridge/broker/credentials';
import { telemetryTopic, type DeviceAddress } from '../../domain/contracts/topics';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import { startTestBroker, type TestBroker } from '../support/broker';

jest.setTimeout(60_000);

/** The bridge's configured client id on a farm server (MQTT_BRIDGE_CLIENT_ID's default). */
const bridgeClientId = 'farmiq-edge-bridge';

const tenants: string[] = [];
let pool: Pool;
let broker: TestBroker;
const clients: MqttClient[] = [];
const bridges: BrokerConnection[] = [];

interface Device extends DeviceAddress, DeviceCredentials {}

async function newDevice(tenantId: string = crypto.randomUUID()): Promise<Device> {
  if (!tenants.includes(tenantId)) tenants.push(tenantId);
  const a = { tenantId, farmId: 'farm-1', barnId: 'barn-1', deviceId: `sensor-${crypto.randomBytes(3).toString('hex')}` };
  const creds = await provisionDevice(pool, a);
  await broker.reload();
  return { ...a, ...creds };
}

async function connect(opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, ...opts });
  clients.push(client);
  return client;
}

/**
 * The real bridge connection with a recording logger and message handler. Its log is what an
 * operator sees: "connected to broker" (with sessionPresent) on every connect, "broker offline;
 * reconnecting" whenever the connection is lost.
 */
function bridgeConnection(tenantId: string) {
  const log: { msg: string; sessionPresent?: boolean; err?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) log.push(JSON.parse(line));
      done();
    },
  });
  const received: { topic: string; payload: string; qos: number }[] = [];
  const options: BrokerConnectionOptions = {
    url: broker.url,
    clientId: bridgeClientId,
    username: broker.bridge.username,
    password: broker.bridge.password,
    receiveMaximum: 1000,
    edgeId: 'edge-identity-test',
    subscriptions: [`iot/telemetry/${tenantId}/#`],
  };
  const connection = new BrokerConnection(
    options,
    async (topic, payload, packet) => {
      received.push({ topic, payload: payload.toString(), qos: packet.qos });
    },
    pino({ level: 'info' }, sink),
  );
  bridges.push(connection);
  const lost = () => log.filter((l) => l.msg === 'broker offline; reconnecting' || l.msg === 'broker connection error');
  const connects = () => log.filter((l) => l.msg === 'connected to broker');
  return { connection, log, received, lost, connects };
}

/** A QoS 1 round trip on `client`; false if the connection was closed instead. */
async function roundTrip(client: MqttClient, topic: string): Promise<boolean> {
  if (!client.connected) return false;
  const closed = new Promise<false>((resolve) => client.once('close', () => resolve(false)));
  return Promise.race([client.publishAsync(topic, 'round-trip', { qos: 1 }).then(() => true), closed]);
}

/** Every way a device might try to pass itself off as the bridge. */
function impersonations(device: Device): { name: string; opts: IClientOptions }[] {
  const creds = { username: device.username, password: device.password };
  const out: { name: string; opts: IClientOptions }[] = [];
  for (const clientId of [bridgeClientId, broker.bridge.username]) {
    for (const protocolVersion of [5, 4] as const) {
      // Resuming first: on a broker that lets it, the impostor would be handed the bridge's queue.
      out.push({
        name: `${clientId} v${protocolVersion} resume`,
        opts: { ...creds, clientId, protocolVersion, clean: false, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) },
      });
      out.push({ name: `${clientId} v${protocolVersion} clean`, opts: { ...creds, clientId, protocolVersion, clean: true } });
    }
  }
  return out;
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 3 });
  broker = await startTestBroker({ pool });
});

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.abort().catch(() => {})));
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

afterAll(async () => {
  await broker?.stop();
  if (tenants.length) await pool.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await pool?.end();
});

describe("the bridge's identity", () => {
  test("a device logging in with the bridge's client id leaves the bridge connected, on its session", async () => {
    const honest = await newDevice();
    const attacker = await newDevice(honest.tenantId);
    const bridge = bridgeConnection(honest.tenantId);
    await bridge.connection.start();
    expect(bridge.connects()).toHaveLength(1);

    for (const attempt of impersonations(attacker)) {
      const impostor = await connect(attempt.opts); // Mosquitto accepts the login, as the device
      await impostor.endAsync();
    }

    // The bridge still receives on the connection it opened at the start.
    const device = await connect({ username: honest.username, password: honest.password });
    await device.publishAsync(telemetryTopic(honest, 'temperature'), 'after-the-attempts', { qos: 1 });
    await until('the reading at the bridge', 10_000, () => bridge.received.some((m) => m.payload === 'after-the-attempts') || bridge.lost().length > 0);
    expect(bridge.lost()).toEqual([]);
    expect(bridge.connects()).toHaveLength(1);
    expect(bridge.connection.connected).toBe(true);
    expect(bridge.received).toEqual([{ topic: telemetryTopic(honest, 'temperature'), payload: 'after-the-attempts', qos: 1 }]);
  });

  test('QoS 1 messages queued for the absent bridge survive a device logging in with its client id, and the device gets none of them', async () => {
    const honest = await newDevice();
    const attacker = await newDevice(honest.tenantId);
    const first = bridgeConnection(honest.tenantId);
    await first.connection.start(); // creates the persistent session and its subscription
    await first.connection.stop(); // the bridge is away (restarting, upgrading); the broker keeps its session

    const device = await connect({ username: honest.username, password: honest.password });
    const queued = Array.from({ length: 50 }, (_, i) => `queued-${i}`);
    for (const payload of queued) await device.publishAsync(telemetryTopic(honest, 'temperature'), payload, { qos: 1 });

    const overheard: string[] = [];
    for (const attempt of impersonations(attacker)) {
      const impostor = await connect(attempt.opts);
      impostor.on('message', (_topic, payload) => overheard.push(`${attempt.name}: ${payload.toString()}`));
      // A resumed session's queued messages follow CONNACK at once, before this round trip's PUBACK.
      expect(await roundTrip(impostor, telemetryTopic(attacker, 'temperature'))).toBe(true);
      await impostor.endAsync();
    }
    expect(overheard).toEqual([]);

    const again = bridgeConnection(honest.tenantId);
    await again.connection.start();
    expect(again.connects().map((l) => l.sessionPresent)).toEqual([true]);
    // Published after the bridge is back: it arrives after everything that was queued.
    await device.publishAsync(telemetryTopic(honest, 'temperature'), 'sentinel', { qos: 1 });
    await until('the sentinel at the bridge', 10_000, () => again.received.some((m) => m.payload === 'sentinel'));
    expect(again.received.filter((m) => m.topic === telemetryTopic(honest, 'temperature')).map((m) => m.payload)).toEqual([...queued, 'sentinel']);
    expect(again.received.every((m) => m.qos === 1)).toBe(true);
    expect(again.lost()).toEqual([]);
  });

  test('the bridge login itself still works after a restart of the broker, resuming the same session', async () => {
    const honest = await newDevice();
    const bridge = bridgeConnection(honest.tenantId);
    await bridge.connection.start();
    await bridge.connection.stop();
    const device = await connect({ username: honest.username, password: honest.password, protocolVersion: 4 });
    await device.publishAsync(telemetryTopic(honest, 'temperature'), 'while-away', { qos: 1 });
    await device.endAsync();
    await broker.restart();

    const again = bridgeConnection(honest.tenantId);
    await again.connection.start();
    expect(again.connects().map((l) => l.sessionPresent)).toEqual([true]);
    await until('the queued reading', 10_000, () => again.received.some((m) => m.payload === 'while-away'));
  });
});

describe("a device's identity", () => {
  test("a device cannot take another device's client id (nor its username as one)", async () => {
    const victim = await newDevice();
    const attacker = await newDevice();
    const victimClientId = `station-${crypto.randomBytes(3).toString('hex')}`;
    const connection = await connect({
      username: victim.username,
      password: victim.password,
      clientId: victimClientId,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    let closes = 0;
    connection.on('close', () => (closes += 1));

    for (const clientId of [victimClientId, victim.username]) {
      for (const clean of [true, false]) {
        const impostor = await connect({ username: attacker.username, password: attacker.password, clientId, clean });
        await impostor.endAsync();
      }
    }

    expect(await roundTrip(connection, telemetryTopic(victim, 'temperature'))).toBe(true);
    expect(closes).toBe(0);
    expect(connection.connected).toBe(true);
  });

  test('one device logging in twice replaces its own older connection (a cloned credential shows up as flapping)', async () => {
    const d = await newDevice();
    const older = await connect({ username: d.username, password: d.password, clientId: 'first' });
    let closed = false;
    older.on('close', () => (closed = true));
    const newer = await connect({ username: d.username, password: d.password, clientId: 'second' });
    expect(await roundTrip(older, telemetryTopic(d, 'temperature'))).toBe(false);
    expect(closed).toBe(true);
    expect(await roundTrip(newer, telemetryTopic(d, 'temperature'))).toBe(true);
  });
});
