/**
 * The sync endpoints of the edge operator API (with an operator token) against the real sync test
 * database, served on an ephemeral port and called with plain fetch:
 *
 * - status, pause, resume, retry-now through the real Temporal client against the local dev server
 *   (namespace farmiq-edge), with a real forwarder workflow on a worker with fake activities;
 * - status while Temporal is unreachable (outbox figures only, the reason given);
 * - the DLQ list, inspect and requeue.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { bearer, newOperator } from './support';
import { temporalSyncControl, type SyncForwarderControl } from '../../gateways/http/sync/control';
import type { SyncActivities } from '../../activities/sync/forwarder';
import { ensureSyncForwarder } from '../../sync/forwarder-start';
import { syncForwarderWorkflowId } from '../../domain/temporal/workflow-ids';
import { temporalAddress } from '../support/stack';
import { openSyncTestDatabase, rowsById, seedRow } from '../activities/sync-db';

const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';
const edgeId = `edge-http-test-${randomUUID().slice(0, 8)}`;
const log = pino({ level: 'silent' });

let pool: Pool;
let operator: { name: string; token: string };
const servers: http.Server[] = [];

async function serve(control: SyncForwarderControl): Promise<string> {
  const server = http.createServer(createEdgeOperatorApp({ pool, log, syncControl: control, edgeId }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The bodies of the sync API (gateways/http/sync/status.ts, dlq.ts), as far as these tests read into them. */
interface SyncStatusBody {
  state: string;
  outbox: { oldest_pending: { age_seconds: number } };
  forwarder: { status: { paused: unknown; lanes: unknown } };
}
interface DeadItem {
  id: string;
  last_error: string | null;
}
interface DlqPage {
  status: string;
  items: DeadItem[];
  next_before: string | null;
}

/** Calls the operator API; `B` is the body the test expects the answer to carry. */
async function call<B = unknown>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: B }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-request-id': `sync-test-${randomUUID().slice(0, 8)}`,
      ...bearer(operator.token),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as B };
}

beforeAll(async () => {
  pool = await openSyncTestDatabase('farmiq-test-sync-http');
  operator = await newOperator(pool, 'sync-api');
});

afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  await pool?.query('TRUNCATE sync_outbox');
  if (operator) await pool?.query('DELETE FROM edge_operators WHERE name = $1', [operator.name]);
  await pool?.end();
});

beforeEach(async () => {
  await pool.query('TRUNCATE sync_outbox');
});

