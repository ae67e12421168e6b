/**
 * The sync activities against the real edge database and a cloud stub: a real HTTP server in the
 * test that speaks the wire contract (domain/sync/edge-batch.ts) and checks every request's Ed25519
 * signature with checkSignature, as the cloud does. Each scenario sets how the stub answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createSyncActivities, type SentSyncBatch, type SyncActivities } from '../../activities/sync/forwarder';
import { createCloudClient, type CloudClient } from '../../sync/cloud-client';
import { EdgeIdentitySource } from '../../sync/edge-identity';
import { checkSignature, edgeBatchRequest, loadPublicKey, newEdgeKeyPair, signatureHeaders, type EventOutcome } from '../../domain/sync';
import { farmEventSchema, type EnvelopeBase, type FarmEvent } from '../../domain/contracts';
import * as outbox from '../../sync/outbox';
import { openSyncTestDatabase, rowsById, seedRow } from './sync-db';

const edgeId = `edge-send-test-${randomUUID().slice(0, 6)}`;
const keys = newEdgeKeyPair();
const publicKey = loadPublicKey(keys.publicKeyPem);
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-sync-key-'));
const keyFile = path.join(keyDir, 'edge.key');
fs.writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });

interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  signatureProblem: string | undefined;
}

type Answer = (req: SeenRequest, parsed: { batch_id: string; edge_id: string; events: EnvelopeBase[] }, res: http.ServerResponse) => void;

let pool: Pool;
let server: http.Server;
let baseUrl: string;
let cloud: CloudClient;
let activities: SyncActivities;
let answer: Answer;
let health = 200;
const seen: SeenRequest[] = [];

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The cloud's happy answer: every event accepted. */
const acceptAll: Answer = (_req, parsed, res) =>
  json(res, 200, { batch_id: parsed.batch_id, results: parsed.events.map((e) => ({ status: 'accepted', event_id: e.event_id, tenant_id: e.tenant_id })) });

beforeAll(async () => {
  pool = await openSyncTestDatabase('farmiq-test-sync-send');
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/health') return json(res, health, { status: health === 200 ? 'ok' : 'degraded' });
      const h = (name: string) => req.headers[name] as string | undefined;
      const r: SeenRequest = {
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body,
        signatureProblem: checkSignature(publicKey, {
          method: req.method!,
          path: req.url!,
          body,
          timestamp: h(signatureHeaders.timestamp),
          nonce: h(signatureHeaders.nonce),
          signature: h(signatureHeaders.signature),
        }),
      };
      seen.push(r);
      if (r.signatureProblem) return json(res, 401, { error: { code: r.signatureProblem, message: 'signature check failed' } });
      answer(r, JSON.parse(body.toString('utf8')), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cloud = createCloudClient({ baseUrl, requestTimeoutMs: 1500, probeTimeoutMs: 500 });
  activities = createSyncActivities({ pool, edgeId, cloud, identity: new EdgeIdentitySource({ edgeId, keyFile }), requestTimeoutMs: 1500, probeEveryMs: 100 });
});

afterAll(async () => {
  cloud?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await pool?.query('TRUNCATE sync_outbox');
  await pool?.end();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await pool.query('TRUNCATE sync_outbox');
  seen.length = 0;
  answer = acceptAll;
  health = 200;
});

const quietLogger = () => new DefaultLogger('ERROR');

/** Runs an activity in a mock activity context, as Temporal attempt `attempt`. */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, attempt: number, ...args: A): Promise<R> {
  return new MockActivityEnvironment({ attempt }, { logger: quietLogger() }).run(fn, ...args);
}

/** Seeds `n` backfill rows of one tenant and claims them as one batch. */
async function claimed(n: number, opts: { eventType?: string; attemptCount?: number } = {}) {
  const tenant = randomUUID();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      await seedRow(pool, {
        tenant,
        createdAt: `now() - interval '10 minutes'`,
        eventType: opts.eventType,
        attemptCount: opts.attemptCount,
        ...(opts.eventType?.startsWith('sync.') ? { envelope: monitoringEnvelope(tenant) } : {}),
      }),
    );
  }
  const batchId = `${edgeId}:backfill:test:${randomUUID().slice(0, 8)}`;
  const batch = await run(activities.claimSyncBatch, 1, {
    batchId,
    lane: 'backfill',
    batchSize: 100,
    leaseSeconds: 60,
    liveWindowSeconds: 120,
    waitMs: 0,
    pollMs: 100,
  });
  expect(batch.ids).toEqual(ids);
  return { tenant, ids, batch };
}

