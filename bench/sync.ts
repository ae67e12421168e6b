/**
 * Edge → cloud sync benchmark (issue 3):  npm run bench -- sync [--events 200000] [--tenants 4]
 *
 * Drains a backlog of outbox events from the edge outbox into the cloud database through every
 * hop, each a real process on this machine:
 *
 *   edge Postgres sync_outbox → edge worker (Temporal forwarder: claim, signed HTTP batch)
 *   → cloud HTTP (ingestion: auth, validation, dedupe + outbox in one statement; outbox relay with
 *   publisher confirms) → RabbitMQ → cloud consumers → cloud Postgres telemetry_raw
 *
 * and reports
 *   (a) end-to-end events/s: first claim on the edge → last row received in cloud telemetry_raw,
 *   (b) the machine's own limit for the last hop, measured in the same run: plain multi-row INSERTs
 *       (500 per transaction) of the same rows into a copy of cloud telemetry_raw (same indexes),
 *       once before and once after the drain (the better of the two is the limit),
 *   (c) a / b, CPU seconds of every process during the drain, and where the time went: each hop's
 *       count sampled every second (edge acked, cloud ingested, relay published, consumers stored),
 *       so the hop that saturates shows as the one the others wait for.
 *
 * It uses its own databases (farmiq_edge_bench_sync, farmiq_cloud_bench_sync), its own edge id and
 * task queue on the Temporal dev server and its own topology prefix on the test vhost, and removes
 * the forwarder, schedules and queues when done. Results: bench/results/sync-<ts>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { inTransaction } from '../db/transaction';
import { outboxInsert, outboxPriority } from '../sync/outbox';
import { openDatabases, SyncStack, type Databases } from '../test/integration/support';
import { repoRoot } from '../test/support/stack';
import { machine, processCpuSeconds } from './support/stats';

export interface SyncBenchOptions {
  events: number;
  tenants: number;
  /** Forwarder and cloud settings for the run (env of the processes); unset ones keep their defaults. */
  edgeEnv: Record<string, string>;
  cloudEnv: Record<string, string>;
  consumersEnv: Record<string, string>;
  timeoutSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuSnapshot(stack: SyncStack) {
  return {
    edgeWorker: stack.edgeWorker.cpuSeconds(),
    cloudHttp: stack.cloudHttp.cpuSeconds(),
    cloudConsumers: stack.consumers.cpuSeconds(),
    postgres: processCpuSeconds('postgres'),
    rabbitmq: processCpuSeconds('beam.smp'),
    temporal: processCpuSeconds('temporal'),
  };
}

/** The backlog: `perTenant` valid telemetry.reading envelopes per tenant, created an hour ago (backfill lane). */
async function seedBacklog(pool: Pool, tenants: string[], perTenant: number): Promise<void> {
  for (const tenant of tenants) {
    for (let from = 0; from < perTenant; from += 50_000) {
      const n = Math.min(50_000, perTenant - from);
      await pool.query(
        outboxInsert(
          `SELECT $1::uuid, e, 'telemetry.reading',
                jsonb_build_object('schema_version', '1.0', 'event_id', e, 'trace_id', 'bench-sync-' || g, 'event_type', 'telemetry.reading',
                                   'tenant_id', $1::text, 'device_id', 'sensor-' || (g % 50), 'ts', to_char(o AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                   'farm_id', 'farm-1', 'barn_id', 'barn-' || (g % 5), 'payload', jsonb_build_object('metric', 'temperature', 'value', 20 + (g % 100) / 10.0, 'unit', 'C')),
                'bench-sync-' || g, o, ${outboxPriority.normal}, now() - interval '1 hour'
         FROM (SELECT g, gen_random_uuid() AS e, now() - interval '2 hours' + make_interval(secs => g / 1000.0) AS o
               FROM generate_series($2::int, $3::int) g) s`,
          { backdated: true },
        ),
        [tenant, from, from + n - 1],
      );
    }
  }
  await pool.query('ANALYZE sync_outbox');
}

/**
 * (b) The same rows (the outbox envelopes) inserted straight into a copy of cloud telemetry_raw
 * with plain multi-row INSERTs, 500 rows per transaction, one connection.
 */
