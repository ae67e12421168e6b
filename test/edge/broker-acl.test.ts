/**
 * The farm broker's configuration, against a real Mosquitto rendered from the project template
 * (test/support/broker.ts): devices authenticate, may publish only under their own
 * tenant/farm/barn/device prefix and receive nothing they subscribe to, revocation takes effect on
 * reload, and the broker neither
 * drops a QoS 1 burst for an absent bridge nor loses it across a restart, nor drops a message
 * that is too large for the bridge (the bridge quarantines those).
 */
import crypto from 'node:crypto';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { Pool } from 'pg';
import { provisionDevice, revokeDevice, type DeviceCredentials } from '../../gateways/mqtt-bridge/broker/credentials';
import { renderAcl } from '../../gateways/mqtt-bridge/broker/render';
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

  test("a device's subscriptions deliver nothing: wildcards, other devices' topics, its own, retained messages, $SYS, shared", async () => {
    // One eavesdropping device per protocol version: one login has one connection at a time.
    const own = { 5: address(), 4: address() };
    own[4] = { ...own[4], tenantId: own[5].tenantId };
    const sibling = address({ tenantId: own[5].tenantId }); // same tenant, farm and barn
    const foreign = address();
    const eavesdropperCreds = { 5: await provision(own[5]), 4: await provision(own[4]) };
    const siblingCreds = await provision(sibling);
    const foreignCreds = await provision(foreign);
    const filters = (me: DeviceAddress) => [
      '#',
      '+/#',
      '+/+/+/+/+/+/+',
      'iot/#',
      'iot/+/#',
      `iot/+/${me.tenantId}/#`,
      `iot/telemetry/${me.tenantId}/${me.farmId}/${me.barnId}/+/+`,
      `iot/telemetry/${foreign.tenantId}/#`,
      telemetryTopic(sibling, 'temperature'),
      telemetryTopic(me, 'temperature'),
      'farmiq/bridge/#',
      '$SYS/#',
      '$share/eavesdroppers/iot/#',
    ];

    // Retained messages are sent right after the SUBACK to whoever may read them.
    const { client: bridge, received } = await bridgeSubscriber();
    const siblingDevice = await connect(siblingCreds);
    const foreignDevice = await connect(foreignCreds);
    await bridge.publishAsync('farmiq/bridge/edge-acl-test/state', 'online', { qos: 1, retain: true });
    await siblingDevice.publishAsync(telemetryTopic(sibling, 'temperature'), 'retained-sibling', { qos: 1, retain: true });
    await foreignDevice.publishAsync(telemetryTopic(foreign, 'temperature'), 'retained-foreign', { qos: 1, retain: true });
    try {
      const heard: string[] = [];
      const subacks: { version: number; filter: string; code: number }[] = [];
      const eavesdroppers: { client: MqttClient; me: DeviceAddress }[] = [];
      for (const protocolVersion of [5, 4] as const) {
        const me = own[protocolVersion];
        const eavesdropper = await connect({ ...eavesdropperCreds[protocolVersion], protocolVersion });
        eavesdropper.on('message', (topic, payload) => heard.push(`v${protocolVersion} ${topic}: ${payload.toString()}`));
        for (const filter of filters(me)) {
          const granted = await eavesdropper.subscribeAsync(filter, { qos: 1 }).then(
            (g) => g[0].qos,
            (err: Error) => (/not authori[sz]ed/i.test(err.message) ? 0x87 : 0x80),
          );
          subacks.push({ version: protocolVersion, filter, code: granted });
        }
        eavesdroppers.push({ client: eavesdropper, me });
      }
      // Mosquitto 2.0.11's acl_file grants every SUBSCRIBE (its check answers "allowed" for
      // subscriptions; even `topic deny #` does not refuse one) and applies the read ACL to each
      // message at delivery; devices have no read rights. A refusal in the SUBACK (0x80 / 0x87)
      // would be as good, so both are accepted: what matters is that nothing arrives.
      for (const s of subacks) expect([1, 0x80, 0x87]).toContain(s.code);

      // Live messages, each acked by the broker (so already routed) before the round trips below.
      await siblingDevice.publishAsync(telemetryTopic(sibling, 'temperature'), 'live-sibling', { qos: 1 });
      await foreignDevice.publishAsync(telemetryTopic(foreign, 'temperature'), 'live-foreign', { qos: 1 });
      await bridge.publishAsync('farmiq/bridge/edge-acl-test/state', 'live-state', { qos: 1 });
      await until('the live readings at the bridge', () => ['live-sibling', 'live-foreign'].every((p) => received.some((m) => m.payload === p)));
      // Mosquitto answers a client's packets in order: anything routed to an eavesdropper before
      // its own publish reaches it before that publish's PUBACK.
      for (const { client, me } of eavesdroppers) await client.publishAsync(telemetryTopic(me, 'temperature'), 'own-reading', { qos: 1 });
      expect(heard).toEqual([]);
      // The device's own publishing still works (the bridge got it).
      await until('the own readings at the bridge', () => received.filter((m) => m.payload === 'own-reading').length === 2);
    } finally {
      // Clear the retained messages so later tests' subscribers do not receive them.
      await bridge.publishAsync('farmiq/bridge/edge-acl-test/state', '', { qos: 1, retain: true });
      await siblingDevice.publishAsync(telemetryTopic(sibling, 'temperature'), '', { qos: 1, retain: true });
      await foreignDevice.publishAsync(telemetryTopic(foreign, 'temperature'), '', { qos: 1, retain: true });
    }
  });

  test("the ACL gives devices no read rule; a future one (a downlink) must stay within the device's own prefix", () => {
    const d = { username: 'acl-unit', tenantId: crypto.randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: 'dev-1', kind: 'sensor' as const };
    const own = `${d.tenantId}/farm-1/barn-1/dev-1`;
    // The device's section (what follows its user line): every rule but the write-only ones.
    const readRules = (acl: string) =>
      acl
        .slice(acl.indexOf(`user ${d.username}`))
        .split('\n')
        .filter((l) => /^(topic (?!write )|pattern )/.test(l));
    expect(readRules(renderAcl([d], 'bridge-user'))).toEqual([]);
    expect(readRules(renderAcl([d], 'bridge-user', () => [`iot/cmd/${own}/#`, `iot/cmd/${own}`]))).toEqual([
      `topic read iot/cmd/${own}/#`,
      `topic read iot/cmd/${own}`,
    ]);
    const foreign = ['#', '+/#', 'iot/#', `iot/+/${own}/#`, `iot/cmd/${d.tenantId}/farm-1/barn-1/+/#`, `iot/cmd/${d.tenantId}/farm-1/barn-1/dev-2/#`, `iot/cmd/${d.tenantId}/#`, `farmiq/bridge/#`];
    for (const filter of foreign) {
      expect(() => renderAcl([d], 'bridge-user', () => [filter])).toThrow(/not under the device's own topic prefix/);
    }
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
