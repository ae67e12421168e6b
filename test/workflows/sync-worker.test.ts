/**
 * The real thing, end to end on this machine: the edge worker process (workers/edge/main.ts, run
 * through tsx as in production) against the local Temporal dev server (namespace farmiq-edge) and
 * the sync test database, with a signing key, sending to a cloud stub that checks every signature.
 *
 * It starts the forwarder itself, drains a backlog, sends a fresh reading, rides out a cloud outage
 * without spending attempts, keeps the retention schedule in place, and exits 0 on SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Pool } from 'pg';
import { checkSignature, loadPublicKey, newEdgeKeyPair, signatureHeaders } from '../../domain/sync';
import { syncForwarderWorkflowId, syncOutboxRetentionScheduleId, telemetryRollupsScheduleId } from '../../domain/temporal/workflow-ids';
import { syncStatusQuery, type SyncStatus } from '../../sync/sync-contract';
import { bundlePath, bundleSources } from '../../temporal/bundles';
import { buildBundle } from '../../temporal/build-bundle';
import { repoRoot, temporalAddress } from '../support/stack';
import { until } from '../support/until';
import { openSyncTestDatabase, syncTestDatabaseUrl } from '../activities/sync-db';

const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';
const edgeId = `edge-sync-e2e-${randomUUID().slice(0, 8)}`;
const tenant = randomUUID();
const keys = newEdgeKeyPair();
const publicKey = loadPublicKey(keys.publicKeyPem);
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-sync-e2e-'));
const keyFile = path.join(keyDir, 'edge.key');
fs.writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });

let connection: Connection;
let client: Client;
let pool: Pool;
let cloud: http.Server;
let cloudUrl: string;
let cloudDown = false;
const received = new Map<string, number>(); // event_id → times received
let badSignatures = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The prebuilt bundle, if there is one, must hold the workflows under test (the worker prefers it). */
async function freshBundle(): Promise<void> {
  const bundle = bundlePath('edge');
  if (!fs.existsSync(bundle)) return;
  const builtAt = fs.statSync(bundle).mtimeMs;
  const sources = bundleSources().map((f) => path.join(repoRoot, f));
  if (sources.some((f) => fs.statSync(f).mtimeMs > builtAt)) await buildBundle('edge');
}

beforeAll(async () => {
  try {
    connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    throw new Error(
      `Temporal dev server with namespace ${namespace} not reachable at ${temporalAddress} (start it with \`make up\`): ${(err as Error).message}`,
      { cause: err },
    );
  }
  client = new Client({ connection, namespace });
  pool = await openSyncTestDatabase('farmiq-test-sync-e2e');
  await freshBundle();

  cloud = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/health') return reply(cloudDown ? 503 : 200, { status: cloudDown ? 'degraded' : 'ok' });
      if (cloudDown) return reply(503, { error: { code: 'unavailable', message: 'the ingestion database is not reachable' } });
      const body = Buffer.concat(chunks);
      const h = (n: string) => req.headers[n] as string | undefined;
      const problem = checkSignature(publicKey, {
        method: req.method!,
        path: req.url!,
        body,
        timestamp: h(signatureHeaders.timestamp),
        nonce: h(signatureHeaders.nonce),
        signature: h(signatureHeaders.signature),
      });
      if (problem || h(signatureHeaders.edgeId) !== edgeId) {
        badSignatures++;
        return reply(401, { error: { code: problem ?? 'unknown_edge', message: 'refused' } });
      }
      // The edge worker's downlink polls the same cloud: nothing is queued for it here.
      if (req.url === '/api/v1/edge/commands') return reply(200, { commands: [], outcomes_recorded: 0 });
      const batch = JSON.parse(body.toString('utf8')) as { batch_id: string; events: { event_id: string; tenant_id: string }[] };
      const results = batch.events.map((e) => {
        const seen = received.get(e.event_id) ?? 0;
        received.set(e.event_id, seen + 1);
        return { status: seen > 0 ? 'duplicate' : 'accepted', event_id: e.event_id, tenant_id: e.tenant_id };
      });
      reply(200, { batch_id: batch.batch_id, results });
    });
  });
  await new Promise<void>((resolve) => cloud.listen(0, '127.0.0.1', () => resolve()));
  cloudUrl = `http://127.0.0.1:${(cloud.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  // Leave nothing behind on the shared dev server: the schedules, the forwarder, and any run the
  // schedules started (their ids begin with the schedule id).
  for (const id of [syncOutboxRetentionScheduleId(edgeId), telemetryRollupsScheduleId(edgeId)])
    await client?.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  const prefixes = [syncForwarderWorkflowId(edgeId), syncOutboxRetentionScheduleId(edgeId), telemetryRollupsScheduleId(edgeId)];
  for (const prefix of prefixes) {
    const runs = client?.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'` });
    for await (const run of runs ?? [])
      await client.workflow
        .getHandle(run.workflowId)
        .terminate('test over')
        .catch(() => undefined);
  }
  await connection?.close();
  cloud?.closeAllConnections();
  await new Promise((resolve) => cloud?.close(resolve));
  await pool?.query('TRUNCATE sync_outbox');
  await pool?.end();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

