/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * The device simulator against the real farm-server path and on to the cloud: a private Mosquitto
 * with the project's config, auth and ACL, the real MQTT bridge, the edge worker process (WeighVision
 * session workflows with the ONNX model, and the sync forwarder), the edge station API and S3 store
 * for the photos, then cloud HTTP, RabbitMQ and the cloud consumers (test/integration/support.ts),
 * each suite with its own databases. The simulator provisions its own devices and flocks, publishes
 * with each device's own credentials, and what it reports having sent is what the edge stored and
 * what reached the cloud.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Pool } from 'pg';
import { settings } from '../../config/settings';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { revokeDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { temporalSessionSignaller } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { createEdgeApp } from '../../gateways/http/edge-app';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore } from '../../weighvision/media/object-store';
import { temporalSessionDirectory, type SessionDirectory } from '../../weighvision/media/session-directory';
import type { SessionConfig } from '../../weighvision/session-contract';
import { parseFarmDescription } from '../../simulator/farm-description';
import { writeFarmState, type FarmState } from '../../simulator/farm-state';
import { provisionFarm } from '../../simulator/provision';
import { planWindow } from '../../simulator/plan';
import { Simulator, startOfUtcDay } from '../../simulator/simulator';
import { totalBroken, type SimulationCounts } from '../../simulator/counts';
import { openDatabases, SyncStack, type Databases } from '../integration/support';
import { bridgeOptions, waitForCount } from '../support/bridge';
import { freePort, startTestBroker, type TestBroker } from '../support/broker';
import { FarmiqProcess } from '../support/processes';
import { repoRoot, temporalAddress } from '../support/stack';

jest.setTimeout(170_000);

const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';
const tenantId = randomUUID();
const farmId = 'sim-farm';
const barns = ['broiler-1', 'pig-1'];
const config: SessionConfig = { finalizeTimeoutSeconds: 120, imageWaitSeconds: 60, disagreementRatio: 0.15 };
const seed = 7;

const farm = parseFarmDescription({
  tenant_id: tenantId,
  farm_id: farmId,
  time_zone: 'UTC',
  barns: [
    { barn_id: 'broiler-1', flock: { breed: 'ross-308', head_count: 10000, age_at_placement_days: 0, placed_days_ago: 10 } },
    { barn_id: 'pig-1', flock: { breed: 'grow-finish', head_count: 500, age_at_placement_days: 70, placed_days_ago: 10 } },
  ].map((b) => ({ ...b, climate_sensors: ['climate-1'], weighvision_stations: ['wv-1'], feed_dispensers: ['feeder-1'], mortality_counters: ['mortality-1'] })),
  // Live: fast enough that a few seconds hold every kind; a session every 3 s per station.
  live: { climate_interval_s: 1, session_interval_s: 3, feed_interval_s: 2, mortality_interval_s: 2 },
  backfill: { climate_interval_s: 3600, session_interval_s: 43200, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0.05, broken: 0.08 },
  weighing: { readings_min: 3, readings_max: 5, images: 2, two_animals: 0.1, half_on: 0.1 },
});

let db: Databases;
let pool: Pool;
let stack: SyncStack;
let broker: TestBroker;
let bridge: MqttBridge;
let store: ObjectStore;
let server: http.Server;
let sessions: SessionDirectory;
let state: FarmState;
let httpBase: string;

