/**
 * The sync activities when the edge database refuses data (issue 8 point 1), against a real
 * Postgres of their own (farmiq_edge_refusal_test) and a small cloud stub.
 *
 * A refusal is forced with a test-only NOT VALID CHECK constraint (or, for a delete, a trigger)
 * that matches only this test's marker row, dropped again in `finally`. What must hold: the row
 * the database refuses is quarantined (failed, `storage_refused:<SQLSTATE>`) or narrowed past,
 * the rest of its batch goes on at once, a refusal nothing can be narrowed to is a non-retryable
 * DataRefused, and a database that is simply not there stays a retryable failure.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { classifyDatabaseError } from '../../db/errors';
import { createSyncActivities, type SyncActivities } from '../../activities/sync/forwarder';
import { createSyncRetentionActivities } from '../../activities/sync/retention';
import { dataRefusedType, type DataRefusedDetails } from '../../activities/failures';
import { createCloudClient, type CloudClient } from '../../sync/cloud-client';
import { EdgeIdentitySource } from '../../sync/edge-identity';
import { newEdgeKeyPair, type EventOutcome } from '../../domain/sync';
import { listen } from '../auth/support';
import { edgeTestDatabaseUrl, openSyncTestDatabase, rowsById, seedRow } from './sync-db';

const edgeId = `edge-refusal-test-${randomUUID().slice(0, 6)}`;
const keys = newEdgeKeyPair();
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-refusal-key-'));
const keyFile = path.join(keyDir, 'edge.key');
fs.writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });

type Answer = (events: { event_id: string; tenant_id: string; trace_id: string }[]) => EventOutcome[];

let pool: Pool;
let server: Awaited<ReturnType<typeof listen>>;
let cloud: CloudClient;
let activities: SyncActivities;
/** How the stub cloud answers each event; every event accepted unless a test says otherwise. */
let answer: Answer;
/** The events of every batch the stub received. */
const received: { trace_id: string }[][] = [];

const acceptAll: Answer = (events) => events.map((e) => ({ status: 'accepted', event_id: e.event_id, tenant_id: e.tenant_id }));

beforeAll(async () => {
  pool = await openSyncTestDatabase('farmiq-test-sync-refusals', edgeTestDatabaseUrl('refusal_test'));
  server = await listen((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') return res.end('{"status":"ok"}');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      received.push(body.events);
      res.end(JSON.stringify({ batch_id: body.batch_id, results: answer(body.events) }));
    });
  });
  cloud = createCloudClient({ baseUrl: server.url, requestTimeoutMs: 2000, probeTimeoutMs: 500 });
  activities = createSyncActivities({ pool, edgeId, cloud, identity: new EdgeIdentitySource({ edgeId, keyFile }), requestTimeoutMs: 2000 });
});

afterAll(async () => {
  cloud?.close();
  await server?.close();
  await pool?.query('TRUNCATE sync_outbox');
  await pool?.end();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await pool.query('TRUNCATE sync_outbox');
  answer = acceptAll;
  received.length = 0;
});

/** What the activities logged (the quarantines log errors on purpose), instead of printing it. */
const logged: LogEntry[] = [];

function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('WARN', (e) => logged.push(e)) }).run(fn, ...args);
}

const claimInput = (batchId = `${edgeId}:backfill:refusal:${randomUUID().slice(0, 8)}`) => ({
  batchId,
  lane: 'backfill' as const,
  batchSize: 100,
  leaseSeconds: 60,
  liveWindowSeconds: 120,
  waitMs: 0,
  pollMs: 100,
});

/** `n` backfill rows of one tenant, in claim order; the rows at `poison` carry the marker trace id. */
async function seed(n: number, marker: string, poison: number[]): Promise<string[]> {
  const tenant = randomUUID();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await seedRow(pool, { tenant, createdAt: `now() - interval '10 minutes'`, occurredAt: `now() - interval '${60 - i} minutes'` });
    if (poison.includes(i)) await pool.query('UPDATE sync_outbox SET trace_id = $2 WHERE id = $1::bigint', [id, marker]);
    ids.push(id);
  }
  return ids;
}