describe('GET /api/v1/sync/status and the control endpoints, with the forwarder on Temporal', () => {
  let connection: Connection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let control: SyncForwarderControl;
  let base: string;
  const taskQueue = `sync-http-test-${randomUUID()}`;
  let claims = 0;

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
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const activities: SyncActivities = {
      checkSyncConfiguration: async () => ({ configured: true, keyId: 'k1', cloudUrl: 'http://cloud.test' }),
      releaseExpiredSyncLeases: async () => ({ released: 0 }),
      claimSyncBatch: async (input) => {
        claims++;
        await new Promise((r) => setTimeout(r, 200)); // a short long-poll
        return { batchId: input.batchId, lane: input.lane, ids: [], tenantId: null, priorAttempts: 0, monitoringOnly: false, oldestOccurredAt: null };
      },
      sendSyncBatch: async () => {
        throw new Error('nothing to send in this test');
      },
      moveSyncBatchToDlq: async (i) => ({ moved: i.ids.length }),
      releaseSyncBatch: async (i) => ({ released: i.ids.length }),
      waitForCloud: async () => ({ reachable: true, waitedMs: 0, probes: 1 }),
    };
    worker = await Worker.create({
      connection: await NativeConnection.connect({ address: temporalAddress }),
      namespace,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
      activities,
    });
    running = worker.run();
    await ensureSyncForwarder(client, { taskQueue, config: { edgeId, claimWaitSeconds: 0, idlePollSeconds: 1 } });
    control = temporalSyncControl({ address: temporalAddress, namespace, edgeId });
    base = await serve(control);
  });

  afterAll(async () => {
    await client?.workflow
      .getHandle(syncForwarderWorkflowId(edgeId))
      .terminate('test over')
      .catch(() => undefined);
    worker?.shutdown();
    await running;
    await control?.close();
    await connection?.close();
  });

  it('combines the forwarder status with the outbox figures', async () => {
    const tenant = randomUUID();
    await seedRow(pool, { tenant, createdAt: `now() - interval '5 minutes'` });
    await seedRow(pool, { tenant });
    await seedRow(pool, { tenant, status: 'acked', ackedAt: `now() - interval '5 seconds'` });
    await seedRow(pool, { tenant, status: 'failed', lastError: 'schema_violation:payload.value' });

    let res = await call<SyncStatusBody>(base, 'GET', '/api/v1/sync/status');
    for (let i = 0; i < 50 && res.body.state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await call<SyncStatusBody>(base, 'GET', '/api/v1/sync/status');
    }
    const { status, body } = res;
    expect(status).toBe(200);
    expect(body).toMatchObject({
      edge_id: edgeId,
      state: 'running',
      // The forwarder has seen no error; the outbox's latest dead event stands in.
      last_error: { type: 'outbox_failed', message: 'schema_violation:payload.value' },
      forwarder: { workflow_id: syncForwarderWorkflowId(edgeId), reachable: true, status: { edgeId, state: 'running', paused: null, halt: null } },
      outbox: {
        by_status: { pending: 2, claimed: 0, sending: 0, sent: 0, acked: 1, dlq: 0, failed: 1 },
        backlog: 2,
        acked_last_minute: 1,
        acked_per_second: 0.02,
        last_acked_at: expect.any(String),
        last_dead: { status: 'failed', event_type: 'telemetry.reading', last_error: 'schema_violation:payload.value' },
      },
    });
    expect(body.outbox.oldest_pending.age_seconds).toBeGreaterThanOrEqual(299);
    expect(body.forwarder.status.lanes).toEqual({ live: expect.any(Object), backfill: expect.any(Object) });
  });

  it('pauses, resumes and retries now through signals, answering 202 with the status read back', async () => {
    const paused = await call(base, 'POST', '/api/v1/sync/pause', { reason: 'firmware update in barn 2' });
    expect(paused.status).toBe(202);
    expect(paused.body).toMatchObject({ signal: 'pause', workflow_id: syncForwarderWorkflowId(edgeId) });
    // Signals are asynchronous: the status shows the pause once the workflow has handled it.
    let state = (await call<SyncStatusBody>(base, 'GET', '/api/v1/sync/status')).body;
    for (let i = 1; i < 50 && state.state !== 'paused'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await call<SyncStatusBody>(base, 'GET', '/api/v1/sync/status')).body;
    }
    expect(state.state).toBe('paused');
    // The pause names the operator whose token sent it.
    expect(state.forwarder.status.paused).toMatchObject({ reason: 'firmware update in barn 2', by: operator.name });
    const claimsWhilePaused = claims;
    await new Promise((r) => setTimeout(r, 1500));
    expect(claims).toBeLessThanOrEqual(claimsWhilePaused + 1); // at most the claim that was already running

    const resumed = await call(base, 'POST', '/api/v1/sync/resume');
    expect(resumed.status).toBe(202);
    for (let i = 0; i < 50 && state.state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await call<SyncStatusBody>(base, 'GET', '/api/v1/sync/status')).body;
    }
    expect(state.state).toBe('running');

    const retry = await call(base, 'POST', '/api/v1/sync/retry-now', {});
    expect(retry).toMatchObject({ status: 202, body: { signal: 'connectivityRestored' } });
  });

  it('refuses a malformed control body with a machine-readable 400', async () => {
    expect(await call(base, 'POST', '/api/v1/sync/pause', '{not json')).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
    expect(await call(base, 'POST', '/api/v1/sync/pause', { reason: 'x', extra: 1 })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_body', field: 'extra' } },
    });
    expect(await call(base, 'POST', '/api/v1/sync/resume', { now: true })).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
  });
});

describe('sync endpoints without Temporal', () => {
  let base: string;
  let control: SyncForwarderControl;

  beforeAll(async () => {
    control = temporalSyncControl({ address: '127.0.0.1:1', namespace, edgeId: 'edge-no-temporal', timeoutMs: 500 });
    base = await serve(control);
  });

  afterAll(async () => {
    await control.close();
  });

  it('still reports the outbox, and says why the forwarder part is missing', async () => {
    await seedRow(pool, { tenant: randomUUID() });
    const { status, body } = await call(base, 'GET', '/api/v1/sync/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      state: 'unknown',
      forwarder: { reachable: false, error: { code: 'temporal_unavailable' } },
      outbox: { by_status: { pending: 1 } },
    });
  });

  it('answers the control endpoints with 503 temporal_unavailable', async () => {
    expect(await call(base, 'POST', '/api/v1/sync/pause', {})).toMatchObject({ status: 503, body: { error: { code: 'temporal_unavailable' } } });
  });
});

