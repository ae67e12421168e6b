/**
 * The farm broker's configuration, against a real Mosquitto rendered from the project template
 * (test/support/broker.ts): devices authenticate, may publish only under their own
 * tenant/farm/barn/device prefix, revocation takes effect on reload, and the broker neither
 * drops a QoS 1 burst for an absent bridge nor loses it across a restart, nor drops a message
 * that is too large for the bridge (the bridge quarantines those).
 */
import crypto from 'node:crypto';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { Pool } from 'pg';
import { provisionDevice, revokeDevice, type DeviceCredentials } from '../../gateways/mqtt-bridge/broker/credentials';
import { deviceEventTopic, telemetryTopic, type DeviceAddress } from '../../domain/contracts/topics';
import { testEdgeDatabaseUrl } from '../support/stack';
import { startTestBroker, type TestBroker } from '../support/broker';

jest.setTimeout(60_000);

const tenants: string[] = [];
let pool: Pool;
let broker: TestBroker;
const clients: MqttClient[] = [];

function address(over: Partial<DeviceAddress> = {}): DeviceAddress {
  const tenantId = over.tenantId ?? crypto.randomUUID();
  if (!tenants.includes(tenantId)) tenants.push(tenantId);
  return { tenantId, farmId: 'farm-1', barnId: 'barn-1', deviceId: `sensor-${crypto.randomBytes(3).toString('hex')}`, ...over };
}

async function connect(opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, ...opts });
  clients.push(client);
  return client;
}

/** Connects and expects the broker to refuse; returns the error message. */
async function refused(opts: IClientOptions): Promise<string> {
  try {
    const client = await connect(opts);
    await client.endAsync(true);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the broker accepted a connection it should have refused');
}

async function bridgeSubscriber(filter = 'iot/#'): Promise<{ client: MqttClient; received: { topic: string; payload: string; qos: number }[] }> {
  const received: { topic: string; payload: string; qos: number }[] = [];
  const client = await connect({ ...broker.bridge, clientId: `bridge-${crypto.randomUUID()}` });
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), qos: packet.qos }));
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  expect(granted.map((g) => g.qos)).toEqual([1]);
  return { client, received };
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function provision(a: DeviceAddress): Promise<DeviceCredentials> {
  const creds = await provisionDevice(pool, a);
  await broker.reload();
  return creds;
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 3 });
  broker = await startTestBroker({ pool });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

afterAll(async () => {
  await broker?.stop();
  if (tenants.length) await pool.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await pool?.end();
});