/** Adds a test-only constraint for the duration of `body` (NOT VALID: only rows written meanwhile are checked). */
async function withConstraint<T>(check: string, body: () => Promise<T>): Promise<T> {
  const name = `refusal_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await pool.query(`ALTER TABLE sync_outbox ADD CONSTRAINT ${name} CHECK (${check}) NOT VALID`);
  try {
    return await body();
  } finally {
    await pool.query(`ALTER TABLE sync_outbox DROP CONSTRAINT ${name}`);
  }
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the activity to fail');
}

function expectDataRefused(err: unknown, sqlState: string): void {
  expect(err).toBeInstanceOf(ApplicationFailure);
  const f = err as ApplicationFailure;
  expect(f.type).toBe(dataRefusedType);
  expect(f.nonRetryable).toBe(true);
  expect(f.details?.[0]).toMatchObject({ refusedBy: 'postgres', reason: `storage_refused:${sqlState}`, sqlState } satisfies Partial<DataRefusedDetails>);
}

/** A failure Temporal retries: not a non-retryable ApplicationFailure, and the classifier calls it transient. */
function expectRetryable(err: unknown): void {
  if (err instanceof ApplicationFailure) expect(err.nonRetryable).toBe(false);
  expect(classifyDatabaseError(err)).toBe('transient');
}

describe('claimSyncBatch', () => {
  it('quarantines a row the database refuses to claim (failed, storage_refused:23514) and claims the rest of the batch', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(4, marker, [1]);
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}' OR status IN ('pending', 'failed')`, async () => {
      const batch = await run(activities.claimSyncBatch, claimInput());
      expect(batch.ids).toEqual([ids[0], ids[2], ids[3]]);
      const [poison] = await rowsById(pool, [ids[1]]);
      expect(poison.status).toBe('failed');
      expect(poison.last_error).toMatch(/^storage_refused:23514: /);
      expect(logged.some((e) => e.level === 'ERROR' && e.meta?.reason === 'storage_refused:23514' && (e.meta?.ids as string[]).includes(ids[1]))).toBe(true);
      // Out of the lane's way: the next claim does not meet it again.
      expect((await run(activities.claimSyncBatch, claimInput())).ids).toEqual([]);
    });
  });

  it('narrows past a row the database refuses any change to, every claim, and claims the others', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(3, marker, [0]);
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}'`, async () => {
      const batch = await run(activities.claimSyncBatch, { ...claimInput(), batchSize: 1 });
      expect(batch.ids).toEqual([ids[1]]);
      expect((await run(activities.claimSyncBatch, { ...claimInput(), batchSize: 1 })).ids).toEqual([ids[2]]);
      expect((await rowsById(pool, [ids[0]]))[0]).toMatchObject({ status: 'pending', claimed_by: null });
    });
  });

  it('a claim no row accepts is refused itself: DataRefused, not retried, no row touched — while a database that is not there stays retryable in every outbox activity', async () => {
    const ids = await seed(3, 'unused', []);
    const input = claimInput();
    await withConstraint(`claimed_by IS DISTINCT FROM '${input.batchId}'`, async () => {
      expectDataRefused(await failureOf(run(activities.claimSyncBatch, input)), '23514');
    });
    expect((await rowsById(pool, ids)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

    const away = createPool('postgres://farmiq:farmiq@127.0.0.1:1/farmiq_edge_refusal_test', { connectionTimeoutMillis: 1000 });
    try {
      const offline = createSyncActivities({ pool: away, edgeId, cloud, identity: new EdgeIdentitySource({ edgeId, keyFile }), requestTimeoutMs: 2000 });
      expectRetryable(await failureOf(run(offline.claimSyncBatch, claimInput())));
      expectRetryable(await failureOf(run(offline.sendSyncBatch, { batchId: 'b-1', lane: 'backfill', ids: ['1'], priorAttempts: 0, leaseSeconds: 60 })));
      expectRetryable(await failureOf(run(offline.releaseSyncBatch, { batchId: 'b-1', ids: ['1'] })));
      expectRetryable(await failureOf(run(offline.moveSyncBatchToDlq, { batchId: 'b-1', ids: ['1'], lastError: 'x' })));
      expectRetryable(await failureOf(run(offline.releaseExpiredSyncLeases)));
      expectRetryable(await failureOf(run(createSyncRetentionActivities({ pool: away }).pruneAckedOutbox, { olderThanHours: 24, chunk: 10 })));
    } finally {
      await away.end();
    }
  });
});

