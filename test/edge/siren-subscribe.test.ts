/**
 * Sirens and relays subscribe with their own device login (kind siren), against a real Mosquitto
 * rendered from the project template with the subscribe guard (infra/mosquitto/subscribe-guard/):
 * a siren filter `farmiq/<tenant>/<farm>/<barn|+>/alarm/siren` passes the guard and the acl_file's
 * read rules decide delivery (a siren reads its own farm's, not another farm's; a sensor nothing);
 * every other filter is refused in the SUBACK as before; the bridge is unchanged.
 */
import crypto from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient, type OnPacketCallback } from 'mqtt';
import { Pool } from 'pg';
import { sirenTopic } from '../../alarms/local-channels/mqtt-siren';
import { provisionDevice, type DeviceCredentials, type DeviceKind } from '../../gateways/mqtt-bridge/broker/credentials';
import { alarmSirenFilter, deviceReadFilters, isSirenFilter, renderAcl } from '../../gateways/mqtt-bridge/broker/render';
import { startTestBroker, type TestBroker } from '../support/broker';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';

jest.setTimeout(60_000);

const NOT_AUTHORIZED = 0x87;
const FAILURE = 0x80;
/** The worker's siren publisher: writes the siren topics, reads nothing. */
const publisher = { username: 'farmiq-alarms-siren-test', password: crypto.randomBytes(12).toString('hex'), write: [alarmSirenFilter] };

const tenant = crypto.randomUUID();
const otherTenant = crypto.randomUUID();
let pool: Pool;
let broker: TestBroker;
const clients: MqttClient[] = [];

async function connect(opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, clean: true, ...opts });
  clients.push(client);
  return client;
}

async function device(farmId: string, deviceId: string, kind: DeviceKind, tenantId = tenant): Promise<DeviceCredentials> {
  const creds = await provisionDevice(pool, { tenantId, farmId, barnId: 'barn-1', deviceId, kind });
  await broker.reload();
  return creds;
}

/** The SUBACK's reason codes, one per filter (refusals included). */
async function subackCodes(client: MqttClient, filters: string | string[]): Promise<number[]> {
  const suback = new Promise<number[]>((resolve) => {
    const onPacket: OnPacketCallback = (packet) => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve((packet.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos)));
    };
    client.on('packetreceive', onPacket);
  });
  await client.subscribeAsync(filters, { qos: 1 }).catch(() => undefined);
  return suback;
}

/** Collects what a client receives. */
function inbox(client: MqttClient): { topic: string; siren: string; retain: boolean }[] {
  const got: { topic: string; siren: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) =>
    got.push({ topic, siren: (JSON.parse(payload.toString()) as { siren: string }).siren, retain: packet.retain }),
  );
  return got;
}

const farmA = { tenantId: tenant, farmId: 'farm-a', barnId: 'barn-1' };
const farmA2 = { tenantId: tenant, farmId: 'farm-a', barnId: 'barn-2' };
const farmB = { tenantId: tenant, farmId: 'farm-b', barnId: 'barn-1' };
const otherTenantsFarm = { tenantId: otherTenant, farmId: 'farm-a', barnId: 'barn-1' };

/** The worker's retained siren messages, published before anyone subscribes. */
async function publishRetained(place: Parameters<typeof sirenTopic>[0], siren: 'on' | 'off'): Promise<void> {
  const worker = await connect(publisher);
  await worker.publishAsync(sirenTopic(place), JSON.stringify({ siren }), { qos: 1, retain: true });
  await worker.endAsync();
}

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 3 });
  broker = await startTestBroker({ pool, extraUsers: [publisher] });
  await publishRetained(farmA, 'on');
  await publishRetained(farmA2, 'off');
  await publishRetained(farmB, 'on');
  await publishRetained(otherTenantsFarm, 'on');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

afterAll(async () => {
  await broker?.stop();
  await pool?.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [[tenant, otherTenant]]);
  await pool?.end();
});

describe('the rules', () => {
  test('a siren device reads its farm sirens and writes nothing; other kinds read nothing', () => {
    const siren = { username: 'u-siren', tenantId: tenant.toUpperCase(), farmId: 'farm-a', barnId: 'yard', deviceId: 'relay-1', kind: 'siren' as const };
    expect(deviceReadFilters(siren)).toEqual([`farmiq/${tenant}/farm-a/+/alarm/siren`]);
    const sensor = { ...siren, username: 'u-sensor', deviceId: 'sensor-1', kind: 'sensor' as const };
    expect(deviceReadFilters(sensor)).toEqual([]);
    const acl = renderAcl([siren, sensor], 'bridge').split('\n');
    const section = acl.slice(acl.indexOf('user u-siren'), acl.indexOf('user u-siren') + 3);
    expect(section).toEqual(['user u-siren', `topic read farmiq/${tenant}/farm-a/+/alarm/siren`, '']);
    expect(acl.filter((l) => l.startsWith('topic read farmiq/'))).toHaveLength(2); // the bridge's and the siren's
  });

  test('which filters the guard lets through (the same test as subscribe_guard.c)', () => {
    for (const f of [`farmiq/${tenant}/farm-a/+/alarm/siren`, `farmiq/${tenant}/farm-a/barn-1/alarm/siren`, `farmiq/${tenant}/farm-a/_farm/alarm/siren`]) {
      expect([f, isSirenFilter(f)]).toEqual([f, true]);
    }
    for (const f of [
      '#',
      'farmiq/#',
      `farmiq/+/farm-a/+/alarm/siren`,
      `farmiq/${tenant}/+/+/alarm/siren`,
      `farmiq/${tenant}/farm-a/#`,
      `farmiq/${tenant}/farm-a/b+/alarm/siren`,
      `farmiq/${tenant}/farm-a/+/alarm/siren/x`,
      `farmiq/${tenant}/farm-a/+/alarm/#`,
      `$share/g/farmiq/${tenant}/farm-a/+/alarm/siren`,
      `farmiq/${tenant}//+/alarm/siren`,
    ]) {
      expect([f, isSirenFilter(f)]).toEqual([f, false]);
    }
  });
});

