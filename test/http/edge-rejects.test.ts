/**
 * The edge ingress rejects API (on the operator listener, with an operator token) against the real
 * edge test database, served on an ephemeral port and called with plain fetch. Each run uses its own
 * reason strings, so rows from other tests (or an earlier run) never change what is asserted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../../db/pool';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { bearer, newOperator, unreachableSyncControl } from './support';
import { testEdgeDatabaseUrl } from '../support/stack';

let pool: Pool;
let server: http.Server;
let base: string;
const run = randomUUID().slice(0, 8);
const jsonReason = `schema_violation:test-${run}.payload.value`;
const binaryReason = `invalid_encoding:test-${run}`;
const oldReason = `invalid_json:test-${run}`;

async function insertReject(reason: string, payload: Buffer | null, opts: { receivedAt?: string; payloadSize?: number } = {}): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ingress_rejects (received_at, source, topic, reason, detail, tenant_id, device_id, payload, payload_size)
     VALUES (coalesce($1::timestamptz, now()), 'mqtt', 'iot/telemetry/t/f/b/d/temperature', $2, 'detail for a human', 't', 'd', $3, $4)
     RETURNING id::text`,
    [opts.receivedAt ?? null, reason, payload, opts.payloadSize ?? payload?.byteLength ?? 0],
  );
  return rows[0].id;
}

let operator: { name: string; token: string };

/** The bodies the operator API answers with, as these tests read them (gateways/http/ingest/rejects-router.ts). */
interface RejectItem {
  id: string;
  received_at: string;
  payload_size: number;
  payload: { encoding: string; data: string; stored_bytes: number; truncated: boolean };
}
interface RejectPage {
  items: RejectItem[];
  next_before: string | null;
}
interface RejectSummary {
  totals: { last_24h: number; all_time: number };
  reasons: { reason: string; last_24h: number; all_time: number; last_received_at: string }[];
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
interface HealthBody {
  checks: { database: { ok: boolean } };
}

/** GETs `path` as the operator; `B` is the body the test expects the answer to carry. */
async function get<B = unknown>(path: string): Promise<{ status: number; body: B; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: { 'x-request-id': `test-${run}`, ...bearer(operator.token) } });
  return { status: res.status, body: (await res.json()) as B, headers: res.headers };
}

const ids: string[] = [];

beforeAll(async () => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-edge-http' });
  operator = await newOperator(pool, 'edge-rejects');
  const app = createEdgeOperatorApp({ pool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl() });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  for (let i = 0; i < 5; i++) {
    ids.push(await insertReject(jsonReason, Buffer.from(JSON.stringify({ n: i, value: 'hot' }))));
  }
  ids.push(await insertReject(binaryReason, Buffer.from([0xff, 0xfe, 0x00, 0x41]), { payloadSize: 70000 }));
  ids.push(await insertReject(oldReason, Buffer.from('{not json'), { receivedAt: new Date(Date.now() - 3 * 86400_000).toISOString() }));
});

afterAll(async () => {
  await pool.query('DELETE FROM ingress_rejects WHERE reason = ANY($1)', [[jsonReason, binaryReason, oldReason]]);
  await pool.query('DELETE FROM edge_operators WHERE name = $1', [operator.name]);
  await new Promise((resolve) => server.close(resolve));
  await pool.end();
});

describe('GET /health', () => {
  it('is 200 while the database answers, and echoes the request id', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ component: 'edge-http-operator', status: 'ok', checks: { database: { ok: true } } });
    expect(res.headers.get('x-request-id')).toBe(`test-${run}`);
  });
});