beforeAll(async () => {
  db = await openDatabases('simulator');
  pool = db.edge;
  stack = await SyncStack.create({ label: 'simulator', db, tenants: [tenantId] });
  broker = await startTestBroker({ pool });
  const provisioned = await provisionFarm(pool, farm);
  state = provisioned.state;
  // Two barns × four devices, two flocks: hand-counted from the description.
  expect(provisioned.devicesProvisioned).toBe(8);
  expect(provisioned.flocksPlaced).toBe(2);
  // Provisioning again changes nothing: the same flocks, the same credentials.
  const again = await provisionFarm(pool, farm, state);
  expect([again.devicesProvisioned, again.flocksPlaced]).toEqual([0, 0]);
  expect(again.state).toEqual(state);
  // A device the farm server no longer has active gets new credentials; the others keep theirs.
  const key = 'pig-1/climate-1';
  expect(await revokeDevice(pool, state.credentials[key].username)).toBe(true);
  const renewed = await provisionFarm(pool, farm, state);
  expect(renewed.devicesProvisioned).toBe(1);
  expect(renewed.state.credentials[key].password).not.toBe(state.credentials[key].password);
  expect(renewed.state.credentials['broiler-1/climate-1']).toEqual(state.credentials['broiler-1/climate-1']);
  state = renewed.state;
  await broker.reload();

  store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
  await store.ensureBucket();
  await stack.startAll();
  bridge = new MqttBridge(
    { ...bridgeOptions(broker), databaseUrl: db.edgeUrl, sessions: temporalSessionSignaller(stack.temporal, { taskQueue: stack.taskQueue, config }) },
    pino({ level: 'silent' }),
  );
  await bridge.start();
  sessions = temporalSessionDirectory({ address: temporalAddress, namespace });
  server = http.createServer(createEdgeApp({ pool, log: pino({ level: 'silent' }), sessions, objectStore: store }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 170_000);

afterAll(async () => {
  await bridge?.stop();
  if (server) await new Promise((resolve) => server.close(resolve));
  await sessions?.close();
  await broker?.stop();
  await stack?.cleanup();
  store?.close();
  if (db) {
    // openDatabases empties the sync tables at the next start; the tenant's farm rows go here.
    const edgeTables = ['weighvision_weights', 'inference_results', 'media_objects', 'weighvision_sessions', 'station_calibrations', 'feed_intake_local'];
    const cloudTables = ['weighvision_weights', 'inference_results', 'media_objects', 'weighvision_sessions', 'feed_intake', 'telemetry_raw'];
    for (const t of [...edgeTables, 'flock_daily_counts', 'flocks'])
      await db.edge.query(`DELETE FROM ${t} WHERE tenant_id = $1`, [tenantId]).catch(() => undefined);
    for (const t of [...cloudTables, 'flock_daily_counts', 'flocks'])
      await db.cloud.query(`DELETE FROM ${t} WHERE tenant_id = $1`, [tenantId]).catch(() => undefined);
    await db.close();
  }
}, 60_000);

function simulator(): Simulator {
  return new Simulator({ state, seed, mqttUrl: broker.url, stationHttpBase: httpBase, log: pino({ level: 'silent' }) });
}

async function perBarn(sql: string, params: unknown[] = []): Promise<Record<string, number>> {
  const r = await pool.query<{ barn: string; n: string }>(sql, [tenantId, ...params]);
  return Object.fromEntries(barns.map((b) => [b, Number(r.rows.find((x) => x.barn === b)?.n ?? 0)]));
}

/** What the edge holds for the tenant, per barn and kind. */
async function edgeCounts() {
  return {
    readings: await perBarn('SELECT barn_id AS barn, count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 GROUP BY 1'),
    feed: await perBarn('SELECT barn_id AS barn, count(*) AS n FROM feed_intake_local WHERE tenant_id = $1 GROUP BY 1'),
    mortality: await perBarn(
      `SELECT envelope->>'barn_id' AS barn, count(*) AS n FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'flock.mortality.recorded' GROUP BY 1`,
    ),
    // Concluded either way: a half-on animal (no stable reading, vision flags it cut) or a broiler the pig model
    // cannot see, with no stable reading, fails; the rest finalize.
    sessions: await perBarn(
      `SELECT barn_id AS barn, count(*) AS n FROM weighvision_sessions WHERE tenant_id = $1 AND status IN ('finalized', 'failed') GROUP BY 1`,
    ),
    finalized: await perBarn(`SELECT barn_id AS barn, count(*) AS n FROM weighvision_sessions WHERE tenant_id = $1 AND status = 'finalized' GROUP BY 1`),
    images: await perBarn(
      `SELECT s.barn_id AS barn, count(*) AS n FROM inference_results i JOIN weighvision_sessions s USING (tenant_id, session_id)
        WHERE i.tenant_id = $1 GROUP BY 1`,
    ),
    weights: await perBarn(
      `SELECT s.barn_id AS barn, count(*) AS n FROM weighvision_weights w JOIN weighvision_sessions s USING (tenant_id, session_id) WHERE w.tenant_id = $1 GROUP BY 1`,
    ),
    dayRows: await perBarn(
      `SELECT f.barn_id AS barn, count(*) AS n FROM flock_daily_counts d JOIN flocks f USING (tenant_id, flock_id) WHERE d.tenant_id = $1 GROUP BY 1`,
    ),
  };
}

/** The tenant's quarantine by reason; `mqtt` alone leaves out a presign that came before its session (retried). */
async function rejectsByReason(source?: 'mqtt'): Promise<Record<string, number>> {
  const r = await pool.query<{ reason: string; n: string }>(
    'SELECT reason, count(*) AS n FROM ingress_rejects WHERE tenant_id = $1 AND ($2::text IS NULL OR source = $2) GROUP BY 1',
    [tenantId, source ?? null],
  );
  return Object.fromEntries(r.rows.map((x) => [x.reason, Number(x.n)]));
}

function sum(counts: SimulationCounts, kind: 'readings' | 'feed' | 'mortality' | 'sessions' | 'images'): number {
  return barns.reduce((a, b) => a + counts[b][kind], 0);
}

function brokenByReason(...all: SimulationCounts[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of all) for (const b of barns) for (const [reason, n] of Object.entries(c[b].broken)) out[reason] = (out[reason] ?? 0) + n;
  return out;
}

/** Waits until the edge holds what the simulator says it sent (sessions conclude after their inferences). */
async function settle(expected: SimulationCounts, base: Awaited<ReturnType<typeof edgeCounts>>): Promise<Awaited<ReturnType<typeof edgeCounts>>> {
  const total = (kind: 'readings' | 'feed' | 'mortality' | 'sessions' | 'images') => sum(expected, kind) + barns.reduce((a, b) => a + base[kind][b], 0);
  const target = total('readings') + total('feed') + total('mortality') + total('sessions') + total('images');
  await waitForCount(
    async () => {
      const c = await edgeCounts();
      return (['readings', 'feed', 'mortality', 'sessions', 'images'] as const).reduce((a, k) => a + barns.reduce((x, b) => x + c[k][b], 0), 0);
    },
    target,
    30_000,
  );
  return edgeCounts();
}

let live: SimulationCounts;
/** The UTC days the live run touched (two when it ran across midnight): the farm days it reported on. */
const liveDays = new Set<string>();
let afterLive: Awaited<ReturnType<typeof edgeCounts>>;

describe('a short live run', () => {
  it('lands readings, sessions with images and inference, feed and mortality for every barn, as counted', async () => {
    const zero = await edgeCounts();
    const sim = simulator();
    const start = new Date();
    const end = new Date(start.getTime() + 7000);
    live = await sim.run({ until: end, tickMs: 250 });
    for (const t of [start, end]) liveDays.add(t.toISOString().slice(0, 10));
    await sim.close();
    afterLive = await settle(live, zero);
    for (const b of barns) {
      expect(live[b].failures).toBe(0);
      // 7 s on 1 s / 3 s / 2 s / 2 s cadences: 6-7 climate slots of 4 metrics, 2-3 sessions, 3-4 feed and mortality reports.
      expect(live[b].readings + live[b].dropouts + totalBroken(live[b])).toBeGreaterThanOrEqual(24);
      expect(live[b].sessions).toBeGreaterThanOrEqual(2);
      expect(live[b].feed).toBeGreaterThanOrEqual(3);
      expect(live[b].mortality).toBeGreaterThanOrEqual(3);
      expect(live[b].images).toBe(2 * live[b].sessions);
      expect(afterLive.readings[b]).toBe(live[b].readings);
      expect(afterLive.feed[b]).toBe(live[b].feed);
      expect(afterLive.mortality[b]).toBe(live[b].mortality);
      expect(afterLive.sessions[b]).toBe(live[b].sessions);
      expect(afterLive.images[b]).toBe(live[b].images);
      expect(afterLive.weights[b]).toBe(live[b].weightReadings);
      // A lone animal fully on the scale always has stable readings: its session finalizes.
      expect(afterLive.finalized[b]).toBeGreaterThanOrEqual(live[b].sessionCases.normal);
      expect(afterLive.sessions[b] - afterLive.finalized[b]).toBeLessThanOrEqual(live[b].sessionCases.half_on + live[b].sessionCases.two_animals);
      // One day row per barn and day reported on.
      expect(afterLive.dayRows[b]).toBe(liveDays.size);
    }
    expect(await rejectsByReason('mqtt')).toEqual(brokenByReason(live));
  });
});

describe('a backfill of three days', () => {
  const until = startOfUtcDay(new Date());
  let first: SimulationCounts;

  it('lands complete: every slot of the backfill cadence, and its broken readings in ingress_rejects', async () => {
    const sim = simulator();
    const progress: { done: number; total: number }[] = [];
    first = await sim.backfill({ days: 3, until, onProgress: (p) => progress.push(p) });
    // 2 barns × (288 reading slots + 6 sessions + 12 feed + 3 mortality) = 618 actions, the last report says all done.
    expect(progress.at(-1)).toEqual({ done: 618, total: 618 });
    await sim.close();
    const after = await settle(first, afterLive);
    for (const b of barns) {
      expect(first[b].failures).toBe(0);
      // 3 days × 24 hourly slots × 4 metrics = 288 reading slots per sensor; sessions every 12 h = 6;
      // feed every 6 h = 12; one mortality report per day = 3.
      expect(first[b].readings + first[b].dropouts + totalBroken(first[b])).toBe(288);
      expect(first[b].sessions).toBe(6);
      expect(first[b].images).toBe(12);
      expect(first[b].feed).toBe(12);
      expect(first[b].mortality).toBe(3);
      expect(after.readings[b] - afterLive.readings[b]).toBe(first[b].readings);
      expect(after.feed[b] - afterLive.feed[b]).toBe(12);
      expect(after.mortality[b] - afterLive.mortality[b]).toBe(3);
      expect(after.sessions[b] - afterLive.sessions[b]).toBe(6);
      expect(after.images[b] - afterLive.images[b]).toBe(12);
      expect(after.weights[b] - afterLive.weights[b]).toBe(first[b].weightReadings);
      // Each session has 3 to 5 readings.
      expect(first[b].weightReadings).toBeGreaterThanOrEqual(6 * 3);
      expect(first[b].weightReadings).toBeLessThanOrEqual(6 * 5);
      expect(after.finalized[b] - afterLive.finalized[b]).toBeGreaterThanOrEqual(first[b].sessionCases.normal);
      // The three past days plus the live run's (today).
      const days = new Set([1, 2, 3].map((n) => new Date(until.getTime() - n * 86_400_000).toISOString().slice(0, 10)));
      for (const d of liveDays) days.add(d);
      expect(after.dayRows[b]).toBe(days.size);
      expect(days.size).toBeGreaterThanOrEqual(4);
    }
    // At 8 % broken over 576 slots, some broken readings are certain for this seed; each ends quarantined with its reason.
    expect(totalBroken(first[barns[0]]) + totalBroken(first[barns[1]])).toBeGreaterThan(0);
    expect(await rejectsByReason('mqtt')).toEqual(brokenByReason(live, first));
  });

  it('played again adds no data: events dedupe, concluded sessions are refused as closed', async () => {
    const before = await edgeCounts();
    const rejectsBefore = await rejectsByReason();
    const sim = simulator();
    const again = await sim.backfill({ days: 3, until });
    await sim.close();
    // The same messages were sent; no session was played again (each presign found it closed).
    for (const b of barns) {
      expect(again[b].failures).toBe(0);
      expect(again[b].readings).toBe(first[b].readings);
      expect(again[b].broken).toEqual(first[b].broken);
      expect(again[b].sessions).toBe(0);
    }
    // Give the bridge time to commit what it received (its counts must stay put).
    await waitForCount(async () => Object.values(await rejectsByReason()).reduce((a, b) => a + b, 0), Number.MAX_SAFE_INTEGER, 3000);
    expect(await edgeCounts()).toEqual(before);
    // What a replay does add is quarantine records: the broken readings again, and each replayed session's
    // created and readings as session_closed (a session's workflow refuses events once concluded), its presign as
    // session_not_open.
    const plan = planWindow(state, seed, farm.backfill, new Date(until.getTime() - 3 * 86_400_000), until);
    const sessionEvents = plan.reduce((a, x) => a + (x.kind === 'session' ? 1 + x.weighing.readings.length : 0), 0);
    expect(sessionEvents).toBeGreaterThanOrEqual(12 * (1 + 3));
    const after = await rejectsByReason();
    const added = Object.fromEntries(
      Object.keys(after)
        .map((k) => [k, after[k] - (rejectsBefore[k] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    expect(added).toEqual({ ...brokenByReason(first), session_closed: sessionEvents, session_not_open: 12 });
  });
});

describe('sync to the cloud', () => {
  /** What the cloud holds for the tenant, per barn and kind. */
  async function cloudCounts() {
    const q = async (sql: string) => {
      const r = await db.cloud.query<{ barn: string; n: string }>(sql, [tenantId]);
      return Object.fromEntries(barns.map((b) => [b, Number(r.rows.find((x) => x.barn === b)?.n ?? 0)]));
    };
    return {
      readings: await q('SELECT barn_id AS barn, count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 GROUP BY 1'),
      feed: await q('SELECT barn_id AS barn, count(*) AS n FROM feed_intake WHERE tenant_id = $1 GROUP BY 1'),
      sessions: await q(
        `SELECT barn_id AS barn, count(*) AS n FROM weighvision_sessions WHERE tenant_id = $1 AND status IN ('finalized', 'failed') GROUP BY 1`,
      ),
      images: await q(
        `SELECT s.barn_id AS barn, count(*) AS n FROM inference_results i JOIN weighvision_sessions s USING (tenant_id, session_id) WHERE i.tenant_id = $1 GROUP BY 1`,
      ),
      dayRows: await q('SELECT barn_id AS barn, count(*) AS n FROM flock_daily_counts WHERE tenant_id = $1 GROUP BY 1'),
    };
  }

  it('carries every reading, feed record, concluded session with its inferences and day count the edge holds', async () => {
    const edge = await edgeCounts();
    const want = { readings: edge.readings, feed: edge.feed, sessions: edge.sessions, images: edge.images, dayRows: edge.dayRows };
    const flat = (c: typeof want) => Object.values(c).reduce((a, per) => a + barns.reduce((x, b) => x + per[b], 0), 0);
    await waitForCount(async () => flat(await cloudCounts()), flat(want), 60_000);
    expect(await cloudCounts()).toEqual(want);
    // Each barn's flock arrived once, from its placement.
    const flocks = await db.cloud.query<{ barn_id: string }>('SELECT barn_id FROM flocks WHERE tenant_id = $1 ORDER BY barn_id', [tenantId]);
    expect(flocks.rows.map((r) => r.barn_id)).toEqual(barns);
  });
});

describe('the simulator process', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-simulator-'));
  const farmFile = path.join(dir, 'farm.json');
  const stateFile = path.join(dir, 'state.json');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses to start without a provisioned farm, naming what to do', () => {
    fs.writeFileSync(farmFile, JSON.stringify(farm));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'simulator/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, FARMIQ_CONFIG: '', SIMULATOR_FARM_FILE: farmFile, SIMULATOR_STATE_FILE: path.join(dir, 'missing.json'), LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/no provisioned state for farm sim-farm .*provision the farm first/);
  });

  it('reports healthy, publishes as the devices, and stops cleanly on SIGTERM with its counts in the log', async () => {
    writeFarmState(stateFile, state);
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
    const port = await freePort();
    const proc = new FarmiqProcess({
      name: 'simulator',
      entry: 'simulator/main.ts',
      env: {
        SIMULATOR_FARM_FILE: farmFile,
        SIMULATOR_STATE_FILE: stateFile,
        SIMULATOR_HEALTH_PORT: String(port),
        SIMULATOR_STATION_URL: httpBase,
        MQTT_URL: broker.url,
        LOG_LEVEL: 'info',
      },
      healthUrl: `http://127.0.0.1:${port}/health`,
      startTimeoutMs: 60_000,
    });
    const before = (await edgeCounts()).readings;
    await proc.start();
    try {
      await waitForCount(async () => (await edgeCounts()).readings['pig-1'], before['pig-1'] + 8, 20_000);
      const health = JSON.parse(await proc.get('/health')) as { component: string; status: string };
      expect([health.component, health.status]).toEqual(['simulator', 'ok']);
    } finally {
      expect(await proc.stop()).toBe(0);
    }
    expect((await edgeCounts()).readings['pig-1']).toBeGreaterThanOrEqual(before['pig-1'] + 8);
    expect(proc.output()).toContain('simulation run sent');
  });
});
