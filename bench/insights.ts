/**
 * Insight generation benchmark (issue 5):  npm run bench -- insights
 *
 * Seeds 90 days of one farm with 4 barns into its own database (farmiq_cloud_bench): 20 sensors
 * per barn reading every 10 s, stored as the 1-minute and 1-hour rollups an edge syncs (6 and 360
 * readings per window; no raw readings: aggregation never reads them), 50 WeighVision sessions per
 * barn per day (daily weighings) and 6 feed dispenses per barn per day. Then it measures
 *
 *   (a) the aggregation step alone: readSummaryInputs (SQL) + buildFeatureSummary (KPI maths) for
 *       the full 90-day window, through withTenant on the farmiq_app pool, as the activity runs it;
 *   (b) POST /api/v1/dashboard/insights/generate end to end with the template writer: HTTP → router
 *       → Temporal (dev server on 127.0.0.1:7233 when one runs, else one started from
 *       .venv/bin/temporal) → worker → activities → Postgres → response, a new request id each time;
 *   (c) the floor of (b) on this machine in the same run: the same HTTP + Temporal path with
 *       activities that do no work, so (b) / (c) says what the insight itself costs.
 *
 * Targets: p95 of (b) ≤ 1.5 s; (a) ≤ 300 ms. Results: bench/results/insights-<time>.json.
 * The seeded database is kept and reused by the next run when its seed parameters match
 * (--reseed forces a new one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import pino from 'pino';
import { Client as PgClient, Pool } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createInsightActivities, type InsightActivities } from '../activities/insights/generation';
import { createInsightNotificationActivities } from '../activities/insights/notification';
import { createTenant, createUser } from '../auth/admin';
import { issueToken, tokenConfig } from '../auth/tokens';
import { settings } from '../config/settings';
import { migrate } from '../db/migrate';
import { errorHandler, notFound } from '../gateways/http/errors';
import { createInsightsRouter } from '../gateways/http/insights/insights-router';
import { requestId } from '../gateways/http/request-id';
import { readSummaryInputs, tenantScopedDb, type AggregationRequest } from '../insights/aggregation';
import { buildFeatureSummary } from '../insights/kpis/summary';
import { LocalInsightAnalyzer, templateInsight } from '../insights/llm/analyzer';
import { localPredictor } from '../insights/ml/predictor';
import { farmiqSearchAttributes } from '../domain/temporal/search-attributes';
import { asAppRole, repoRoot } from '../test/support/stack';
import { machine, withDatabase } from './support/stats';

const benchDatabase = 'farmiq_cloud_bench';
const farmId = 'bench-farm';
const barns = 4;
const sensorsPerBarn = 20; // 12 temperature + 8 humidity
const temperatureSensors = 12;
const days = 90;
const start = '2026-01-01T00:00:00Z';
const end = '2026-04-01T00:00:00Z'; // 90 days
const animalsPerBarn = 1000;
const sessionsPerBarnDay = 50;
const feedsPerBarnDay = 6;
const jwtSecret = `bench-${randomUUID()}`;

export interface InsightsBenchOptions {
  runs: number;
  aggregationRuns: number;
  floorRuns: number;
  reseed: boolean;
  minuteRollups: boolean;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function stats(values: number[]) {
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: values.length, p50: r(percentile(values, 50)), p95: r(percentile(values, 95)), max: r(Math.max(...values)), min: r(Math.min(...values)) };
}

const seedParams = { barns, sensorsPerBarn, days, start, end, animalsPerBarn, sessionsPerBarnDay, feedsPerBarnDay, version: 1 };

/** The tenant of a seeded bench database whose parameters match, or null. */
async function existingSeed(url: string, minuteRollups: boolean): Promise<{ tenantId: string; userId: string } | null> {
  const c = new PgClient({ connectionString: url });
  try {
    await c.connect();
    const r = await c.query(`SELECT value FROM bench_seed WHERE key = 'insights'`);
    const v = r.rows[0]?.value as { params: unknown; minuteRollups: boolean; tenantId: string; userId: string } | undefined;
    // jsonb does not keep key order: compare the parameters one by one.
    const same = v && Object.entries(seedParams).every(([k, value]) => (v.params as Record<string, unknown>)[k] === value);
    if (v && same && v.minuteRollups === minuteRollups) return { tenantId: v.tenantId, userId: v.userId };
    return null;
  } catch {
    return null;
  } finally {
    await c.end().catch(() => {});
  }
}

