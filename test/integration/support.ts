/**
 * The whole edge→cloud sync chain as real processes on this machine, for the integration suites:
 *
 *   edge Postgres (own db) ─▶ edge worker (workers/edge/main.ts: Temporal forwarder, signed HTTP)
 *        ─▶ cloud HTTP (gateways/http/cloud-main.ts: ingestion + outbox relay) ─▶ RabbitMQ (farmiq_test,
 *        own topology prefix) ─▶ cloud consumers (cloud/consumers/main.ts) ─▶ cloud Postgres (own db)
 *
 * Each suite gets its own edge and cloud databases (the forwarder claims from the whole outbox, and
 * the suites count whole tables), its own edge id, task queue, key file, ports and topology prefix,
 * so nothing it does touches the `make up` stack, other suites or other engineers' runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { ensureDatabase } from '../support/databases';
import { provisionEdge } from '../../cloud/edges';
import { topologyNames, type TopologyNames } from '../../messaging/topology';
import { bundlePath, bundleSources } from '../../temporal/bundles';
import { buildBundle } from '../../temporal/build-bundle';
import { syncForwarderWorkflowId, syncOutboxRetentionScheduleId, telemetryRollupsScheduleId } from '../../domain/temporal/workflow-ids';
import { syncStatusQuery, type SyncStatus } from '../../sync/sync-contract';
import { deleteNotificationTopology, notificationTopology } from '../../notifications/topology';
import { deleteTestTopology, testAmqpUrl, testTopologyPrefix, withTestChannel } from '../support/amqp';
import { freePort } from '../support/broker';
import { FarmiqProcess, metricValue } from '../support/processes';
import { asAppRole, repoRoot, temporalAddress, testCloudDatabaseUrl, testEdgeDatabaseUrl } from '../support/stack';

export const edgeNamespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// Databases
// ------------------------------------------------------------------------------------------------

function databaseUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** node-pg-migrate is an ES module, which jest's sandbox cannot import: migrate in a child process. */
function migrate(kind: 'edge' | 'cloud', url: string): void {
  execFileSync(process.execPath, [require.resolve('tsx/cli'), 'db/migrate.ts', kind, '--url', url], {
    cwd: repoRoot,
    env: { ...process.env, FARMIQ_CONFIG: '' },
    stdio: 'pipe',
  });
}

export interface Databases {
  edgeUrl: string;
  cloudUrl: string;
  /** The dashboard role on the same cloud database (cloud-main.ts waits for it). */
  cloudAppUrl: string;
  edge: Pool;
  cloud: Pool;
  close(): Promise<void>;
}

const edgeTables = ['sync_outbox', 'ingress_dedupe', 'telemetry_raw', 'telemetry_rollup', 'ingress_rejects', 'edge_devices'];
const cloudTables = [
  'ingestion_dedupe',
  'ingestion_outbox',
  'consumer_dedupe',
  'dead_letters',
  'telemetry_raw',
  'telemetry_rollups',
  'feed_intake',
  'weighvision_sessions',
  'weighvision_weights',
  'media_objects',
  'inference_results',
  'edge_request_nonces',
  'edge_tenants',
  'edges',
];

/**
 * farmiq_edge_it_<label> and farmiq_cloud_it_<label> (or the names given): created and migrated if
 * needed, then emptied.
 */