describe('device credentials and ACL', () => {
  test('a device publishes under its own prefix and the bridge receives it at QoS 1', async () => {
    const a = address();
    const creds = await provision(a);
    expect(creds.username).toBe(`${a.tenantId}/${a.farmId}/${a.barnId}/${a.deviceId}`);
    expect(creds.password.length).toBeGreaterThanOrEqual(32);
    const stored = await pool.query('SELECT password_hash FROM edge_devices WHERE username = $1', [creds.username]);
    expect(stored.rows[0].password_hash).toMatch(/^\$7\$/);
    expect(stored.rows[0].password_hash).not.toContain(creds.password);

    const { received } = await bridgeSubscriber();
    const device = await connect(creds);
    await device.publishAsync(telemetryTopic(a, 'temperature'), 'reading-1', { qos: 1 });
    await device.publishAsync(deviceEventTopic(a, 'feed.dispensed'), 'dispensed-1', { qos: 1 });
    await until('both messages at the bridge', () => received.length === 2);
    expect(received).toEqual([
      { topic: telemetryTopic(a, 'temperature'), payload: 'reading-1', qos: 1 },
      { topic: deviceEventTopic(a, 'feed.dispensed'), payload: 'dispensed-1', qos: 1 },
    ]);
  });

  test("a device cannot publish under another tenant's or another device's topic", async () => {
    const a = address();
    const creds = await provision(a);
    const otherTenant = { ...a, tenantId: crypto.randomUUID() };
    const otherDevice = { ...a, deviceId: 'someone-else' };
    const otherBarn = { ...a, barnId: 'barn-2' };
    const { received } = await bridgeSubscriber();

    // MQTT 5: the broker answers the PUBLISH with "Not authorized".
    const v5 = await connect(creds);
    for (const target of [otherTenant, otherDevice, otherBarn]) {
      await expect(v5.publishAsync(telemetryTopic(target, 'temperature'), 'forged', { qos: 1 })).rejects.toThrow(/not authori[sz]ed/i);
    }
    await v5.endAsync();

    // MQTT 3.1.1 has no negative PUBACK: the broker acks and drops. A sentinel on the device's own
    // topic, published after the forgeries, proves they had their chance to arrive.
    const v4 = await connect({ ...creds, protocolVersion: 4 });
    for (const target of [otherTenant, otherDevice, otherBarn]) {
      await v4.publishAsync(telemetryTopic(target, 'temperature'), 'forged', { qos: 1 });
    }
    await v4.publishAsync(telemetryTopic(a, 'temperature'), 'sentinel', { qos: 1 });
    await until('the sentinel', () => received.some((m) => m.payload === 'sentinel'));
    expect(received.map((m) => m.payload)).toEqual(['sentinel']);
  });

  test("a device receives nothing from other devices' topics, even when it subscribes to iot/#", async () => {
    const eavesdropper = await connect(await provision(address()));
    const heard: string[] = [];
    eavesdropper.on('message', (topic) => heard.push(topic));
    // Mosquitto 2.0 grants the SUBSCRIBE and filters each message by the read ACL at delivery.
    await eavesdropper.subscribeAsync(['iot/#', 'farmiq/bridge/#'], { qos: 1 });

    const a = address();
    const talker = await connect(await provision(a));
    const { received } = await bridgeSubscriber();
    await talker.publishAsync(telemetryTopic(a, 'temperature'), 'private', { qos: 1 });
    await until('the message at the bridge', () => received.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([]);
  });

  test('a wrong password, an unknown user and an anonymous client are refused at connect', async () => {
    const creds = await provision(address());
    expect(await refused({ username: creds.username, password: `${creds.password}x` })).toMatch(/bad user ?name or password|not authori[sz]ed/i);
    expect(await refused({ username: 'nobody-provisioned-this', password: 'whatever' })).toMatch(/bad user ?name or password|not authori[sz]ed/i);
    expect(await refused({})).toMatch(/not authori[sz]ed|bad user ?name or password/i);
    expect(await refused({ protocolVersion: 4 })).toMatch(/not authori[sz]ed/i);
  });

  test('a revoked device is refused after reload and its open connection is closed', async () => {
    const a = address();
    const creds = await provision(a);
    const device = await connect(creds);
    let closed = false;
    device.on('close', () => (closed = true));

    expect(await revokeDevice(pool, creds.username)).toBe(true);
    expect(await revokeDevice(pool, creds.username)).toBe(false);
    await broker.reload();
    await until('the broker to drop the revoked connection', () => closed);
    expect(await refused(creds)).toMatch(/bad user ?name or password|not authori[sz]ed/i);

    // Re-provisioning gives the same username a new password and lifts the revocation.
    const again = await provision(a);
    expect(again.username).toBe(creds.username);
    expect(again.password).not.toBe(creds.password);
    expect(await refused(creds)).toMatch(/bad user ?name or password|not authori[sz]ed/i);
    const back = await connect(again);
    expect(back.connected).toBe(true);
  });

  test('provisioning rejects addresses and usernames the broker could not hold', async () => {
    await expect(provisionDevice(pool, { ...address(), tenantId: 'not-a-uuid' })).rejects.toThrow(/UUID/);
    await expect(provisionDevice(pool, { ...address(), barnId: 'barn/with/slashes' })).rejects.toThrow(/ids must be/);
    await expect(provisionDevice(pool, { ...address(), username: 'has:colon' })).rejects.toThrow(/may not contain/);
    const a = address();
    await provisionDevice(pool, { ...a, username: `explicit-${a.deviceId}` });
    await expect(provisionDevice(pool, { ...address(), username: `explicit-${a.deviceId}` })).rejects.toThrow(/already belongs/);
  });
});

describe('broker configuration (infra/mosquitto/mosquitto.conf.template)', () => {
  test('a 20,000-message QoS 1 burst for an absent bridge is kept in full, across a broker restart', async () => {
    const a = address();
    const creds = await provision(a);
    const sessionClient = { ...broker.bridge, clientId: `bridge-burst-${crypto.randomUUID()}`, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await connect(sessionClient);
    await first.subscribeAsync(`iot/telemetry/${a.tenantId}/#`, { qos: 1 });
    await first.endAsync(); // the bridge is away; its session keeps the subscription

    const total = 20_000; // 20x Mosquitto's default max_queued_messages
    const device = await connect({ ...creds, protocolVersion: 4 });
    const topic = telemetryTopic(a, 'temperature');
    for (let sent = 0; sent < total; sent += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => device.publishAsync(topic, String(sent + i), { qos: 1 })));
    }
    await device.endAsync();

    await broker.restart(); // SIGTERM: Mosquitto writes its persistence file, then starts from it

    // The handler must be in place before CONNACK: the queued messages follow it at once.
    const seen = new Set<string>();
    const again = mqtt.connect(broker.url, { ...sessionClient, reconnectPeriod: 0, protocolVersion: 5 });
    clients.push(again);
    again.on('message', (_t, payload) => seen.add(payload.toString()));
    let sessionPresent: boolean | undefined;
    again.once('connect', (connack) => (sessionPresent = connack.sessionPresent));
    // Wait for all of them, or until nothing new has arrived for 3 s (a dropped message never comes).
    let last = { size: -1, at: Date.now() };
    await until('the queued messages to stop arriving', () => {
      if (seen.size !== last.size) last = { size: seen.size, at: Date.now() };
      return seen.size === total || Date.now() - last.at > 3000;
    }, 30_000);
    expect(seen.size).toBe(total);
    expect(sessionPresent).toBe(true);
  });

  test('a message larger than the bridge limit (64 KiB) still reaches the bridge; over 1 MiB the device is cut off', async () => {
    const a = address();
    const creds = await provision(a);
    const { received } = await bridgeSubscriber(`iot/telemetry/${a.tenantId}/#`);
    const device = await connect({ ...creds, protocolVersion: 4 });
    const big = 'x'.repeat(200 * 1024);
    await device.publishAsync(telemetryTopic(a, 'temperature'), big, { qos: 1 });
    await until('the 200 KiB message at the bridge', () => received.length === 1);
    expect(received[0].payload.length).toBe(big.length);

    let closed = false;
    device.on('close', () => (closed = true));
    device.publish(telemetryTopic(a, 'temperature'), 'y'.repeat(1024 * 1024 + 1), { qos: 1 });
    await until('the broker to disconnect the device', () => closed);
    expect(received).toHaveLength(1);
  });
});