async function seed(n: number, createdAt: string): Promise<void> {
  await pool.query(
    `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, created_at)
     SELECT $1::uuid, e, 'telemetry.reading',
            jsonb_build_object('schema_version', '1.0', 'event_id', e, 'trace_id', 'trace-e2e-' || g, 'event_type', 'telemetry.reading',
                               'tenant_id', $1::text, 'device_id', 'sensor-1', 'ts', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                               'farm_id', 'farm-1', 'barn_id', 'barn-1', 'payload', jsonb_build_object('metric', 'temperature', 'value', 21.5, 'unit', 'C')),
            'trace-e2e-' || g, now() - make_interval(secs => $2::int - g), ${createdAt}
     FROM (SELECT g, gen_random_uuid() AS e FROM generate_series(1, $2::int) g) s`,
    [tenant, n],
  );
}

const count = async (where: string): Promise<number> =>
  Number((await pool.query(`SELECT count(*) AS n FROM sync_outbox WHERE event_type = 'telemetry.reading' AND ${where}`)).rows[0].n);

describe('the edge worker with sync configured', () => {
  it('starts the forwarder, drains the backlog, sends fresh readings, rides out an outage, and stops cleanly', async () => {
    await seed(3000, `now() - interval '1 hour'`);
    const healthPort = await freePort();
    let output = '';
    const child: ChildProcess = spawn(process.execPath, [require.resolve('tsx/cli'), 'workers/edge/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        FARMIQ_CONFIG: '',
        LOG_LEVEL: 'info',
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_EDGE_NAMESPACE: namespace,
        EDGE_ID: edgeId,
        EDGE_TASK_QUEUE: `sync-e2e-${randomUUID()}`,
        EDGE_WORKER_HEALTH_PORT: String(healthPort),
        EDGE_DATABASE_URL: syncTestDatabaseUrl,
        EDGE_SIGNING_KEY_FILE: keyFile,
        CLOUD_INGEST_URL: cloudUrl,
        SYNC_BATCH_SIZE: '200',
        SHUTDOWN_GRACE_SECONDS: '15',
        DEPENDENCY_WAIT_SECONDS: '30',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    try {
      await until('/health 200', 90_000, async () => (await fetch(`http://127.0.0.1:${healthPort}/health`)).status === 200);
      const forwarder = client.workflow.getHandle(syncForwarderWorkflowId(edgeId));
      expect((await forwarder.describe()).status.name).toBe('RUNNING');

      await until('the backlog acked', 60_000, async () => (await count(`status = 'acked'`)) === 3000);
      expect(received.size).toBeGreaterThanOrEqual(3000);
      expect(badSignatures).toBe(0);

      // A fresh reading goes out within seconds.
      const t0 = Date.now();
      await seed(1, 'now()');
      await until('the fresh reading acked', 15_000, async () => (await count(`status = 'acked'`)) === 3001);
      expect(Date.now() - t0).toBeLessThan(10_000);

      // The cloud goes away: events wait, no attempt is spent, the status says offline.
      cloudDown = true;
      await seed(20, 'now()');
      const offline = await until('offline', 30_000, async () => {
        const s: SyncStatus = await forwarder.query(syncStatusQuery);
        return s.state === 'offline' ? s : undefined;
      });
      expect(offline.halt).toMatchObject({ kind: 'offline', detail: expect.stringContaining('503') });
      // The workflow says offline first and gives the failed batch's claims back right after (an
      // activity), so wait for that rather than racing it; no attempt may have been spent.
      await until('claims given back', 15_000, async () => (await count(`status NOT IN ('acked', 'pending')`)) === 0);
      expect(await count(`attempt_count > 0`)).toBe(0);

      // It comes back: the health probe notices within seconds.
      const back = Date.now();
      cloudDown = false;
      await until('the queued readings acked', 20_000, async () => (await count(`status = 'acked'`)) === 3021);
      expect(Date.now() - back).toBeLessThan(10_000);
      const s: SyncStatus = await forwarder.query(syncStatusQuery);
      expect(s.state).toBe('running');
      expect(s.totals.eventsAcked).toBeGreaterThanOrEqual(3021);
      expect(await count(`status <> 'acked' OR attempt_count > 0`)).toBe(0);

      // Monitoring events went out too, and none about batches of monitoring events only.
      await until('monitoring events acked', 20_000, async () => {
        const { rows } = await pool.query(
          `SELECT count(*) FILTER (WHERE status <> 'acked') AS open, count(*) AS total FROM sync_outbox WHERE event_type LIKE 'sync.batch.%'`,
        );
        return Number(rows[0].total) > 0 && Number(rows[0].open) === 0;
      });

      const retention = await client.schedule.getHandle(syncOutboxRetentionScheduleId(edgeId)).describe();
      expect(retention.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
      expect(retention.spec.intervals?.[0].every).toBe(600_000);
      expect(retention.action).toMatchObject({ type: 'startWorkflow', workflowType: 'pruneSyncOutbox' });
      expect(retention.action.type === 'startWorkflow' && retention.action.args).toEqual([{ olderThanHours: 72, chunk: 10_000 }]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- worker output ---\n${output.slice(-4000)}`, { cause: err });
    } finally {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
});