export async function openDatabases(label: string, names = { edge: `farmiq_edge_it_${label}`, cloud: `farmiq_cloud_it_${label}` }): Promise<Databases> {
  const edgeUrl = databaseUrl(testEdgeDatabaseUrl, names.edge);
  const cloudUrl = databaseUrl(testCloudDatabaseUrl, names.cloud);
  for (const [kind, url] of [
    ['edge', edgeUrl],
    ['cloud', cloudUrl],
  ] as const) {
    await ensureDatabase(url);
    migrate(kind, url);
  }
  const edge = createPool(edgeUrl, { applicationName: `farmiq-it-${label}`, max: 4 });
  const cloud = createPool(cloudUrl, { applicationName: `farmiq-it-${label}`, max: 4 });
  await edge.query(`TRUNCATE ${edgeTables.join(', ')}`);
  await cloud.query(`TRUNCATE ${cloudTables.join(', ')} CASCADE`);
  return {
    edgeUrl,
    cloudUrl,
    cloudAppUrl: asAppRole(cloudUrl),
    edge,
    cloud,
    async close() {
      await edge.end();
      await cloud.end();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Edge outbox seeding
// ------------------------------------------------------------------------------------------------

export interface OutboxEvent {
  tenant_id: string;
  event_id: string;
  event_type: string;
  trace_id: string;
  ts: string;
  [field: string]: unknown;
}

/**
 * Appends valid envelopes to the edge outbox exactly as the bridge's commit does (one row per
 * event: tenant, event id, type, the envelope as jsonb, trace id, occurred_at = ts), in chunks.
 */
export async function appendToOutbox(pool: Pool, events: readonly OutboxEvent[], opts: { createdAt?: Date; priority?: number } = {}): Promise<void> {
  for (let i = 0; i < events.length; i += 2000) {
    const chunk = events.slice(i, i + 2000);
    await pool.query(
      `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, priority, created_at)
       SELECT t, e, ty, env, tr, o, $7, coalesce($8::timestamptz, now())
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[]) AS u(t, e, ty, env, tr, o)`,
      [
        chunk.map((e) => e.tenant_id),
        chunk.map((e) => e.event_id),
        chunk.map((e) => e.event_type),
        chunk.map((e) => JSON.stringify(e)),
        chunk.map((e) => e.trace_id),
        chunk.map((e) => e.ts),
        opts.priority ?? 0,
        opts.createdAt ?? null,
      ],
    );
  }
}

/**
 * `perTenant` telemetry.reading envelopes for each tenant, spread over `devices` devices, as the
 * edge syncs them (farm and barn stamped from the topic); device d's reading number k has value k
 * and a strictly later ts than its reading k-1.
 */
export function telemetryReadings(tenants: readonly string[], perTenant: number, devices = 10, start = Date.now() - 3_600_000): OutboxEvent[] {
  const events: OutboxEvent[] = [];
  for (const tenant of tenants) {
    for (let i = 0; i < perTenant; i++) {
      const device = i % devices;
      const seq = Math.floor(i / devices);
      events.push({
        schema_version: '1.0',
        event_id: randomUUID(),
        trace_id: `it-${tenant.slice(0, 8)}-${i}`,
        event_type: 'telemetry.reading',
        tenant_id: tenant,
        device_id: `sensor-${device}`,
        ts: new Date(start + i).toISOString(),
        farm_id: 'farm-1',
        barn_id: `barn-${device % 3}`,
        payload: { metric: 'temperature', value: seq, unit: 'C' },
      });
    }
  }
  return events;
}

export async function outboxCounts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM sync_outbox GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function countOf(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

// ------------------------------------------------------------------------------------------------
// The processes
// ------------------------------------------------------------------------------------------------

/** The prebuilt edge bundle, if there is one, must hold the current workflow code (the worker prefers it). */
export async function freshEdgeBundle(): Promise<void> {
  const bundle = bundlePath('edge');
  if (!fs.existsSync(bundle)) return;
  const builtAt = fs.statSync(bundle).mtimeMs;
  const sources = bundleSources().map((f) => path.join(repoRoot, f));
  if (sources.some((f) => fs.statSync(f).mtimeMs > builtAt)) await buildBundle('edge');
}

export interface SyncStackOptions {
  label: string;
  db: Databases;
  /** Tenants the edge may sync for (registered as `cloud-admin edge add` does). */
  tenants: string[];
  edgeEnv?: Record<string, string>;
  cloudEnv?: Record<string, string>;
  consumersEnv?: Record<string, string>;
  logLevel?: string;
}

export class SyncStack {
  readonly edgeId: string;
  readonly taskQueue: string;
  readonly prefix: string;
  readonly names: TopologyNames;
  readonly dir: string;
  keyFile = '';
  keyId = '';
  cloudHttp!: FarmiqProcess;
  consumers!: FarmiqProcess;
  edgeWorker!: FarmiqProcess;
  cloudUrl = '';
  private connection?: Connection;
  temporal!: Client;

  private constructor(readonly opts: SyncStackOptions) {
    const id = randomUUID().slice(0, 8);
    this.edgeId = `edge-it-${opts.label}-${id}`;
    this.taskQueue = `it-${opts.label}-${id}`;
    this.prefix = testTopologyPrefix(`it-${opts.label}`);
    this.names = topologyNames(this.prefix);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `farmiq-it-${opts.label}-`));
  }

  /** Registers the edge in the cloud, writes its key file, builds the three processes (not started). */
  static async create(opts: SyncStackOptions): Promise<SyncStack> {
    const stack = new SyncStack(opts);
    try {
      stack.connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
      await stack.connection.workflowService.describeNamespace({ namespace: edgeNamespace });
    } catch (err) {
      throw new Error(`Temporal dev server with namespace ${edgeNamespace} not reachable at ${temporalAddress} (make services): ${(err as Error).message}`, {
        cause: err,
      });
    }
    stack.temporal = new Client({ connection: stack.connection, namespace: edgeNamespace });
    const edge = await provisionEdge(opts.db.cloud, { edgeId: stack.edgeId, tenants: opts.tenants, name: `integration ${opts.label}` });
    stack.keyId = edge.keyId;
    stack.keyFile = path.join(stack.dir, 'edge.pem');
    fs.writeFileSync(stack.keyFile, edge.privateKeyPem, { mode: 0o600 });
    await freshEdgeBundle();

    const [httpPort, consumersPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    stack.cloudUrl = `http://127.0.0.1:${httpPort}`;
    const logLevel = opts.logLevel ?? 'warn';
    const common = {
      LOG_LEVEL: logLevel,
      AMQP_URL: testAmqpUrl,
      AMQP_TOPOLOGY_PREFIX: stack.prefix,
      CLOUD_DATABASE_URL: opts.db.cloudUrl,
      CLOUD_APP_DATABASE_URL: opts.db.cloudAppUrl,
      DEPENDENCY_WAIT_SECONDS: '60',
      SHUTDOWN_GRACE_SECONDS: '15',
    };
    stack.cloudHttp = new FarmiqProcess({
      name: 'cloud-http',
      entry: 'gateways/http/cloud-main.ts',
      env: { ...common, CLOUD_HTTP_PORT: String(httpPort), CLOUD_HTTP_HOST: '127.0.0.1', ...opts.cloudEnv },
      healthUrl: `${stack.cloudUrl}/health`,
      logFile: path.join(stack.dir, 'cloud-http.log'),
    });
    stack.consumers = new FarmiqProcess({
      name: 'cloud-consumers',
      entry: 'cloud/consumers/main.ts',
      env: { ...common, CLOUD_CONSUMERS_HEALTH_PORT: String(consumersPort), ...opts.consumersEnv },
      healthUrl: `http://127.0.0.1:${consumersPort}/health`,
      logFile: path.join(stack.dir, 'cloud-consumers.log'),
    });
    stack.edgeWorker = new FarmiqProcess({
      name: 'edge-worker',
      entry: 'workers/edge/main.ts',
      env: {
        LOG_LEVEL: logLevel,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_EDGE_NAMESPACE: edgeNamespace,
        EDGE_ID: stack.edgeId,
        EDGE_TASK_QUEUE: stack.taskQueue,
        EDGE_WORKER_HEALTH_PORT: String(workerPort),
        EDGE_DATABASE_URL: opts.db.edgeUrl,
        EDGE_SIGNING_KEY_FILE: stack.keyFile,
        CLOUD_INGEST_URL: stack.cloudUrl,
        DEPENDENCY_WAIT_SECONDS: '60',
        SHUTDOWN_GRACE_SECONDS: '15',
        ...opts.edgeEnv,
      },
      healthUrl: `http://127.0.0.1:${workerPort}/health`,
      logFile: path.join(stack.dir, 'edge-worker.log'),
    });
    return stack;
  }

  /** Cloud first (so the topology exists before anything is published), then the edge worker. */
  async startAll(): Promise<void> {
    await this.consumers.start();
    await this.cloudHttp.start();
    await this.edgeWorker.start();
  }

  get forwarder() {
    return this.temporal.workflow.getHandle(syncForwarderWorkflowId(this.edgeId));
  }

  async syncStatus(): Promise<SyncStatus> {
    return this.forwarder.query(syncStatusQuery);
  }

  async cloudMetrics(): Promise<string> {
    return this.cloudHttp.get('/metrics');
  }

  /** Events the cloud answered `duplicate` since the cloud HTTP process last started. */
  async duplicatesAnswered(): Promise<number> {
    return metricValue(await this.cloudMetrics(), 'farmiq_cloud_ingestion_events_total', { outcome: 'duplicate' });
  }

  /** The last lines of every process's output, for a failing assertion. */
  logs(lines = 30): string {
    return [this.edgeWorker, this.cloudHttp, this.consumers]
      .filter(Boolean)
      .map((p) => `--- ${p.opts.name} (${p.startCount} starts) ---\n${p.tail(lines)}`)
      .join('\n');
  }

  /** Every process killed, the forwarder and schedules gone from Temporal, the topology deleted. */
  async cleanup(): Promise<void> {
    for (const p of [this.edgeWorker, this.cloudHttp, this.consumers]) await p?.kill9().catch(() => undefined);
    if (this.temporal) {
      for (const id of [syncOutboxRetentionScheduleId(this.edgeId), telemetryRollupsScheduleId(this.edgeId)]) {
        await this.temporal.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      }
      const prefixes = [syncForwarderWorkflowId(this.edgeId), syncOutboxRetentionScheduleId(this.edgeId), telemetryRollupsScheduleId(this.edgeId)];
      for (const prefix of prefixes) {
        try {
          for await (const run of this.temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'` })) {
            await this.temporal.workflow
              .getHandle(run.workflowId)
              .terminate('integration test over')
              .catch(() => undefined);
          }
        } catch {
          // visibility not answering: the forwarder is terminated by id below anyway
        }
      }
      await this.forwarder.terminate('integration test over').catch(() => undefined);
    }
    await this.connection?.close().catch(() => undefined);
    // cloud-http also declares the notification exchange and queue under the same prefix.
    await withTestChannel((ch) => deleteNotificationTopology(ch, notificationTopology(this.prefix))).catch(() => undefined);
    await deleteTestTopology(this.names).catch(() => undefined);
    if (!process.env.KEEP_IT_LOGS) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export { randomUUID };