describe('/api/v1/sync/dlq', () => {
  let base: string;
  const noTemporal = temporalSyncControl({ address: '127.0.0.1:1', namespace, edgeId: 'edge-dlq', timeoutMs: 300 });

  beforeAll(async () => {
    base = await serve(noTemporal);
  });

  afterAll(async () => {
    await noTemporal.close();
  });

  async function seedDead() {
    const tenant = randomUUID();
    const dlq = [];
    for (let i = 0; i < 3; i++)
      dlq.push(await seedRow(pool, { tenant, status: 'dlq', attemptCount: 10, lastError: `cloud answered 500 internal_error (${i})` }));
    const failed = await seedRow(pool, { tenant, status: 'failed', attemptCount: 1, lastError: 'tenant_not_authorized' });
    const pending = await seedRow(pool, { tenant });
    return { tenant, dlq, failed, pending };
  }

  it('lists dead events newest first, by status, a page at a time', async () => {
    const { dlq, failed, tenant } = await seedDead();
    const first = await call<DlqPage>(base, 'GET', '/api/v1/sync/dlq?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('dlq');
    expect(first.body.items.map((i) => i.id)).toEqual([dlq[2], dlq[1]]);
    expect(first.body.items[0]).toEqual({
      id: dlq[2],
      status: 'dlq',
      tenant_id: tenant,
      event_id: expect.any(String),
      event_type: 'telemetry.reading',
      attempts: 10,
      last_error: 'cloud answered 500 internal_error (2)',
      occurred_at: expect.any(String),
      created_at: expect.any(String),
      batch_id: null,
    });
    const second = await call(base, 'GET', `/api/v1/sync/dlq?limit=2&before=${first.body.next_before}`);
    expect(second.body).toMatchObject({ items: [{ id: dlq[0] }], next_before: null });
    const rejected = await call<DlqPage>(base, 'GET', '/api/v1/sync/dlq?status=failed');
    expect(rejected.body.items.map((i) => [i.id, i.last_error])).toEqual([[failed, 'tenant_not_authorized']]);
  });

  it('refuses bad parameters with a machine-readable 400', async () => {
    expect(await call(base, 'GET', '/api/v1/sync/dlq?status=acked')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_query', field: 'status' } },
    });
    expect(await call(base, 'GET', '/api/v1/sync/dlq?limit=0')).toMatchObject({ status: 400, body: { error: { code: 'invalid_query', field: 'limit' } } });
    expect(await call(base, 'GET', '/api/v1/sync/dlq?before=abc')).toMatchObject({ status: 400, body: { error: { code: 'invalid_query', field: 'before' } } });
    expect(await call(base, 'GET', '/api/v1/sync/dlq/abc')).toMatchObject({ status: 400, body: { error: { code: 'invalid_query' } } });
    expect(await call(base, 'POST', '/api/v1/sync/dlq/requeue', { ids: [] })).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
    expect(await call(base, 'POST', '/api/v1/sync/dlq/requeue', { all: true, status: 'pending' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_body' } },
    });
  });

  it('shows one event with its envelope, error and attempts', async () => {
    const { dlq } = await seedDead();
    const { status, body } = await call<{ item: unknown }>(base, 'GET', `/api/v1/sync/dlq/${dlq[0]}`);
    expect(status).toBe(200);
    expect(body.item).toMatchObject({
      id: dlq[0],
      status: 'dlq',
      attempts: 10,
      last_error: 'cloud answered 500 internal_error (0)',
      envelope: { schema_version: '1.0', event_type: 'telemetry.reading', payload: { metric: 'temperature' } },
    });
    expect(await call(base, 'GET', '/api/v1/sync/dlq/999999999')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('requeues by id once, idempotently, and reports what it did', async () => {
    const { dlq, failed, pending } = await seedDead();
    const first = await call(base, 'POST', '/api/v1/sync/dlq/requeue', { ids: [dlq[0], failed, pending, '999999999'] });
    expect(first).toEqual({
      status: 200,
      body: {
        requeued: [
          { id: dlq[0], from: 'dlq' },
          { id: failed, from: 'failed' },
        ],
        unchanged: [{ id: pending, status: 'pending' }],
        not_found: ['999999999'],
      },
    });
    const rows = await rowsById(pool, [dlq[0], failed]);
    for (const r of rows) expect(r).toMatchObject({ status: 'pending', attempt_count: 0, claimed_by: null });
    expect(rows[0].last_error).toMatch(
      /^\[requeued .* via edge API by operator sync-api-[0-9a-f]{8} \(request sync-test-[0-9a-f]{8}\) from dlq after 10 attempts\] cloud answered 500 internal_error \(0\)$/,
    );

    const again = await call(base, 'POST', '/api/v1/sync/dlq/requeue', { ids: [dlq[0], failed] });
    expect(again.body).toEqual({
      requeued: [],
      unchanged: [
        { id: dlq[0], status: 'pending' },
        { id: failed, status: 'pending' },
      ],
      not_found: [],
    });
  });

  it('requeues every event of one status', async () => {
    const { dlq, failed } = await seedDead();
    expect(await call(base, 'POST', '/api/v1/sync/dlq/requeue', { all: true, status: 'dlq' })).toEqual({ status: 200, body: { status: 'dlq', requeued: 3 } });
    expect(await call(base, 'POST', '/api/v1/sync/dlq/requeue', { all: true, status: 'dlq' })).toEqual({ status: 200, body: { status: 'dlq', requeued: 0 } });
    expect((await rowsById(pool, [...dlq, failed])).map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'failed']);
  });
});
