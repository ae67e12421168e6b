/**
 * The farm broker's configuration, against a real Mosquitto rendered from the project template
 * (test/support/broker.ts): devices authenticate, may publish only under their own
 * tenant/farm/barn/device prefix, have every SUBSCRIBE refused in the SUBACK by the subscribe
 * guard plugin (infra/mosquitto/subscribe-guard/) and receive nothing (but siren filters: a siren
 * device reads its farm's alarm sirens, test/edge/siren-subscribe.test.ts), while the bridge still
 * subscribes at QoS 1 and the acl_file still decides what everyone may publish and receive;
 * revocation takes effect on reload, the guard survives reloads, and the broker neither drops a
 * QoS 1 burst for an absent bridge nor loses it across a restart, nor drops a message that is too
 * large for the bridge (the bridge quarantines those).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions, type OnPacketCallback } from 'mqtt';
import { Pool } from 'pg';
import { provisionDevice, revokeDevice, type DeviceCredentials } from '../../gateways/mqtt-bridge/broker/credentials';
import { renderAcl } from '../../gateways/mqtt-bridge/broker/render';
import { deviceEventTopic, telemetryTopic, type DeviceAddress } from '../../domain/contracts/topics';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import { startTestBroker, type TestBroker } from '../support/broker';

jest.setTimeout(60_000);

/** SUBACK reason codes: refusals (0x87 Not authorized in MQTT 5, 0x80 Failure in MQTT 3.1.1). */
const NOT_AUTHORIZED = 0x87;
const FAILURE = 0x80;

/**
 * A login that may only publish under farmiq-acl-probe/ (write rule, no read rule): what it sends
 * must not reach a subscriber whose read rules do not cover it, the bridge included.
 */
const aclWriter = { username: 'farmiq-acl-writer', password: crypto.randomBytes(12).toString('hex'), write: ['farmiq-acl-probe/#'] };

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

async function provision(a: DeviceAddress): Promise<DeviceCredentials> {
  const creds = await provisionDevice(pool, a);
  await broker.reload();
  return creds;
}