async function freshDatabase(baseUrl: string): Promise<string> {
  const admin = new PgClient({ connectionString: withDatabase(baseUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${benchDatabase} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${benchDatabase}`);
  await admin.end();
  const url = withDatabase(baseUrl, benchDatabase);
  await migrate('cloud', url);
  return url;
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const result = await fn();
  console.log(`  ${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return result;
}

/** Seeds the farm in SQL (generate_series on the server: nothing crosses the wire per row). */
async function seed(url: string, minuteRollups: boolean): Promise<{ tenantId: string; userId: string }> {
  const pool = new Pool({ connectionString: url, max: barns });
  try {
    const tenant = await createTenant(pool, 'Bench tenant');
    const user = await createUser(pool, { tenantId: tenant.id, email: 'operator@bench.example', role: 'operator' });
    const t = tenant.id;
    await pool.query(`INSERT INTO farms (tenant_id, farm_id, name, species, timezone) VALUES ($1, $2, 'Bench farm', 'swine', 'UTC')`, [t, farmId]);
    // Grow-finish pigs placed at 70 days old the day before the window.
    for (let b = 1; b <= barns; b++) {
      await pool.query(
        `INSERT INTO barns (tenant_id, farm_id, barn_id, name, animal_count, placed_at, age_at_placement_days) VALUES ($1, $2, $3, $4, $5, '2025-12-31', 70)`,
        [t, farmId, `barn-${b}`, `House ${b}`, animalsPerBarn],
      );
    }
    const signal = (metric: 'temperature' | 'humidity') =>
      metric === 'temperature'
        ? `19 + 2.5 * sin(2 * pi() * extract(hour from ts) / 24) + s * 0.03 + random() * 0.6
           + CASE WHEN b = 2 AND ts >= timestamptz '2026-03-01 12:00Z' AND ts < timestamptz '2026-03-01 15:00Z' THEN 9 ELSE 0 END`
        : `65 + 6 * cos(2 * pi() * extract(hour from ts) / 24) + random() * 2`;
    const sensorSql = (b: number, width: '1m' | '1h') => `
      INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
                                     value_mean, value_min, value_max, revision, event_id)
      SELECT $1, $2, 'barn-${b}', device_id, metric, '${width}', ts, unit, ${width === '1m' ? 6 : 360}, v, v - ${width === '1m' ? 0.2 : 1.1}, v + ${width === '1m' ? 0.2 : 1.1}, 1, gen_random_uuid()
      FROM (
        SELECT s, ts,
               CASE WHEN s <= ${temperatureSensors} THEN 'temp-' || s ELSE 'hum-' || s END AS device_id,
               CASE WHEN s <= ${temperatureSensors} THEN 'temperature' ELSE 'humidity' END AS metric,
               CASE WHEN s <= ${temperatureSensors} THEN 'C' ELSE '%' END AS unit,
               CASE WHEN s <= ${temperatureSensors} THEN ${signal('temperature')} ELSE ${signal('humidity')} END AS v
        FROM generate_series(1, ${sensorsPerBarn}) s,
             generate_series(timestamptz '${start}', timestamptz '${end}' - interval '${width === '1m' ? '1 minute' : '1 hour'}', interval '${width === '1m' ? '1 minute' : '1 hour'}') ts,
             (SELECT ${b} AS b) k
      ) g`;
    // One barn per connection, in parallel.
    await timed(minuteRollups ? `1m rollups (${(barns * sensorsPerBarn * days * 1440).toLocaleString()} rows) and 1h rollups from them` : '1h rollups', () =>
      Promise.all(
        Array.from({ length: barns }, (_, i) => i + 1).map(async (b) => {
          const c = await pool.connect();
          try {
            await c.query('SET synchronous_commit = off');
            if (minuteRollups) {
              await c.query(sensorSql(b, '1m'), [t, farmId]);
              await c.query(
                `INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
                                                value_mean, value_min, value_max, revision, event_id)
                 SELECT tenant_id, farm_id, barn_id, device_id, metric, '1h', date_trunc('hour', bucket_start), unit, sum(reading_count),
                        sum(value_mean * reading_count) / sum(reading_count), min(value_min), max(value_max), 1, gen_random_uuid()
                 FROM telemetry_rollups
                 WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND bucket_width = '1m'
                 GROUP BY tenant_id, farm_id, barn_id, device_id, metric, date_trunc('hour', bucket_start), unit`,
                [t, farmId, `barn-${b}`],
              );
            } else {
              await c.query(sensorSql(b, '1h'), [t, farmId]);
            }
          } finally {
            c.release();
          }
        }),
      ),
    );
    // Daily weighings on the swine reference curve with ±8 % spread; barn-3 stops growing for the
    // last 10 days (flattening), barn-4's camera reads 15 % heavy (scale/vision disagreement).
    await timed(`weighings (${(barns * days * sessionsPerBarnDay).toLocaleString()} sessions)`, () =>
      pool.query(
        `INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id, status, started_at, finalized_at, weight_kg, vision_weight_kg, image_count, reading_count)
         SELECT $1, 'barn-' || b || '-d' || d || '-' || i, $2, 'barn-' || b, 'barn-' || b || '-station-1', 'finalized', t - interval '1 minute', t,
                wk, round((wk * (CASE WHEN b = 4 THEN 1.15 ELSE 1 END + (random() - 0.5) * 0.06))::numeric, 3), 3, 5
         FROM (
           SELECT b, d, i, timestamptz '${start}' + d * interval '1 day' + interval '8 hours' + i * interval '2 minutes' AS t,
                  round((300 * exp(-5.37 * exp(-0.00982 * (71 + CASE WHEN b = 3 AND d > 79 THEN 79 ELSE d END))) * (1 + (random() - 0.5) * 0.16))::numeric, 3) AS wk
           FROM generate_series(1, ${barns}) b, generate_series(0, ${days - 1}) d, generate_series(1, ${sessionsPerBarnDay}) i
         ) w`,
        [t, farmId],
      ),
    );
    await timed(`feed events (${(barns * days * feedsPerBarnDay).toLocaleString()})`, () =>
      pool.query(
        `INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type, dispensed_at)
         SELECT $1, gen_random_uuid(), gen_random_uuid(), $2, 'barn-' || b, 'feeder-' || b,
                round((${animalsPerBarn} * (1.6 + 0.012 * d) / ${feedsPerBarnDay} * (1 + (random() - 0.5) * 0.1))::numeric, 3), 'finisher',
                timestamptz '${start}' + d * interval '1 day' + k * interval '4 hours' + interval '5 minutes'
         FROM generate_series(1, ${barns}) b, generate_series(0, ${days - 1}) d, generate_series(0, ${feedsPerBarnDay - 1}) k`,
        [t, farmId],
      ),
    );
    await timed('analyze', () => pool.query('ANALYZE'));
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_seed (key text PRIMARY KEY, value jsonb NOT NULL)`);
    await pool.query(`INSERT INTO bench_seed (key, value) VALUES ('insights', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
      JSON.stringify({ params: seedParams, minuteRollups, tenantId: t, userId: user.id }),
    ]);
    return { tenantId: t, userId: user.id };
  } finally {
    await pool.end();
  }
}

async function temporalReachable(address: string, namespace: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: '2s' });
    try {
      await c.workflowService.describeNamespace({ namespace });
      return true;
    } finally {
      await c.close();
    }
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The dev server on 127.0.0.1:7233 if it runs, else one of our own from the project venv. */
async function ensureTemporal(namespace: string): Promise<{ address: string; child?: ChildProcess }> {
  const address = settings().TEMPORAL_ADDRESS;
  if (await temporalReachable(address, namespace)) return { address };
  const cli = path.join(repoRoot, '.venv', 'bin', 'temporal');
  if (!fs.existsSync(cli)) throw new Error(`no Temporal at ${address} and no ${cli} to start one (run scripts/setup.sh)`);
  const port = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--namespace', namespace, '--log-level', 'error'];
  for (const k of farmiqSearchAttributes) args.push('--search-attribute', `${k.name}=Keyword`);
  console.log(`no Temporal at ${address}; starting ${path.relative(repoRoot, cli)} on 127.0.0.1:${port}`);
  const child = spawn(cli, args, { stdio: 'ignore' });
  const own = `127.0.0.1:${port}`;
  for (let i = 0; i < 60; i++) {
    if (await temporalReachable(own, namespace)) return { address: own, child };
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error('the Temporal dev server did not come up within 30 s');
}

/** Activities that do no work: the HTTP + Temporal floor of the insight path. */
function noWorkActivities(real: InsightActivities, cannedSummary: Awaited<ReturnType<InsightActivities['aggregateFeatureSummary']>>): InsightActivities {
  const generated = templateInsight(cannedSummary);
  return {
    ...real,
    aggregateFeatureSummary: async () => cannedSummary,
    predict: async () => null,
    analyzeWithLlm: async () => generated,
    writeTemplateInsight: async () => generated,
    storeInsight: async (i) => ({
      id: randomUUID(),
      tenant_id: i.tenantId,
      farm_id: i.farmId,
      barn_id: i.barnId,
      window: i.window,
      request_id: i.requestId,
      workflow_id: i.workflowId,
      generator: 'template',
      model: null,
      fallback: null,
      insight: generated.insight,
      summary: i.summary,
      predictions: null,
      created_by: i.userId,
      created_at: new Date().toISOString(),
    }),
  };
}

export async function benchInsights(opts: InsightsBenchOptions): Promise<void> {
  const s = settings();
  const facts = machine();
  console.log(`machine: ${facts.cpus} cpus (${facts.cpuModel}), load average ${facts.loadAverageAtStart.join(' ')}`);

  const existingUrl = withDatabase(s.CLOUD_DATABASE_URL, benchDatabase);
  let seeded = opts.reseed ? null : await existingSeed(existingUrl, opts.minuteRollups);
  let url = existingUrl;
  if (seeded) {
    await migrate('cloud', url); // newer migrations since the seed
    console.log(`reusing the seeded ${benchDatabase} (--reseed to rebuild it)`);
  } else {
    console.log(`seeding ${benchDatabase}: ${barns} barns × ${sensorsPerBarn} sensors every 10 s for ${days} days`);
    url = await freshDatabase(s.CLOUD_DATABASE_URL);
    seeded = await seed(url, opts.minuteRollups);
  }
  const { tenantId, userId } = seeded;
  const appUrl = asAppRole(url);
  const counts = await (async () => {
    const c = new PgClient({ connectionString: url });
    await c.connect();
    const r = await c.query(
      `SELECT (SELECT count(*) FROM telemetry_rollups WHERE bucket_width = '1m')::bigint AS rollups_1m,
              (SELECT count(*) FROM telemetry_rollups WHERE bucket_width = '1h')::bigint AS rollups_1h,
              (SELECT count(*) FROM telemetry_raw)::bigint AS raw,
              (SELECT count(*) FROM weighvision_sessions)::bigint AS sessions,
              (SELECT count(*) FROM feed_intake)::bigint AS feed_events`,
    );
    await c.end();
    return Object.fromEntries(Object.entries(r.rows[0]).map(([k, v]) => [k, Number(v)]));
  })();
  console.log(`data: ${JSON.stringify(counts)}`);

  const window = { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
  const activityPool = new Pool({ connectionString: appUrl, max: 8, application_name: 'farmiq-bench-worker' });
  const routerPool = new Pool({ connectionString: appUrl, max: 4, application_name: 'farmiq-bench-http' });
  const tenantDb = tenantScopedDb(activityPool, tenantId);
  const request: AggregationRequest = { tenantId, farmId, barnId: null, window };

  // (a) aggregation alone
  console.log(`\n(a) aggregation of the 90-day window, ${opts.aggregationRuns} runs (after 3 warm-up runs)`);
  for (let i = 0; i < 3; i++) buildFeatureSummary(await readSummaryInputs(tenantDb, request));
  const aggTotal: number[] = [];
  const aggSql: number[] = [];
  const aggMaths: number[] = [];
  let summary = buildFeatureSummary(await readSummaryInputs(tenantDb, request));
  for (let i = 0; i < opts.aggregationRuns; i++) {
    const t0 = performance.now();
    const inputs = await readSummaryInputs(tenantDb, request);
    const t1 = performance.now();
    summary = buildFeatureSummary(inputs);
    const t2 = performance.now();
    aggSql.push(t1 - t0);
    aggMaths.push(t2 - t1);
    aggTotal.push(t2 - t0);
  }
  const aggregation = { totalMs: stats(aggTotal), sqlMs: stats(aggSql), mathsMs: stats(aggMaths) };
  console.log(
    `    total p50 ${aggregation.totalMs.p50} ms, p95 ${aggregation.totalMs.p95} ms  (SQL p50 ${aggregation.sqlMs.p50} ms, KPI maths p50 ${aggregation.mathsMs.p50} ms)`,
  );
  console.log(
    `    summary: ${summary.farm.barns} barns, ${summary.farm.anomalies} anomalies (${summary.anomalies.map((a) => `${a.kind}@${a.barn_id}`).join(', ')}), ${JSON.stringify(summary).length} bytes`,
  );

  // (b), (c): HTTP + Temporal
  const namespace = s.TEMPORAL_CLOUD_NAMESPACE;
  const temporal = await ensureTemporal(namespace);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/cloud'), logger: new DefaultLogger('ERROR') });
  const log = pino({ level: 'silent' });
  const real = {
    ...createInsightActivities({ pool: activityPool, predictor: localPredictor, analyzer: new LocalInsightAnalyzer(null), llmModel: null }),
    ...createInsightNotificationActivities({ notifier: { notify: async () => ({ notificationId: randomUUID(), status: 'sent', duplicate: false }) } }),
  };
  const queues = { insight: `bench-insights-${randomUUID()}`, floor: `bench-floor-${randomUUID()}` };
  const workers = [
    await Worker.create({ connection: nativeConnection, namespace, taskQueue: queues.insight, workflowBundle, activities: real }),
    await Worker.create({ connection: nativeConnection, namespace, taskQueue: queues.floor, workflowBundle, activities: noWorkActivities(real, summary) }),
  ];
  const running = workers.map((w) => w.run());
  // The bench's own key, with this install's token lifetimes.
  const tokens = { ...tokenConfig(settings()), secret: jwtSecret };
  const web = express();
  web.use(requestId);
  web.use(createInsightsRouter({ temporalClient: client, pool: routerPool, log, taskQueue: queues.insight, tokens, responseTimeoutMs: 60_000 }).router);
  web.use('/floor', createInsightsRouter({ temporalClient: client, pool: routerPool, log, taskQueue: queues.floor, tokens, responseTimeoutMs: 60_000 }).router);
  web.use(notFound);
  web.use(errorHandler(log));
  const server = http.createServer(web);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = issueToken({ userId, tenantId, role: 'operator' }, tokens);
  const runId = Date.now().toString(36);

  const generate = async (prefix: string, i: number): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${base}${prefix}/api/v1/dashboard/insights/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': `bench-${runId}${prefix.replace('/', '-')}-${i}` },
      body: JSON.stringify({ farm_id: farmId, window }),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`generate answered ${res.status}: ${text.slice(0, 300)}`);
    return ms;
  };

  let endToEnd: ReturnType<typeof stats>;
  let floor: ReturnType<typeof stats>;
  try {
    console.log(`\n(c) floor: HTTP + router + Temporal with no-work activities, ${opts.floorRuns} runs`);
    for (let i = 0; i < 3; i++) await generate('/floor', -1 - i);
    const floorMs: number[] = [];
    for (let i = 0; i < opts.floorRuns; i++) floorMs.push(await generate('/floor', i));
    floor = stats(floorMs);
    console.log(`    p50 ${floor.p50} ms, p95 ${floor.p95} ms`);

    console.log(`\n(b) POST /api/v1/dashboard/insights/generate end to end, template writer, ${opts.runs} runs`);
    for (let i = 0; i < 3; i++) await generate('', -1 - i);
    const e2eMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) e2eMs.push(await generate('', i));
    endToEnd = stats(e2eMs);
    console.log(`    p50 ${endToEnd.p50} ms, p95 ${endToEnd.p95} ms, max ${endToEnd.max} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await nativeConnection.close();
    await connection.close();
    await activityPool.end();
    await routerPool.end();
    temporal.child?.kill('SIGTERM');
  }

  const result = {
    at: new Date().toISOString(),
    machine: { ...facts, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
    temporal: temporal.child ? 'started by the benchmark' : settings().TEMPORAL_ADDRESS,
    seed: { ...seedParams, minuteRollups: opts.minuteRollups, rows: counts },
    aggregationMs: aggregation,
    endToEndMs: endToEnd,
    floorMs: floor,
    ratioEndToEndToFloorP50: Math.round((endToEnd.p50 / floor.p50) * 100) / 100,
    targets: { endToEndP95Ms: 1500, aggregationMs: 300 },
    met: { endToEndP95: endToEnd.p95 <= 1500, aggregationP95: aggregation.totalMs.p95 <= 300 },
  };
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `insights-${result.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(
    [
      '',
      `(a) aggregation, 90 days × 4 barns  : p50 ${aggregation.totalMs.p50} ms, p95 ${aggregation.totalMs.p95} ms (target ≤ 300 ms)`,
      `(b) insights/generate end to end    : p50 ${endToEnd.p50} ms, p95 ${endToEnd.p95} ms (target p95 ≤ 1500 ms)`,
      `(c) HTTP + Temporal floor           : p50 ${floor.p50} ms, p95 ${floor.p95} ms; (b) / (c) at p50 = ${result.ratioEndToEndToFloorP50}`,
      `load average ${facts.loadAverageAtStart.join(' ')} at start, ${result.machine.loadAverageAtEnd.join(' ')} at end (${facts.cpus} cpus; shared machines are noisy)`,
      `written to ${path.relative(repoRoot, file)}`,
    ].join('\n'),
  );
}