function monitoringEnvelope(tenant: string) {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: 'batch-x',
    event_type: 'sync.batch.acked',
    tenant_id: tenant,
    device_id: 'edge-1',
    ts: new Date().toISOString(),
    payload: { edge_id: 'edge-1', batch_id: 'batch-x', accepted: 1, duplicate: 0, rejected: 0 },
  };
}

function send(b: { batch: { batchId: string; ids: string[]; priorAttempts: number } }, attempt = 1): Promise<SentSyncBatch> {
  return run(activities.sendSyncBatch, attempt, {
    batchId: b.batch.batchId,
    lane: 'backfill',
    ids: b.batch.ids,
    priorAttempts: b.batch.priorAttempts,
    leaseSeconds: 60,
  });
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the activity to fail');
}

describe('sendSyncBatch', () => {
  it('reports the edge’s real backlog in the batch: every pending or claimed row, and the oldest one’s time', async () => {
    const b = await claimed(3);
    // Waiting besides the batch's own three: five rows of every priority, the oldest a monitoring one.
    const tenant = randomUUID();
    await seedRow(pool, { tenant, priority: -1, occurredAt: `'2026-01-05T05:00:00.000Z'::timestamptz` });
    await seedRow(pool, { tenant, priority: 1, occurredAt: `'2026-01-05T07:00:00.000Z'::timestamptz` });
    for (let i = 0; i < 3; i++) await seedRow(pool, { tenant });
    // Not waiting: dead, delivered and in-flight rows.
    await seedRow(pool, { tenant, status: 'dlq', occurredAt: `'2026-01-01T00:00:00.000Z'::timestamptz` });
    await seedRow(pool, { tenant, status: 'acked', ackedAt: 'now()', occurredAt: `'2026-01-01T00:00:00.000Z'::timestamptz` });
    await seedRow(pool, { tenant, status: 'sent', occurredAt: `'2026-01-01T00:00:00.000Z'::timestamptz` });

    await send(b);
    const body = edgeBatchRequest.parse(JSON.parse(seen[0].body.toString('utf8')));
    expect(body.edge_status).toEqual({ pending_events: 8, oldest_pending_at: '2026-01-05T05:00:00.000Z' });
    // Bounded: the count stops at its cap.
    expect(await outbox.outboxBacklog(pool, 4)).toEqual({ pending: 4, oldestPendingAt: new Date('2026-01-05T05:00:00.000Z') });
    await pool.query(`UPDATE sync_outbox SET status = 'acked', acked_at = now()`);
    expect(await outbox.outboxBacklog(pool, 4)).toEqual({ pending: 0, oldestPendingAt: null });
  });

  it('posts the stored envelopes signed, and settles each event by the answer: accepted/duplicate → acked, rejected → failed with the reason', async () => {
    const b = await claimed(4);
    const stored = (
      await pool.query<{ envelope: EnvelopeBase }>('SELECT envelope FROM sync_outbox WHERE id = ANY($1::bigint[]) ORDER BY id', [b.ids])
    ).rows.map((r) => r.envelope);
    answer = (_req, parsed, res) => {
      const outcomes: EventOutcome[] = [
        { status: 'accepted', event_id: parsed.events[0].event_id, tenant_id: b.tenant },
        { status: 'duplicate', event_id: parsed.events[1].event_id, tenant_id: b.tenant },
        { status: 'rejected', event_id: parsed.events[2].event_id, tenant_id: b.tenant, reason: 'schema_violation:payload.value' },
        { status: 'accepted', event_id: parsed.events[3].event_id, tenant_id: b.tenant },
      ];
      json(res, 200, { batch_id: parsed.batch_id, results: outcomes });
    };

    const result = await send(b);
    expect(result).toEqual({
      attempt: 1,
      delivered: 4,
      accepted: 2,
      duplicate: 1,
      rejected: 1,
      acked: 3,
      failed: 1,
      notHeld: 0,
      alreadySettled: 0,
      deferred: 0,
      monitoringEvents: 2,
    });

    // What the cloud received: one signed POST, the batch id as request id, the envelopes as stored.
    expect(seen).toHaveLength(1);
    const req = seen[0];
    expect(req).toMatchObject({ method: 'POST', path: '/api/v1/edge/batch', signatureProblem: undefined });
    expect(req.headers[signatureHeaders.edgeId]).toBe(edgeId);
    expect(req.headers[signatureHeaders.keyId]).toBe(keys.keyId);
    expect(req.headers['x-request-id']).toBe(b.batch.batchId);
    expect(req.headers['content-type']).toBe('application/json');
    const body = edgeBatchRequest.parse(JSON.parse(req.body.toString('utf8')));
    expect(body.batch_id).toBe(b.batch.batchId);
    expect(body.edge_id).toBe(edgeId);
    expect(body.events).toEqual(stored);
    expect((body.events as EnvelopeBase[]).map((e) => e.trace_id)).toEqual(stored.map((e) => e.trace_id));

    const rows = await rowsById(pool, b.ids);
    expect(rows.map((r) => r.status)).toEqual(['acked', 'acked', 'failed', 'acked']);
    expect(rows[2].last_error).toBe('schema_violation:payload.value');
    for (const r of rows) {
      expect(r.sent_at).toBeInstanceOf(Date);
      expect(r.claimed_by).toBe(b.batch.batchId);
      expect(r.attempt_count).toBe(0);
    }
    expect(rows[0].acked_at).toBeInstanceOf(Date);

    // Two monitoring events about the batch, low priority, for the same tenant, valid envelopes.
    const { rows: monitoring } = await pool.query<{ event_type: string; priority: number; tenant_id: string; status: string; envelope: FarmEvent }>(
      `SELECT event_type, priority, tenant_id, status, envelope FROM sync_outbox WHERE event_type LIKE 'sync.batch.%' ORDER BY event_type DESC`,
    );
    expect(monitoring.map((m) => [m.event_type, m.priority, m.tenant_id, m.status])).toEqual([
      ['sync.batch.sent', -1, b.tenant, 'pending'],
      ['sync.batch.acked', -1, b.tenant, 'pending'],
    ]);
    for (const m of monitoring) expect(farmEventSchema.safeParse(m.envelope).success).toBe(true);
    expect(monitoring[0].envelope.payload).toEqual({ edge_id: edgeId, batch_id: b.batch.batchId, event_count: 4, attempt: 1 });
    expect(monitoring[1].envelope.payload).toEqual({ edge_id: edgeId, batch_id: b.batch.batchId, accepted: 2, duplicate: 1, rejected: 1 });
  });

  it('writes no monitoring events about a batch made only of monitoring events', async () => {
    const b = await claimed(2, { eventType: 'sync.batch.acked' });
    expect(b.batch.monitoringOnly).toBe(true);
    const result = await send(b);
    expect(result).toMatchObject({ delivered: 2, acked: 2, monitoringEvents: 0 });
    expect((await pool.query('SELECT count(*)::int AS n FROM sync_outbox')).rows[0].n).toBe(2);
  });

  it('on a 500 records the attempt (count, error, next attempt, lease) and throws CloudBatchFailed with the §7.4 delay', async () => {
    const b = await claimed(2);
    answer = (_req, _parsed, res) => json(res, 500, { error: { code: 'internal_error', message: 'the request failed' } });
    const started = Date.now();
    const f = await failureOf(send(b, 3));
    expect(f.type).toBe('CloudBatchFailed');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toBe('cloud answered 500 internal_error: the request failed');
    // After the 3rd failed attempt: 2^2 s plus up to 1 s of jitter.
    const delayMs = Number(f.nextRetryDelay);
    expect(delayMs).toBeGreaterThanOrEqual(4000);
    expect(delayMs).toBeLessThan(5000);
    expect(f.details?.[0]).toMatchObject({ attempt: 3, status: 500, nextRetryDelayMs: delayMs });

    for (const r of await rowsById(pool, b.ids)) {
      expect(r).toMatchObject({
        status: 'claimed',
        claimed_by: b.batch.batchId,
        attempt_count: 3,
        last_error: 'cloud answered 500 internal_error: the request failed',
      });
      const next = r.next_attempt_at.getTime() - started;
      expect(next).toBeGreaterThanOrEqual(delayMs - 50);
      expect(next).toBeLessThan(delayMs + 2000);
      expect(r.lease_expires_at!.getTime()).toBeGreaterThan(r.next_attempt_at.getTime());
    }

    // The retry (attempt 4) goes through and settles the rows.
    answer = acceptAll;
    expect(await send(b, 4)).toMatchObject({ attempt: 4, acked: 2 });
    expect((await rowsById(pool, b.ids)).map((r) => r.status)).toEqual(['acked', 'acked']);
  });

  it('counts the attempts of a batch on from the rows’ earlier attempts', async () => {
    const b = await claimed(1, { attemptCount: 6 });
    expect(b.batch.priorAttempts).toBe(6);
    answer = (_req, _parsed, res) => json(res, 502 + 98, { error: { code: 'internal_error', message: 'boom' } });
    const f = await failureOf(send(b, 2));
    expect(f.details?.[0]).toMatchObject({ attempt: 8 });
    expect((await rowsById(pool, b.ids))[0].attempt_count).toBe(8);
  });

  it('treats an answer that breaks the contract as a failed attempt', async () => {
    const b = await claimed(3);
    answer = (_req, parsed, res) =>
      json(res, 200, { batch_id: parsed.batch_id, results: [{ status: 'accepted', event_id: parsed.events[0].event_id, tenant_id: b.tenant }] });
    const f = await failureOf(send(b));
    expect(f.type).toBe('CloudBatchFailed');
    expect(f.message).toBe('invalid_response: 1 results for 3 events');
    expect((await rowsById(pool, b.ids)).map((r) => [r.status, r.attempt_count])).toEqual([
      ['claimed', 1],
      ['claimed', 1],
      ['claimed', 1],
    ]);
  });

  it('treats a connection broken after the request went out as a failed attempt', async () => {
    const b = await claimed(1);
    answer = (_req, _parsed, res) => res.socket?.destroy();
    const f = await failureOf(send(b, 2));
    expect(f.type).toBe('CloudBatchFailed');
    expect(f.message).toContain('the connection broke after the request was sent');
    expect((await rowsById(pool, b.ids))[0].attempt_count).toBe(2);
  });

  it.each([
    ['503 unavailable', 503],
    ['429 too many requests', 429],
    ['504 gateway timeout', 504],
  ])('on %s throws CloudUnavailable and gives the rows back with their attempts untouched', async (_name, status) => {
    const b = await claimed(2, { attemptCount: 2 });
    answer = (_req, _parsed, res) => json(res, status, { error: { code: 'unavailable', message: 'the database is not reachable' } });
    const f = await failureOf(send(b, 1));
    expect(f.type).toBe('CloudUnavailable');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`cloud answered ${status} unavailable`);
    for (const r of await rowsById(pool, b.ids)) expect(r).toMatchObject({ status: 'pending', claimed_by: null, attempt_count: 2, last_error: null });
  });

  it('on connection refused throws CloudUnavailable and spends no attempt', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const offlineCloud = createCloudClient({ baseUrl: `http://127.0.0.1:${closed}`, requestTimeoutMs: 1500 });
    const offline = createSyncActivities({ pool, edgeId, cloud: offlineCloud, identity: new EdgeIdentitySource({ edgeId, keyFile }), requestTimeoutMs: 1500 });
    try {
      const b = await claimed(2);
      const f = await failureOf(run(offline.sendSyncBatch, 1, { batchId: b.batch.batchId, lane: 'backfill', ids: b.ids, priorAttempts: 0, leaseSeconds: 60 }));
      expect(f.type).toBe('CloudUnavailable');
      expect(f.message).toContain('ECONNREFUSED');
      for (const r of await rowsById(pool, b.ids)) expect(r).toMatchObject({ status: 'pending', claimed_by: null, attempt_count: 0 });
    } finally {
      offlineCloud.close();
    }
  });

  it('on no response before the timeout throws CloudUnavailable', async () => {
    const b = await claimed(1);
    answer = () => undefined; // never answers
    const f = await failureOf(send(b, 1));
    expect(f.type).toBe('CloudUnavailable');
    expect(f.message).toContain('no response within 1500 ms');
    expect((await rowsById(pool, b.ids))[0]).toMatchObject({ status: 'pending', attempt_count: 0 });
  });

  it('on 401 throws CloudMisconfigured with the cloud’s code, and gives the rows back', async () => {
    const b = await claimed(1);
    answer = (_req, _parsed, res) => json(res, 401, { error: { code: 'unknown_key', message: 'no such edge key' } });
    const f = await failureOf(send(b, 1));
    expect(f.type).toBe('CloudMisconfigured');
    expect(f.nonRetryable).toBe(true);
    expect(f.details?.[0]).toEqual({ status: 401, code: 'unknown_key' });
    expect(f.message).toContain(`the cloud refuses edge ${edgeId} (key ${keys.keyId})`);
    expect((await rowsById(pool, b.ids))[0]).toMatchObject({ status: 'pending', attempt_count: 0, claimed_by: null });
  });

  it('on 400 edge_mismatch throws CloudMisconfigured (a setting is wrong, no event is)', async () => {
    const b = await claimed(1);
    answer = (_req, _parsed, res) => json(res, 400, { error: { code: 'edge_mismatch', message: 'edge_id differs from the signing edge' } });
    const f = await failureOf(send(b, 1));
    expect(f.type).toBe('CloudMisconfigured');
    expect((await rowsById(pool, b.ids))[0]).toMatchObject({ status: 'pending', attempt_count: 0 });
  });

  it('on 413 sheds the second half of the batch and fails the attempt for the first', async () => {
    const b = await claimed(4);
    answer = (_req, _parsed, res) => json(res, 413, { error: { code: 'payload_too_large', message: 'too big' } });
    const f = await failureOf(send(b, 1));
    expect(f.type).toBe('CloudBatchFailed');
    expect((await rowsById(pool, b.ids)).map((r) => [r.status, r.attempt_count, r.claimed_by])).toEqual([
      ['claimed', 1, b.batch.batchId],
      ['claimed', 1, b.batch.batchId],
      ['pending', 0, null],
      ['pending', 0, null],
    ]);
    answer = acceptAll;
    expect(await send(b, 2)).toMatchObject({ delivered: 2, acked: 2, notHeld: 2 });
  });

  it('sends nothing for rows another batch has taken over, and nothing twice for rows it already settled', async () => {
    const b = await claimed(2);
    await pool.query(`UPDATE sync_outbox SET claimed_by = 'someone-else' WHERE id = $1`, [b.ids[0]]);
    const first = await send(b);
    expect(first).toMatchObject({ notHeld: 1, delivered: 1, acked: 1 });
    const again = await send(b, 2);
    expect(again).toMatchObject({ notHeld: 1, alreadySettled: 1, delivered: 0 });
    expect(seen).toHaveLength(1);
  });

  it('throws SyncNotConfigured without a key file, and gives the rows back', async () => {
    const unconfigured = createSyncActivities({ pool, edgeId, cloud, identity: new EdgeIdentitySource({ edgeId }), requestTimeoutMs: 1500 });
    const b = await claimed(1);
    const f = await failureOf(
      run(unconfigured.sendSyncBatch, 1, { batchId: b.batch.batchId, lane: 'backfill', ids: b.ids, priorAttempts: 0, leaseSeconds: 60 }),
    );
    expect(f.type).toBe('SyncNotConfigured');
    expect((await rowsById(pool, b.ids))[0]).toMatchObject({ status: 'pending' });
    expect(await run(unconfigured.checkSyncConfiguration, 1)).toMatchObject({ configured: false, reason: expect.stringContaining('EDGE_SIGNING_KEY_FILE') });
    expect(await run(activities.checkSyncConfiguration, 1)).toMatchObject({ configured: true, keyId: keys.keyId });
  });
});

describe('waitForCloud', () => {
  it('returns as soon as GET /health answers 200', async () => {
    health = 503;
    setTimeout(() => (health = 200), 350);
    const r = await run(activities.waitForCloud, 1, { maxWaitMs: 10_000 });
    expect(r.reachable).toBe(true);
    expect(r.probes).toBeGreaterThan(1);
    expect(r.waitedMs).toBeLessThan(2000);
  });

  it('gives up after maxWaitMs while the cloud stays down', async () => {
    health = 503;
    const r = await run(activities.waitForCloud, 1, { maxWaitMs: 300 });
    expect(r).toMatchObject({ reachable: false, lastReason: 'GET /health answered 503' });
  });
});