/** Subscribes and returns the reason codes of the SUBACK, one per filter (refusals included). */
async function subackCodes(client: MqttClient, filters: string | string[]): Promise<number[]> {
  const suback = new Promise<number[]>((resolve) => {
    const onPacket: OnPacketCallback = (packet) => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve((packet.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos)));
    };
    client.on('packetreceive', onPacket);
  });
  // mqtt.js rejects when a code has the 0x80 bit; the SUBACK itself is what this returns.
  await client.subscribeAsync(filters, { qos: 1 }).catch(() => undefined);
  return suback;
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 3 });
  broker = await startTestBroker({ pool, extraUsers: [aclWriter] });
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
    await until('both messages at the bridge', 10_000, () => received.length === 2);
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
    await until('the sentinel', 10_000, () => received.some((m) => m.payload === 'sentinel'));
    expect(received.map((m) => m.payload)).toEqual(['sentinel']);
  });

  test("a device's SUBSCRIBE is refused in the SUBACK (0x87 on MQTT 5, 0x80 on 3.1.1): wildcards, other devices' topics, its own, $SYS, shared; nothing reaches it, retained or live", async () => {
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
      const expected: typeof subacks = [];
      const eavesdroppers: { client: MqttClient; me: DeviceAddress }[] = [];
      for (const protocolVersion of [5, 4] as const) {
        const me = own[protocolVersion];
        const refusal = protocolVersion === 5 ? NOT_AUTHORIZED : FAILURE;
        const eavesdropper = await connect({ ...eavesdropperCreds[protocolVersion], protocolVersion });
        eavesdropper.on('message', (topic, payload) => heard.push(`v${protocolVersion} ${topic}: ${payload.toString()}`));
        for (const filter of filters(me)) {
          const [code] = await subackCodes(eavesdropper, filter);
          subacks.push({ version: protocolVersion, filter, code });
          expected.push({ version: protocolVersion, filter, code: refusal });
        }
        // All of them in one SUBSCRIBE packet: one refusal per filter.
        expect(await subackCodes(eavesdropper, filters(me))).toEqual(filters(me).map(() => refusal));
        eavesdroppers.push({ client: eavesdropper, me });
      }
      // The subscribe guard refuses every device SUBSCRIBE (Mosquitto's acl_file alone grants
      // them all, 0x01, even '#'). The delivery checks below stay: the acl_file's read rules are
      // the second line, and a refused SUBSCRIBE must not have left a subscription behind.
      expect(subacks).toEqual(expected);
      // The connections survived the refusals.
      for (const { client } of eavesdroppers) expect(client.connected).toBe(true);

      // Live messages, each acked by the broker (so already routed) before the round trips below.
      await siblingDevice.publishAsync(telemetryTopic(sibling, 'temperature'), 'live-sibling', { qos: 1 });
      await foreignDevice.publishAsync(telemetryTopic(foreign, 'temperature'), 'live-foreign', { qos: 1 });
      await bridge.publishAsync('farmiq/bridge/edge-acl-test/state', 'live-state', { qos: 1 });
      await until('the live readings at the bridge', 10_000, () => ['live-sibling', 'live-foreign'].every((p) => received.some((m) => m.payload === p)));
      // Mosquitto answers a client's packets in order: anything routed to an eavesdropper before
      // its own publish reaches it before that publish's PUBACK.
      for (const { client, me } of eavesdroppers) await client.publishAsync(telemetryTopic(me, 'temperature'), 'own-reading', { qos: 1 });
      expect(heard).toEqual([]);
      // The device's own publishing still works (the bridge got it).
      await until('the own readings at the bridge', 10_000, () => received.filter((m) => m.payload === 'own-reading').length === 2);
    } finally {
      // Clear the retained messages so later tests' subscribers do not receive them.
      await bridge.publishAsync('farmiq/bridge/edge-acl-test/state', '', { qos: 1, retain: true });
      await siblingDevice.publishAsync(telemetryTopic(sibling, 'temperature'), '', { qos: 1, retain: true });
      await foreignDevice.publishAsync(telemetryTopic(foreign, 'temperature'), '', { qos: 1, retain: true });
    }
  });

  test('the bridge still subscribes at QoS 1 (MQTT 5 and 3.1.1) and receives; the acl_file still decides what it may receive and publish', async () => {
    const a = address();
    const creds = await provision(a);
    const device = await connect(creds);
    const writer = await connect({ username: aclWriter.username, password: aclWriter.password });
    const reading = telemetryTopic(a, 'temperature');
    for (const protocolVersion of [5, 4] as const) {
      // One bridge connection at a time: one login, one connection.
      const received: string[] = [];
      const bridge = await connect({ ...broker.bridge, protocolVersion });
      bridge.on('message', (topic, payload, packet) => received.push(`${topic} ${payload.toString()} q${packet.qos}`));
      // The guard defers the bridge's SUBSCRIBEs to the acl_file, which grants them.
      expect(await subackCodes(bridge, ['iot/#', 'farmiq/bridge/#'])).toEqual([1, 1]);
      await device.publishAsync(reading, `reading-v${protocolVersion}`, { qos: 1 });
      await until('the reading at the bridge', 10_000, () => received.length === 1);
      expect(received).toEqual([`${reading} reading-v${protocolVersion} q1`]);

      // Even '#' is granted to the bridge; the acl_file's read rules still apply at delivery, so
      // what the write-only login sends outside iot/ and farmiq/bridge/ does not reach it.
      await bridge.unsubscribeAsync(['iot/#', 'farmiq/bridge/#']);
      expect(await subackCodes(bridge, '#')).toEqual([1]);
      await writer.publishAsync(`farmiq-acl-probe/v${protocolVersion}`, 'not-for-the-bridge', { qos: 1 });
      // And its write rules: the bridge may not publish as a device (MQTT 3.1.1: acked and dropped).
      const forged = bridge.publishAsync(reading, 'forged-by-bridge', { qos: 1 });
      if (protocolVersion === 5) await expect(forged).rejects.toThrow(/not authori[sz]ed/i);
      else await forged;
      // Published after the others: once it is here, they had their chance to arrive.
      await device.publishAsync(reading, `sentinel-v${protocolVersion}`, { qos: 1 });
      await until('the sentinel at the bridge', 10_000, () => received.length === 2);
      expect(received).toEqual([`${reading} reading-v${protocolVersion} q1`, `${reading} sentinel-v${protocolVersion} q1`]);
      await bridge.endAsync();
    }
  });

  test('the subscribe guard survives reloads: devices (old and new) still refused, the bridge still granted, the reloaded rules in effect', async () => {
    const a = address();
    const credsA = await provision(a);
    await broker.reload();
    await broker.reload();
    const b = address({ tenantId: a.tenantId });
    const credsB = await provision(b); // known to the broker only since this reload
    const { received } = await bridgeSubscriber(`iot/+/${a.tenantId}/#`);
    for (const [creds, me] of [
      [credsA, a],
      [credsB, b],
    ] as const) {
      for (const protocolVersion of [5, 4] as const) {
        const device = await connect({ ...creds, protocolVersion });
        expect(await subackCodes(device, ['#', `iot/+/${me.tenantId}/#`, telemetryTopic(me, 'temperature')])).toEqual(
          Array(3).fill(protocolVersion === 5 ? NOT_AUTHORIZED : FAILURE),
        );
        if (protocolVersion === 5) {
          await expect(device.publishAsync(telemetryTopic({ ...me, deviceId: 'someone-else' }, 'temperature'), 'forged', { qos: 1 })).rejects.toThrow(
            /not authori[sz]ed/i,
          );
        }
        await device.publishAsync(telemetryTopic(me, 'temperature'), `${me.deviceId} v${protocolVersion}`, { qos: 1 });
        await device.endAsync();
      }
    }
    await until('the four readings at the bridge', 10_000, () => received.length === 4);
    expect(received.map((m) => m.payload)).toEqual([`${a.deviceId} v5`, `${a.deviceId} v4`, `${b.deviceId} v5`, `${b.deviceId} v4`]);
    // Loaded once per broker start, never again by a reload (plugins are not reloaded on SIGHUP).
    const log = fs.readFileSync(broker.logFile, 'utf8');
    const starts = log.match(/mosquitto version \S+ running/g) ?? [];
    const guardInits = log.match(/subscribe-guard: refusing SUBSCRIBE from every client but 'farmiq-bridge-test'/g) ?? [];
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(guardInits.length).toBe(starts.length);
    expect(log.slice(log.lastIndexOf('running')).match(/Reloading config/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  });

  test("the ACL gives a sensor no read rule; a future one (a downlink) must stay within the device's own prefix or its farm's sirens", () => {
    const d = { username: 'acl-unit', tenantId: crypto.randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: 'dev-1', kind: 'sensor' as const };
    const own = `${d.tenantId}/farm-1/barn-1/dev-1`;
    // The device's section (what follows its user line): every rule but the write-only ones.
    const readRules = (acl: string) =>
      acl
        .slice(acl.indexOf(`user ${d.username}`))
        .split('\n')
        .filter((l) => /^(topic (?!write )|pattern )/.test(l));
    expect(readRules(renderAcl([d], 'bridge-user'))).toEqual([]);
    expect(readRules(renderAcl([d], 'bridge-user', () => [`farmiq/${d.tenantId}/farm-1/+/alarm/siren`]))).toEqual([
      `topic read farmiq/${d.tenantId}/farm-1/+/alarm/siren`,
    ]);
    expect(readRules(renderAcl([d], 'bridge-user', () => [`iot/cmd/${own}/#`, `iot/cmd/${own}`]))).toEqual([
      `topic read iot/cmd/${own}/#`,
      `topic read iot/cmd/${own}`,
    ]);
    const foreign = [
      '#',
      '+/#',
      'iot/#',
      `iot/+/${own}/#`,
      `iot/cmd/${d.tenantId}/farm-1/barn-1/+/#`,
      `iot/cmd/${d.tenantId}/farm-1/barn-1/dev-2/#`,
      `iot/cmd/${d.tenantId}/#`,
      `farmiq/bridge/#`,
      // Sirens: only the device's own farm's (siren-subscribe.test.ts), never another farm's or all.
      `farmiq/${d.tenantId}/farm-2/+/alarm/siren`,
      `farmiq/${crypto.randomUUID()}/farm-1/+/alarm/siren`,
      'farmiq/+/+/+/alarm/siren',
      `farmiq/${d.tenantId}/farm-1/#`,
    ];
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
    await until('the broker to drop the revoked connection', 10_000, () => closed);
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
    await until('the queued messages to stop arriving', 30_000, () => {
      if (seen.size !== last.size) last = { size: seen.size, at: Date.now() };
      return seen.size === total || Date.now() - last.at > 3000;
    });
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
    await until('the 200 KiB message at the bridge', 10_000, () => received.length === 1);
    expect(received[0].payload.length).toBe(big.length);

    let closed = false;
    device.on('close', () => (closed = true));
    device.publish(telemetryTopic(a, 'temperature'), 'y'.repeat(1024 * 1024 + 1), { qos: 1 });
    await until('the broker to disconnect the device', 10_000, () => closed);
    expect(received).toHaveLength(1);
  });
});