async function rawInsertRate(edge: Pool, cloud: Pool, count: number): Promise<number> {
  await cloud.query('DROP TABLE IF EXISTS bench_telemetry_raw');
  await cloud.query('CREATE TABLE bench_telemetry_raw (LIKE telemetry_raw INCLUDING ALL)');
  const { rows } = await edge.query<{
    tenant_id: string;
    event_id: string;
    farm_id: string;
    barn_id: string;
    device_id: string;
    metric: string;
    value: number;
    unit: string;
    occurred_at: Date;
    trace_id: string;
  }>(
    `SELECT tenant_id, event_id, envelope->>'farm_id' AS farm_id, envelope->>'barn_id' AS barn_id, envelope->>'device_id' AS device_id,
            envelope->'payload'->>'metric' AS metric, (envelope->'payload'->>'value')::float8 AS value, envelope->'payload'->>'unit' AS unit, occurred_at, trace_id
     FROM sync_outbox WHERE event_type = 'telemetry.reading' ORDER BY id LIMIT $1`,
    [count],
  );
  const started = process.hrtime.bigint();
  for (let done = 0; done < rows.length; done += 500) {
    const chunk = rows.slice(done, done + 500);
    const values: unknown[] = [];
    const tuples = chunk.map((r, i) => {
      values.push(r.tenant_id, r.event_id, r.farm_id, r.barn_id, r.device_id, r.metric, r.value, r.unit, r.occurred_at, r.trace_id);
      const o = i * 10;
      return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7}, $${o + 8}, $${o + 9}, $${o + 10})`;
    });
    await inTransaction(cloud, (client) =>
      client.query(
        `INSERT INTO bench_telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id) VALUES ${tuples.join(',')}`,
        values,
      ),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await cloud.query('DROP TABLE bench_telemetry_raw');
  return rows.length / seconds;
}

interface Sample {
  t: number;
  acked: number;
  ingested: number;
  published: number;
  stored: number;
}

async function sample(db: Databases, t0: number): Promise<Sample> {
  const [edge, cloud] = await Promise.all([
    db.edge.query<{ acked: string }>(`SELECT count(*) FILTER (WHERE status = 'acked') AS acked FROM sync_outbox WHERE event_type = 'telemetry.reading'`),
    db.cloud.query<{ ingested: string; published: string; stored: string }>(
      `SELECT (SELECT count(*) FROM ingestion_dedupe WHERE event_type = 'telemetry.reading') AS ingested,
              (SELECT count(*) FROM ingestion_outbox WHERE published_at IS NOT NULL AND routing_key = 'telemetry.ingested') AS published,
              (SELECT count(*) FROM telemetry_raw) AS stored`,
    ),
  ]);
  return {
    t: (Date.now() - t0) / 1000,
    acked: Number(edge.rows[0].acked),
    ingested: Number(cloud.rows[0].ingested),
    published: Number(cloud.rows[0].published),
    stored: Number(cloud.rows[0].stored),
  };
}

/** Events/s of one hop over the steady middle of the run (10 % → 90 % of the events). */
function hopRate(samples: Sample[], key: keyof Omit<Sample, 't'>, total: number): number {
  const a = samples.find((s) => s[key] >= total * 0.1);
  const b = samples.find((s) => s[key] >= total * 0.9);
  if (!a || !b || b.t === a.t) return NaN;
  return (b[key] - a[key]) / (b.t - a.t);
}

export async function benchSync(opts: SyncBenchOptions): Promise<void> {
  const facts = machine();
  const tenants = Array.from({ length: opts.tenants }, () => randomUUID());
  const perTenant = Math.ceil(opts.events / opts.tenants);
  const total = perTenant * opts.tenants;
  console.log(`sync bench: ${total} events, ${opts.tenants} tenants; load average at start ${facts.loadAverageAtStart.join(' ')}`);

  const db = await openDatabases('bench', { edge: 'farmiq_edge_bench_sync', cloud: 'farmiq_cloud_bench_sync' });
  let stack: SyncStack | undefined;
  try {
    // Without VACUUM the truncated tables of an earlier run would not matter, but the catalog might.
    await db.cloud.query('VACUUM ANALYZE');
    const seedStarted = Date.now();
    await seedBacklog(db.edge, tenants, perTenant);
    console.log(`seeded ${total} outbox rows in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    const rawBefore = await rawInsertRate(db.edge, db.cloud, total);
    console.log(`(b) raw Postgres multi-row insert into cloud telemetry_raw, before: ${rawBefore.toFixed(0)} rows/s`);

    stack = await SyncStack.create({ label: 'bench', db, tenants, edgeEnv: opts.edgeEnv, cloudEnv: opts.cloudEnv, consumersEnv: opts.consumersEnv });
    await stack.consumers.start();
    await stack.cloudHttp.start();
    const cpu0 = cpuSnapshot(stack);
    const t0 = Date.now();
    await stack.edgeWorker.start();
    const cpuWorker0 = stack.edgeWorker.cpuSeconds(); // its start-up (workflow bundle load) is not the drain

    const samples: Sample[] = [];
    const deadline = t0 + opts.timeoutSeconds * 1000;
    let last = -1;
    for (;;) {
      const s = await sample(db, t0);
      samples.push(s);
      if (s.stored !== last) {
        last = s.stored;
        process.stdout.write(`\r  t=${s.t.toFixed(0)}s  acked ${s.acked}  ingested ${s.ingested}  published ${s.published}  stored ${s.stored}     `);
      }
      if (s.stored >= total) break;
      if (Date.now() > deadline) throw new Error(`not drained after ${opts.timeoutSeconds} s: ${JSON.stringify(s)}\n${stack.logs()}`);
      await sleep(1000);
    }
    process.stdout.write('\n');
    const cpu1 = cpuSnapshot(stack);

    const { rows: span } = await db.edge.query<{ first_claim: Date }>(`SELECT min(claimed_at) AS first_claim FROM sync_outbox`);
    const { rows: end } = await db.cloud.query<{ last_row: Date; n: string; distinct_events: string }>(
      `SELECT max(received_at) AS last_row, count(*) AS n, count(DISTINCT (tenant_id, event_id)) AS distinct_events FROM telemetry_raw`,
    );
    const seconds = (end[0].last_row.getTime() - span[0].first_claim.getTime()) / 1000;
    const rate = total / seconds;
    if (Number(end[0].n) !== total || Number(end[0].distinct_events) !== total)
      throw new Error(`cloud telemetry_raw holds ${end[0].n} rows (${end[0].distinct_events} distinct), expected ${total}`);
    const { rows: outbox } = await db.edge.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM sync_outbox WHERE event_type = 'telemetry.reading' GROUP BY status`,
    );
    const duplicates = await stack.duplicatesAnswered();

    const edgeWorkerCpu = cpu1.edgeWorker - cpuWorker0;
    await stack.cleanup();
    stack = undefined;

    const rawAfter = await rawInsertRate(db.edge, db.cloud, total);
    const raw = Math.max(rawBefore, rawAfter);
    const cpu = {
      edgeWorker: edgeWorkerCpu,
      cloudHttp: cpu1.cloudHttp - cpu0.cloudHttp,
      cloudConsumers: cpu1.cloudConsumers - cpu0.cloudConsumers,
      postgres: cpu1.postgres - cpu0.postgres,
      rabbitmq: cpu1.rabbitmq - cpu0.rabbitmq,
      temporal: cpu1.temporal - cpu0.temporal,
    };
    const hops = {
      edgeAckedPerSecond: hopRate(samples, 'acked', total),
      cloudIngestedPerSecond: hopRate(samples, 'ingested', total),
      relayPublishedPerSecond: hopRate(samples, 'published', total),
      consumersStoredPerSecond: hopRate(samples, 'stored', total),
      maxLagIngestedToStored: Math.max(...samples.map((s) => s.ingested - s.stored)),
      maxLagIngestedToPublished: Math.max(...samples.map((s) => s.ingested - s.published)),
    };
    const result = {
      benchmark: 'sync',
      at: new Date().toISOString(),
      machine: { ...facts, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
      events: total,
      tenants: opts.tenants,
      settings: { edge: opts.edgeEnv, cloud: opts.cloudEnv, consumers: opts.consumersEnv },
      endToEnd: { seconds, eventsPerSecond: rate, firstClaimAt: span[0].first_claim, lastRowAt: end[0].last_row, duplicatesAnswered: duplicates },
      rawPostgresInsertRowsPerSecond: { limit: raw, before: rawBefore, after: rawAfter },
      ratio: rate / raw,
      cpuSecondsDuringDrain: cpu,
      hops,
      outbox: Object.fromEntries(outbox.map((r) => [r.status, Number(r.n)])),
      samples,
      target: { eventsPerSecond: 5000 },
    };
    const dir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `sync-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
    console.log(
      [
        '',
        `(a) edge outbox → cloud telemetry_raw : ${f0(rate)} events/s  (${total} events in ${seconds.toFixed(1)} s, first claim → last row; target ≥ 5,000)`,
        `(b) raw Postgres multi-row insert     : ${f0(raw)} rows/s  (before ${f0(rawBefore)}, after ${f0(rawAfter)})`,
        `a / b                                 : ${result.ratio.toFixed(2)}`,
        `hops, 10 %→90 % of the events         : edge acked ${f0(hops.edgeAckedPerSecond)}/s, cloud ingested ${f0(hops.cloudIngestedPerSecond)}/s, ` +
          `relay published ${f0(hops.relayPublishedPerSecond)}/s, consumers stored ${f0(hops.consumersStoredPerSecond)}/s; ` +
          `max backlog ingested→published ${hops.maxLagIngestedToPublished}, ingested→stored ${hops.maxLagIngestedToStored}`,
        `CPU s during the drain                : edge worker ${cpu.edgeWorker.toFixed(1)}, cloud http ${cpu.cloudHttp.toFixed(1)}, consumers ${cpu.cloudConsumers.toFixed(1)}, ` +
          `postgres ${cpu.postgres.toFixed(1)}, rabbitmq ${cpu.rabbitmq.toFixed(1)}, temporal ${cpu.temporal.toFixed(1)} (of ${(seconds * facts.cpus).toFixed(0)} available)`,
        `machine                               : ${facts.cpus} × ${facts.cpuModel}, ${facts.memoryGiB} GiB, load ${facts.loadAverageAtStart.join(' ')} at start`,
        `written to ${path.relative(repoRoot, file)}`,
      ].join('\n'),
    );
  } finally {
    await stack?.cleanup();
    await db.close();
  }
}
