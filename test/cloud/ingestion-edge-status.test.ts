/**
 * The backlog an edge reports with its batches (edge_status, domain/sync/edge-batch.ts): checked on
 * its own so a broken one never costs the batch its events, covered by the signature, and kept per
 * edge only when newer (by the signed request time) than the report already stored.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { backlogCountCap, parseEdgeStatus } from '../../domain/sync';
import { testCloudDatabaseUrl } from '../support/stack';
import { batchOf, cleanupTenants, edgeEvent, errorOf, newEdge, postSigned, resultsOf, startIngestionServer, type TestEdge, type TestServer } from './support';

let pool: Pool;
let server: TestServer;
const tenant = randomUUID();
const edges: TestEdge[] = [];

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-edge-status' });
  server = await startIngestionServer({ pool });
});

afterAll(async () => {
  await server?.close();
  await cleanupTenants(
    pool,
    [tenant],
    edges.map((e) => e.edgeId),
  );
  await pool.end();
});

async function anEdge(): Promise<TestEdge> {
  const edge = await newEdge(pool, [tenant]);
  edges.push(edge);
  return edge;
}

async function stored(edgeId: string) {
  const { rows } = await pool.query<{ reported_backlog: number | null; reported_oldest_pending_at: Date | null; reported_at: Date | null }>(
    'SELECT reported_backlog, reported_oldest_pending_at, reported_at FROM edges WHERE edge_id = $1',
    [edgeId],
  );
  return rows[0];
}

/** Posts one valid event with this edge_status (left out when undefined), signed at `signedAt`. */
async function post(edge: TestEdge, edgeStatus: unknown, signedAt = new Date()) {
  const body = { ...batchOf(edge, [edgeEvent('telemetry.reading', tenant)]), ...(edgeStatus === undefined ? {} : { edge_status: edgeStatus }) };
  return postSigned(server.base, edge, body, { signedAt });
}

describe('the wire format', () => {
  test('a valid status, none, and broken ones', () => {
    expect(parseEdgeStatus({ pending_events: 12, oldest_pending_at: '2026-12-02T10:00:00.000Z' })).toEqual({
      ok: true,
      status: { pending_events: 12, oldest_pending_at: '2026-12-02T10:00:00.000Z' },
    });
    expect(parseEdgeStatus({ pending_events: 0, oldest_pending_at: null })).toMatchObject({ ok: true });
    expect(parseEdgeStatus(undefined)).toEqual({ ok: false, reason: 'absent' });
    for (const broken of [
      null,
      'lots',
      [],
      {},
      { pending_events: -1, oldest_pending_at: null },
      { pending_events: 1.5, oldest_pending_at: null },
      { pending_events: '3', oldest_pending_at: null },
      { pending_events: backlogCountCap + 1, oldest_pending_at: null },
      { pending_events: 3, oldest_pending_at: 'yesterday' },
      { pending_events: 3, oldest_pending_at: '0000-01-01T00:00:00Z' },
      { pending_events: 3 },
      { pending_events: 3, oldest_pending_at: null, extra: true },
    ]) {
      const r = parseEdgeStatus(broken);
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.reason).not.toBe('absent');
    }
  });
});

describe('ingestion', () => {
  test('keeps a valid report with the batch’s signed time, and accepts the events', async () => {
    const edge = await anEdge();
    const signedAt = new Date(Date.now() - 10_000);
    const r = await post(edge, { pending_events: 42, oldest_pending_at: '2026-12-01T08:30:00.000Z' }, signedAt);
    expect(r.status).toBe(200);
    expect(resultsOf(r).map((o) => o.status)).toEqual(['accepted']);
    expect(await stored(edge.edgeId)).toEqual({
      reported_backlog: 42,
      reported_oldest_pending_at: new Date('2026-12-01T08:30:00.000Z'),
      reported_at: new Date(Math.floor(signedAt.getTime() / 1000) * 1000),
    });
  });

  test('an edge that sends no status: events accepted, nothing stored', async () => {
    const edge = await anEdge();
    const r = await post(edge, undefined);
    expect(resultsOf(r).map((o) => o.status)).toEqual(['accepted']);
    expect(await stored(edge.edgeId)).toEqual({ reported_backlog: null, reported_oldest_pending_at: null, reported_at: null });
  });

  test('a broken status is ignored: events accepted, the stored report unchanged', async () => {
    const edge = await anEdge();
    const signedAt = new Date(Date.now() - 60_000);
    await post(edge, { pending_events: 7, oldest_pending_at: null }, signedAt);
    const before = await stored(edge.edgeId);
    expect(before.reported_backlog).toBe(7);
    for (const broken of [
      null,
      'x',
      { pending_events: -5, oldest_pending_at: null },
      { pending_events: 1e12, oldest_pending_at: null },
      { pending_events: 3, oldest_pending_at: '\u0000' },
    ]) {
      const r = await post(edge, broken);
      expect(r.status).toBe(200);
      expect(resultsOf(r).map((o) => o.status)).toEqual(['accepted']);
    }
    expect(await stored(edge.edgeId)).toEqual(before);
  });

  test('the newest report wins: an older batch arriving later does not replace it', async () => {
    const edge = await anEdge();
    const now = Date.now();
    await post(edge, { pending_events: 100, oldest_pending_at: '2026-12-02T09:00:00.000Z' }, new Date(now - 30_000));
    await post(edge, { pending_events: 10, oldest_pending_at: null }, new Date(now - 5_000));
    const late = await post(edge, { pending_events: 500, oldest_pending_at: '2026-12-02T08:00:00.000Z' }, new Date(now - 60_000));
    expect(resultsOf(late).map((o) => o.status)).toEqual(['accepted']);
    expect(await stored(edge.edgeId)).toMatchObject({ reported_backlog: 10, reported_oldest_pending_at: null });
  });

  test('within the same second (the timestamp has whole seconds) the batch that arrives last wins', async () => {
    const edge = await anEdge();
    const at = new Date();
    await post(edge, { pending_events: 2000, oldest_pending_at: null }, at);
    await post(edge, { pending_events: 1000, oldest_pending_at: null }, at);
    expect((await stored(edge.edgeId)).reported_backlog).toBe(1000);
  });

  test('the status is covered by the signature: a changed one refuses the request', async () => {
    const edge = await anEdge();
    const body = { ...batchOf(edge, [edgeEvent('telemetry.reading', tenant)]), edge_status: { pending_events: 1, oldest_pending_at: null } };
    const tampered = JSON.stringify({ ...body, edge_status: { pending_events: 0, oldest_pending_at: null } });
    const r = await postSigned(server.base, edge, body, { sendBody: tampered });
    expect([r.status, errorOf(r).code]).toEqual([401, 'bad_signature']);
    expect((await stored(edge.edgeId)).reported_at).toBeNull();
  });
});
