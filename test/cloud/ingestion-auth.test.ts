/**
 * Who may send batches: only a registered, unrevoked edge, with a fresh signature over these exact
 * bytes, once per nonce, and only for its own tenants. Every refusal is a 401 with its code, and
 * nothing of a refused request is stored.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { loadPrivateKey, newEdgeKeyPair, signatureHeaders, signRequest } from '../../domain/sync';
import { revokeEdge } from '../../cloud/edges';
import { testCloudDatabaseUrl } from '../support/stack';
import {
  batchOf,
  cleanupTenants,
  edgeEvent,
  errorOf,
  newEdge,
  postSigned,
  resultsOf,
  send,
  startIngestionServer,
  type TestEdge,
  type TestServer,
} from './support';

let pool: Pool;
let server: TestServer;
const tenantA = randomUUID();
const tenantB = randomUUID();
const edges: string[] = [];
let edge: TestEdge;

async function stored(eventIds: string[]): Promise<{ dedupe: number; outbox: number }> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM ingestion_dedupe WHERE event_id = ANY($1::uuid[])) AS dedupe,
            (SELECT count(*)::int FROM ingestion_outbox WHERE event_id = ANY($1::uuid[])) AS outbox`,
    [eventIds],
  );
  return rows[0];
}

function reading(tenant: string = tenantA) {
  return edgeEvent('telemetry.reading', tenant);
}

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-ingestion-auth' });
  server = await startIngestionServer({ pool });
  edge = await newEdge(pool, [tenantA]);
  edges.push(edge.edgeId);
});

afterAll(async () => {
  await server?.close();
  await cleanupTenants(pool, [tenantA, tenantB], edges);
  await pool.end();
});

test('a signed request from a registered edge is accepted and stored', async () => {
  const events = [reading(), reading()];
  const res = await postSigned(server.base, edge, batchOf(edge, events));
  expect(res.status).toBe(200);
  expect(resultsOf(res)).toEqual(events.map((e) => ({ status: 'accepted', event_id: e.event_id, tenant_id: tenantA })));
  expect(await stored(events.map((e) => e.event_id))).toEqual({ dedupe: 2, outbox: 2 });
});

test('the alias path /api/v1/ingestion/batch works the same, signed over its own path', async () => {
  const e = reading();
  const res = await postSigned(server.base, edge, batchOf(edge, [e]), { path: '/api/v1/ingestion/batch' });
  expect(res.status).toBe(200);
  expect(resultsOf(res)[0].status).toBe('accepted');
});

describe('refused with 401, nothing stored', () => {
  async function expectRefused(code: string, post: (events: unknown[]) => Promise<{ status: number; body: unknown }>): Promise<void> {
    const events = [reading()];
    const res = await post(events);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(await stored(events.map((e) => (e as { event_id: string }).event_id))).toEqual({ dedupe: 0, outbox: 0 });
  }

  test('signed with another key pair: bad_signature', async () => {
    const other = newEdgeKeyPair();
    await expectRefused('bad_signature', (events) =>
      postSigned(server.base, edge, batchOf(edge, events), {
        signer: { edgeId: edge.edgeId, keyId: edge.keyId, privateKey: loadPrivateKey(other.privateKeyPem) },
      }),
    );
  });

  test('body changed after signing: bad_signature', async () => {
    await expectRefused('bad_signature', (events) => {
      const body = batchOf(edge, events);
      const tampered = JSON.stringify({ ...body, events: [{ ...(events[0] as object), payload: { metric: 'temperature', value: 99, unit: 'C' } }] });
      return postSigned(server.base, edge, body, { sendBody: tampered });
    });
  });

  test('signed for the other path: bad_signature', async () => {
    await expectRefused('bad_signature', (events) => {
      const body = JSON.stringify(batchOf(edge, events));
      return send(server.base, '/api/v1/edge/batch', signRequest(edge, 'POST', '/api/v1/ingestion/batch', body), body);
    });
  });

  test('timestamp ten minutes old: stale_timestamp', async () => {
    await expectRefused('stale_timestamp', (events) => postSigned(server.base, edge, batchOf(edge, events), { signedAt: new Date(Date.now() - 10 * 60_000) }));
  });

  test('timestamp ten minutes ahead: stale_timestamp', async () => {
    await expectRefused('stale_timestamp', (events) => postSigned(server.base, edge, batchOf(edge, events), { signedAt: new Date(Date.now() + 10 * 60_000) }));
  });

  test('unknown edge id: unknown_edge', async () => {
    await expectRefused('unknown_edge', (events) => postSigned(server.base, { ...edge, edgeId: `nobody-${randomUUID()}` }, batchOf(edge, events)));
  });

  test('key id that is not the edge key: unknown_edge', async () => {
    await expectRefused('unknown_edge', (events) =>
      postSigned(server.base, edge, batchOf(edge, events), { headers: (h) => ({ ...h, [signatureHeaders.keyId]: 'not-the-key-id' }) }),
    );
  });

  test('revoked edge: unknown_edge', async () => {
    const revoked = await newEdge(pool, [tenantA]);
    edges.push(revoked.edgeId);
    const before = await postSigned(server.base, revoked, batchOf(revoked, [reading()]));
    expect(before.status).toBe(200);
    expect(await revokeEdge(pool, revoked.edgeId)).toBe(true);
    await expectRefused('unknown_edge', (events) => postSigned(server.base, revoked, batchOf(revoked, events)));
  });

  test.each(Object.values(signatureHeaders))('header %s missing: missing_signature', async (header) => {
    await expectRefused('missing_signature', (events) =>
      postSigned(server.base, edge, batchOf(edge, events), {
        headers: (h) => {
          const { [header]: _dropped, ...rest } = h;
          return rest;
        },
      }),
    );
  });

  test('no signature headers at all: missing_signature', async () => {
    await expectRefused('missing_signature', (events) => send(server.base, '/api/v1/edge/batch', {}, JSON.stringify(batchOf(edge, events))));
  });

  test('a malformed timestamp: missing_signature', async () => {
    await expectRefused('missing_signature', (events) =>
      postSigned(server.base, edge, batchOf(edge, events), { headers: (h) => ({ ...h, [signatureHeaders.timestamp]: 'yesterday' }) }),
    );
  });
});

test('the same request sent twice (same nonce): the replay is refused with replayed_nonce', async () => {
  const events = [reading()];
  const first = await postSigned(server.base, edge, batchOf(edge, events));
  expect(first.status).toBe(200);
  const replay = await send(server.base, '/api/v1/edge/batch', first.signedHeaders, first.raw);
  expect(replay.status).toBe(401);
  expect(errorOf(replay).code).toBe('replayed_nonce');
  expect(await stored(events.map((e) => e.event_id))).toEqual({ dedupe: 1, outbox: 1 });
  const nonces = await pool.query('SELECT count(*)::int AS n FROM edge_request_nonces WHERE edge_id = $1 AND nonce = $2', [
    edge.edgeId,
    first.signedHeaders[signatureHeaders.nonce],
  ]);
  expect(nonces.rows[0].n).toBe(1);
});

test('an event of a tenant the edge does not serve is rejected tenant_not_authorized; the rest of the batch is accepted', async () => {
  const mine1 = reading(tenantA);
  const foreign = reading(tenantB);
  const mine2 = edgeEvent('feed.intake.recorded', tenantA);
  const res = await postSigned(server.base, edge, batchOf(edge, [mine1, foreign, mine2]));
  expect(res.status).toBe(200);
  expect(resultsOf(res)).toEqual([
    { status: 'accepted', event_id: mine1.event_id, tenant_id: tenantA },
    { status: 'rejected', event_id: foreign.event_id, tenant_id: tenantB, reason: 'tenant_not_authorized' },
    { status: 'accepted', event_id: mine2.event_id, tenant_id: tenantA },
  ]);
  expect(await stored([foreign.event_id])).toEqual({ dedupe: 0, outbox: 0 });
  expect(await stored([mine1.event_id, mine2.event_id])).toEqual({ dedupe: 2, outbox: 2 });
});

test('an edge that serves both tenants may send both', async () => {
  const both = await newEdge(pool, [tenantA, tenantB]);
  edges.push(both.edgeId);
  const res = await postSigned(server.base, both, batchOf(both, [reading(tenantA), reading(tenantB.toUpperCase())]));
  expect(res.status).toBe(200);
  expect(resultsOf(res).map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);
});