describe('sendSyncBatch', () => {
  const send = (batch: { batchId: string; ids: string[]; priorAttempts: number }) =>
    run(activities.sendSyncBatch, { batchId: batch.batchId, lane: 'backfill', ids: batch.ids, priorAttempts: batch.priorAttempts, leaseSeconds: 60 });

  it('quarantines a row the database refuses to settle by the cloud answer; the others are acked in the same transaction', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(3, marker, [2]);
    const batch = await run(activities.claimSyncBatch, claimInput());
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}' OR status <> 'acked'`, async () => {
      const result = await send(batch);
      expect(result).toMatchObject({ delivered: 3, accepted: 3, acked: 2, failed: 1, quarantined: 1, monitoringEvents: 2 });
    });
    const rows = await rowsById(pool, ids);
    expect(rows.map((r) => r.status)).toEqual(['acked', 'acked', 'failed']);
    expect(rows[2].last_error).toMatch(/^storage_refused:23514: /);
  });

  it('quarantines a row the database refuses to mark sending, and sends the rest without it', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(3, marker, [0]);
    const batch = await run(activities.claimSyncBatch, claimInput());
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}' OR status <> 'sending'`, async () => {
      const result = await send(batch);
      expect(result).toMatchObject({ delivered: 2, acked: 2, failed: 1, quarantined: 1 });
    });
    expect(received).toHaveLength(1);
    expect(received[0].map((e) => e.trace_id)).not.toContain(marker);
    const rows = await rowsById(pool, ids);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'acked', 'acked']);
    expect(rows[0].last_error).toMatch(/^storage_refused:23514: /);
  });

  it('stores a cloud rejection reason that holds a NUL (made storable) instead of failing the whole batch', async () => {
    const ids = await seed(2, 'unused', []);
    const batch = await run(activities.claimSyncBatch, claimInput());
    answer = (events) => [
      { status: 'rejected', event_id: events[0].event_id, tenant_id: events[0].tenant_id, reason: 'schema_violation:payload\u0000x' },
      { status: 'accepted', event_id: events[1].event_id, tenant_id: events[1].tenant_id },
    ];
    expect(await send(batch)).toMatchObject({ rejected: 1, acked: 1, failed: 1 });
    const rows = await rowsById(pool, ids);
    expect(rows.map((r) => [r.status, r.last_error])).toEqual([
      ['failed', 'schema_violation:payload\ufffdx'],
      ['acked', null],
    ]);
  });
});

describe('moveSyncBatchToDlq', () => {
  it('moves a batch whose last error holds a NUL (made storable)', async () => {
    const ids = await seed(2, 'unused', []);
    const batch = await run(activities.claimSyncBatch, claimInput());
    expect(await run(activities.moveSyncBatchToDlq, { batchId: batch.batchId, ids: batch.ids, lastError: 'cloud answered 500: \u0000' })).toEqual({ moved: 2 });
    expect((await rowsById(pool, ids)).map((r) => [r.status, r.last_error])).toEqual([
      ['dlq', 'cloud answered 500: \ufffd'],
      ['dlq', 'cloud answered 500: \ufffd'],
    ]);
  });

  it('quarantines a row the database refuses to move to the DLQ; the others are moved', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(3, marker, [1]);
    const batch = await run(activities.claimSyncBatch, claimInput());
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}' OR status <> 'dlq'`, async () => {
      expect(await run(activities.moveSyncBatchToDlq, { batchId: batch.batchId, ids: batch.ids, lastError: 'cloud answered 500' })).toEqual({
        moved: 2,
        quarantined: 1,
      });
    });
    const rows = await rowsById(pool, ids);
    expect(rows.map((r) => r.status)).toEqual(['dlq', 'failed', 'dlq']);
    expect(rows[1].last_error).toMatch(/^storage_refused:23514: /);
  });
});

describe('releaseSyncBatch', () => {
  it('gives back every row the database lets go; a refused one keeps its lease', async () => {
    const marker = `poison-${randomUUID()}`;
    const ids = await seed(3, marker, [2]);
    const batch = await run(activities.claimSyncBatch, claimInput());
    await withConstraint(`trace_id IS DISTINCT FROM '${marker}' OR status <> 'pending'`, async () => {
      expect(await run(activities.releaseSyncBatch, { batchId: batch.batchId, ids: batch.ids })).toEqual({ released: 2 });
    });
    expect((await rowsById(pool, ids)).map((r) => r.status)).toEqual(['pending', 'pending', 'claimed']);
  });
});

describe('pruneAckedOutbox', () => {
  it('deletes every old acked row but one the database refuses to delete, which stays', async () => {
    const marker = `keep-${randomUUID()}`;
    const acked = { createdAt: `now() - interval '3 days'`, status: 'acked', ackedAt: `now() - interval '2 days'` };
    const tenant = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await seedRow(pool, { tenant, ...acked }));
    await pool.query('UPDATE sync_outbox SET trace_id = $2 WHERE id = $1::bigint', [ids[1], marker]);
    const fn = `refusal_test_keep_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    // A CHECK cannot refuse a delete; a trigger raising an integrity violation stands in for it.
    await pool.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.trace_id = '${marker}' THEN RAISE EXCEPTION 'kept by a test' USING ERRCODE = 'integrity_constraint_violation'; END IF;
        RETURN OLD;
      END $$`);
    await pool.query(`CREATE TRIGGER ${fn} BEFORE DELETE ON sync_outbox FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      const { pruneAckedOutbox } = createSyncRetentionActivities({ pool });
      expect(await run(pruneAckedOutbox, { olderThanHours: 24, chunk: 100 })).toEqual({ deleted: 3, hasMore: false, refused: 1 });
    } finally {
      await pool.query(`DROP TRIGGER ${fn} ON sync_outbox`);
      await pool.query(`DROP FUNCTION ${fn}()`);
    }
    expect((await rowsById(pool, ids)).map((r) => r.id)).toEqual([ids[1]]);
  });
});
