/**
 * A climate excursion picked up by a running live simulator, against a real Mosquitto (the
 * project's config, auth and ACL; test/support/broker.ts): the simulator plays a barn's climate
 * sensor through the broker, `farmiq simulator excursion add` (its function, on the same settings)
 * writes the excursions file next to the state file, and from the excursion's start the published
 * temperature is the normal one + 8 °C — the same run, no restart. What "normal" is comes from the
 * plan itself (the values are deterministic), so the jump is checked reading by reading.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Pool } from 'pg';
import { excursionAdd, excursionList, excursionRows } from '../../cli/commands/simulator';
import { loadSettings } from '../../config/settings';
import { excursionsFileFor } from '../../simulator/excursions';
import { parseFarmDescription } from '../../simulator/farm-description';
import { writeFarmState, type FarmState } from '../../simulator/farm-state';
import { planWindow } from '../../simulator/plan';
import { provisionFarm } from '../../simulator/provision';
import { Simulator } from '../../simulator/simulator';
import { startTestBroker, type TestBroker } from '../support/broker';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';

jest.setTimeout(90_000);

const tenantId = randomUUID();
const seed = 11;
const farm = parseFarmDescription({
  tenant_id: tenantId,
  farm_id: 'excursion-farm',
  barns: [{ barn_id: 'barn-1', flock: { breed: 'ross-308', head_count: 1000, age_at_placement_days: 0, placed_days_ago: 10 }, climate_sensors: ['climate-1'] }],
  live: { climate_interval_s: 1, session_interval_s: 3600, feed_interval_s: 3600, mortality_interval_s: 3600 },
  backfill: { climate_interval_s: 3600, session_interval_s: 43200, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0, broken: 0 },
  weighing: { readings_min: 3, readings_max: 5, images: 0, two_animals: 0, half_on: 0 },
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-excursion-live-'));
const farmFile = path.join(dir, 'farm.json');
const stateFile = path.join(dir, 'state.json');
const cliSettings = () => loadSettings({ SIMULATOR_FARM_FILE: farmFile, SIMULATOR_STATE_FILE: stateFile, FARMIQ_HOME: dir }, { localSecrets: false });

let pool: Pool;
let broker: TestBroker;
let listener: MqttClient;
let state: FarmState;
const temperatures: { ts: string; value: number }[] = [];

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 2 });
  state = (await provisionFarm(pool, farm)).state;
  fs.writeFileSync(farmFile, JSON.stringify(farm));
  writeFarmState(stateFile, state);
  broker = await startTestBroker({ pool });
  // Only the bridge's login may subscribe on the farm broker.
  listener = await mqtt.connectAsync(broker.url, {
    username: broker.bridge.username,
    password: broker.bridge.password,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  listener.on('message', (topic, payload) => {
    if (!topic.endsWith('/temperature')) return;
    const m = JSON.parse(payload.toString()) as { ts: string; payload: { value: number } };
    temperatures.push({ ts: m.ts, value: m.payload.value });
  });
  await listener.subscribeAsync(`iot/telemetry/${tenantId}/#`, { qos: 1 });
});

afterAll(async () => {
  await listener?.endAsync();
  await broker?.stop();
  if (pool) {
    for (const t of ['edge_devices', 'flocks', 'sync_outbox']) await pool.query(`DELETE FROM ${t} WHERE tenant_id = $1`, [tenantId]).catch(() => undefined);
    await pool.end();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The temperature the plan publishes at `ts` without any excursion. */
function normalAt(ts: string): number {
  const at = new Date(ts);
  const [a] = planWindow(state, seed, farm.live, at, new Date(at.getTime() + 1)).filter((x) => x.kind === 'reading' && x.metric === 'temperature');
  if (a?.kind !== 'reading') throw new Error(`no temperature planned at ${ts}`);
  return a.value;
}

test('an excursion added while the simulator runs moves the published temperature by +8 °C from its start, without a restart', async () => {
  const sim = new Simulator({
    state,
    seed,
    mqttUrl: broker.url,
    stationHttpBase: 'http://127.0.0.1:9',
    log: pino({ level: 'silent' }),
    excursionsFile: excursionsFileFor(stateFile),
  });
  const stop = new AbortController();
  const running = sim.run({ signal: stop.signal, tickMs: 200 });
  try {
    await until('three normal readings', 20_000, () => temperatures.length >= 3);
    // Starting a second from now: the slot at the start is planned after the file was written.
    const { excursion, file } = excursionAdd(cliSettings(), { barn: 'barn-1', metric: 'temperature', add: 8, minutes: 30, startsInSeconds: 1 });
    expect(file).toBe(path.join(dir, 'excursions.json'));
    const start = Date.parse(excursion.starts_at);
    await until('three readings inside the excursion', 20_000, () => temperatures.filter((t) => Date.parse(t.ts) >= start).length >= 3);

    const listed = excursionList(cliSettings(), new Date(start + 1000));
    expect(listed).toEqual([{ ...excursion, status: 'active' }]);
    expect(excursionRows(listed, new Date(start + 1000))).toEqual([
      {
        id: excursion.id,
        barn: 'barn-1',
        change: 'temperature +8',
        from: excursion.starts_at.replace(/\.\d+Z$/, 'Z'),
        until: expect.any(String),
        status: 'active, 29m 59s left',
      },
    ]);
  } finally {
    stop.abort();
    await running;
    await sim.close();
  }

  const start = Date.parse(excursionList(cliSettings())[0].starts_at);
  const before = temperatures.filter((t) => Date.parse(t.ts) < start);
  const during = temperatures.filter((t) => Date.parse(t.ts) >= start);
  expect(before.length).toBeGreaterThanOrEqual(3);
  expect(during.length).toBeGreaterThanOrEqual(3);
  // Before the start exactly the normal climate; from it, every reading 8 °C above it (to the sensor's 0.1 °C).
  for (const t of before) expect(t.value).toBe(normalAt(t.ts));
  for (const t of during) expect(Math.abs(t.value - normalAt(t.ts) - 8)).toBeLessThan(0.05 + 1e-9);
});

test('a sensor-silent excursion: the barn’s sensor publishes nothing for its minutes, then reads again', async () => {
  const sim = new Simulator({
    state,
    seed,
    mqttUrl: broker.url,
    stationHttpBase: 'http://127.0.0.1:9',
    log: pino({ level: 'silent' }),
    excursionsFile: excursionsFileFor(stateFile),
  });
  const stop = new AbortController();
  const running = sim.run({ signal: stop.signal, tickMs: 200 });
  let start = 0;
  let end = 0;
  try {
    // Three seconds of silence (0.05 min), starting a second from now.
    const { excursion } = excursionAdd(cliSettings(), { barn: 'barn-1', sensorSilent: true, minutes: 0.05, startsInSeconds: 1 });
    start = Date.parse(excursion.starts_at);
    end = Date.parse(excursion.ends_at);
    expect(end - start).toBe(3000);
    await until('two readings after the silence', 20_000, () => temperatures.filter((t) => Date.parse(t.ts) >= end).length >= 2);
  } finally {
    stop.abort();
    await running;
    await sim.close();
  }
  const inWindow = temperatures.filter((t) => Date.parse(t.ts) >= start && Date.parse(t.ts) < end);
  expect(inWindow).toEqual([]);
  // After it, the normal climate again, with the first excursion's +8 °C still on (it lasts 30 minutes).
  for (const t of temperatures.filter((x) => Date.parse(x.ts) >= end)) expect(Math.abs(t.value - normalAt(t.ts) - 8)).toBeLessThan(0.05 + 1e-9);
});