describe('a siren subscribes with its own login', () => {
  test("a siren of farm A receives its barns' retained sirens, not farm B's nor another tenant's", async () => {
    const creds = await device('farm-a', 'relay-a', 'siren');
    const client = await connect(creds);
    const got = inbox(client);
    expect(
      await subackCodes(client, [
        `farmiq/${tenant}/farm-a/+/alarm/siren`,
        `farmiq/${tenant}/farm-b/+/alarm/siren`,
        `farmiq/${otherTenant}/farm-a/+/alarm/siren`,
      ]),
    ).toEqual([1, 1, 1]);
    await until('farm A sirens', 10_000, () => got.length >= 2);
    // The siren may not write: its 'off' on its own barn's topic is dropped (no write rule).
    await client.publishAsync(sirenTopic(farmA), JSON.stringify({ siren: 'off' }), { qos: 1 }).catch(() => undefined);
    // Retained messages follow the SUBACK before any live one: once this live one is in, farm B's
    // and the other tenant's (retained too) would have arrived had they been delivered.
    const worker = await connect(publisher);
    await worker.publishAsync(sirenTopic(farmA), JSON.stringify({ siren: 'on' }), { qos: 1, retain: true });
    await until('the live farm A message', 10_000, () => got.some((m) => !m.retain));
    expect(got.map((m) => [m.topic, m.siren, m.retain]).sort()).toEqual(
      [
        [sirenTopic(farmA), 'on', true],
        [sirenTopic(farmA2), 'off', true],
        [sirenTopic(farmA), 'on', false],
      ].sort(),
    );
  });

  test('a siren subscribing to one barn hears that barn only', async () => {
    const client = await connect(await device('farm-a', 'relay-barn-2', 'siren'));
    const got = inbox(client);
    expect(await subackCodes(client, sirenTopic(farmA2))).toEqual([1]);
    await until('barn 2', 10_000, () => got.length >= 1);
    expect(got).toEqual([{ topic: sirenTopic(farmA2), siren: 'off', retain: true }]);
  });

  test("'#', 'farmiq/+/…', a wildcard farm and other topics are refused in the SUBACK (MQTT 5 and 3.1.1)", async () => {
    const creds = await device('farm-a', 'relay-greedy', 'siren');
    const refusedFilters = [
      '#',
      `farmiq/+/farm-a/+/alarm/siren`,
      `farmiq/${tenant}/+/+/alarm/siren`,
      `farmiq/${tenant}/farm-a/#`,
      'iot/#',
      `$share/g/farmiq/${tenant}/farm-a/+/alarm/siren`,
    ];
    const v5 = await connect(creds);
    expect(await subackCodes(v5, refusedFilters)).toEqual(refusedFilters.map(() => NOT_AUTHORIZED));
    await v5.endAsync(true);
    const v4 = await connect({ ...creds, protocolVersion: 4 });
    expect(await subackCodes(v4, ['#', `farmiq/+/farm-a/+/alarm/siren`])).toEqual([FAILURE, FAILURE]);
  });

  test('a sensor may subscribe to a siren filter but receives nothing (no read rule)', async () => {
    const client = await connect(await device('farm-a', 'sensor-1', 'sensor'));
    const got = inbox(client);
    expect(await subackCodes(client, [`farmiq/${tenant}/farm-a/+/alarm/siren`, '#'])).toEqual([1, NOT_AUTHORIZED]);
    // A retained and a live siren message later, a siren subscribed alongside has them; the sensor none.
    const witness = await connect(await device('farm-a', 'relay-witness', 'siren'));
    const heard = inbox(witness);
    await witness.subscribeAsync(`farmiq/${tenant}/farm-a/+/alarm/siren`, { qos: 1 });
    const worker = await connect(publisher);
    await worker.publishAsync(sirenTopic(farmA2), JSON.stringify({ siren: 'off' }), { qos: 1, retain: true });
    await until('the witness', 10_000, () => heard.some((m) => !m.retain));
    expect(got).toEqual([]);
  });

  test('the bridge still subscribes to everything it did', async () => {
    const bridge = await connect({ ...broker.bridge, clientId: `bridge-${crypto.randomUUID()}` });
    expect(await subackCodes(bridge, ['iot/#', 'farmiq/bridge/#', alarmSirenFilter, '#'])).toEqual([1, 1, 1, 1]);
  });
});