describe('GET /api/v1/ingress/rejects', () => {
  it('lists one reason, newest first, with the payload as text', async () => {
    const res = await get<RejectPage>(`/api/v1/ingress/rejects?reason=${encodeURIComponent(jsonReason)}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(0, 5).reverse());
    expect(res.body.next_before).toBeNull();
    expect(res.body.items[0]).toEqual({
      id: ids[4],
      received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: 'mqtt',
      topic: 'iot/telemetry/t/f/b/d/temperature',
      reason: jsonReason,
      detail: 'detail for a human',
      tenant_id: 't',
      device_id: 'd',
      payload_size: 21,
      payload: { encoding: 'utf8', data: '{"n":4,"value":"hot"}', stored_bytes: 21, truncated: false },
    });
  });

  it('shows bytes that are not UTF-8 as base64, and says when they were cut', async () => {
    const res = await get<RejectPage>(`/api/v1/ingress/rejects?reason=${encodeURIComponent(binaryReason)}`);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0].payload).toEqual({
      encoding: 'base64',
      data: Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('base64'),
      stored_bytes: 4,
      truncated: true,
    });
    expect(res.body.items[0].payload_size).toBe(70000);
  });

  it('pages with limit and before until next_before is null', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: RejectPage } = await get(
        `/api/v1/ingress/rejects?reason=${encodeURIComponent(jsonReason)}&limit=2${before ? `&before=${before}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      before = res.body.next_before;
      pages++;
    } while (before !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids.slice(0, 5).reverse());
  });

  it('lists every reason newest first without a filter', async () => {
    const res = await get<RejectPage>('/api/v1/ingress/rejects?limit=500');
    const ours = res.body.items.map((i: { id: string }) => i.id).filter((id: string) => ids.includes(id));
    expect(ours).toEqual([...ids].reverse());
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['before=-3', 'before'],
    ['before=abc', 'before'],
    ['reason=a&reason=b', 'reason'],
    ['tenant=x', 'tenant'],
  ])('answers 400 invalid_query for ?%s', async (query, field) => {
    const res = await get<ErrorBody>(`/api/v1/ingress/rejects?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'invalid_query', message: expect.stringContaining(field), field });
  });
});

describe('GET /api/v1/ingress/rejects/summary', () => {
  it('counts each reason in the last 24 hours and in all time', async () => {
    const res = await get<RejectSummary>('/api/v1/ingress/rejects/summary');
    expect(res.status).toBe(200);
    const byReason = new Map(res.body.reasons.map((r) => [r.reason, r] as const));
    expect(byReason.get(jsonReason)).toMatchObject({ last_24h: 5, all_time: 5 });
    expect(byReason.get(binaryReason)).toMatchObject({ last_24h: 1, all_time: 1 });
    expect(byReason.get(oldReason)).toMatchObject({ last_24h: 0, all_time: 1 });
    expect(res.body.totals.all_time).toBeGreaterThanOrEqual(7);
    expect(res.body.totals.last_24h).toBeGreaterThanOrEqual(6);
  });

  it('refuses parameters it does not take', async () => {
    const res = await get<ErrorBody>('/api/v1/ingress/rejects/summary?since=1d');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_query');
  });
});

describe('unknown routes', () => {
  it('answer 404 not_found as JSON', async () => {
    const res = await get<ErrorBody>('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('with the database down', () => {
  it('answers 503 database_unavailable and /health says so', async () => {
    // Port 1 on loopback refuses connections at once.
    const deadPool = createPool('postgres://farmiq:farmiq@127.0.0.1:1/farmiq_edge', { connectionTimeoutMillis: 1000 });
    const deadServer = http.createServer(createEdgeOperatorApp({ pool: deadPool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl() }));
    await new Promise<void>((resolve) => deadServer.listen(0, '127.0.0.1', () => resolve()));
    const deadBase = `http://127.0.0.1:${(deadServer.address() as AddressInfo).port}`;
    try {
      // The token cannot be checked without the database: 503, not 401 (the caller retries, not re-authenticates).
      const api = await fetch(`${deadBase}/api/v1/ingress/rejects`, { headers: bearer(operator.token) });
      expect(api.status).toBe(503);
      expect(api.headers.get('retry-after')).toBe('5');
      expect(((await api.json()) as ErrorBody).error.code).toBe('database_unavailable');
      const health = await fetch(`${deadBase}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as HealthBody).checks.database.ok).toBe(false);
    } finally {
      await new Promise((resolve) => deadServer.close(resolve));
      await deadPool.end();
    }
  });
});
