/**
 * What ingestion does with a batch: one outcome per event in request order, dedupe and outbox rows
 * that always correspond 1:1, a clear 4xx for every malformed request (never a 500), and 503 when
 * the database is away (the edge then backs off without spending attempts).
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { eventCatalog, type EventType } from '../../domain/contracts';
import { maxBatchBodyBytes, maxEventsPerBatch, edgeBatchResponse } from '../../domain/sync';
import { testCloudDatabaseUrl } from '../support/stack';
import { validEvent } from '../support/events';
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
const tenant = randomUUID();
let edge: TestEdge;
const nudges = { count: 0 };

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-ingestion' });
  server = await startIngestionServer({ pool, relay: { nudge: () => nudges.count++ } });
  edge = await newEdge(pool, [tenant]);
});

afterAll(async () => {
  await server?.close();
  await cleanupTenants(pool, [tenant], [edge.edgeId]);
  await pool.end();
});

/** Dedupe rows without an outbox row and the reverse, for this test's tenant. */
async function unmatched(): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n
     FROM ingestion_dedupe d FULL JOIN ingestion_outbox o ON o.tenant_id = d.tenant_id AND o.event_id = d.event_id
     WHERE coalesce(d.tenant_id, o.tenant_id) = $1 AND (d.event_id IS NULL OR o.event_id IS NULL)`,
    [tenant],
  );
  return rows[0].n;
}

describe('a mixed batch', () => {
  test('gets exactly one outcome per event, in order, and a dedupe row only with its outbox row', async () => {
    const earlier = edgeEvent('telemetry.reading', tenant);
    const first = await postSigned(server.base, edge, batchOf(edge, [earlier]));
    expect(first.status).toBe(200);
    const nudgesBefore = nudges.count;

    const fresh = edgeEvent('weighvision.weight.recorded', tenant, { session_id: 'session-mixed' });
    const badValue = edgeEvent('telemetry.reading', tenant, { payload: { value: 'hot' as unknown as number } });
    const feed = edgeEvent('feed.intake.recorded', tenant);
    const deviceOnly = validEvent('feed.dispensed', { tenant_id: tenant });
    const { farm_id: _f, ...unplaced } = edgeEvent('telemetry.reading', tenant);
    const { session_id: _s, ...sessionless } = edgeEvent('weighvision.session.finalized', tenant);
    const unknownType = { ...edgeEvent('telemetry.reading', tenant), event_type: 'telemetry.deleted' };
    const events = [fresh, badValue, earlier, fresh, feed, deviceOnly, unplaced, sessionless, null, 'text', unknownType];

    const res = await postSigned(server.base, edge, batchOf(edge, events), { requestId: 'req-mixed-1' });
    expect(res.status).toBe(200);
    expect(edgeBatchResponse.parse(res.body)).toEqual(res.body);
    expect(res.headers.get('x-request-id')).toBe('req-mixed-1');
    expect(resultsOf(res)).toEqual([
      { status: 'accepted', event_id: fresh.event_id, tenant_id: tenant },
      { status: 'rejected', event_id: badValue.event_id, tenant_id: tenant, reason: 'schema_violation:payload.value' },
      { status: 'duplicate', event_id: earlier.event_id, tenant_id: tenant },
      { status: 'duplicate', event_id: fresh.event_id, tenant_id: tenant },
      { status: 'accepted', event_id: feed.event_id, tenant_id: tenant },
      { status: 'rejected', event_id: deviceOnly.event_id, tenant_id: tenant, reason: 'not_syncable' },
      { status: 'rejected', event_id: unplaced.event_id, tenant_id: tenant, reason: 'schema_violation:farm_id' },
      { status: 'rejected', event_id: sessionless.event_id, tenant_id: tenant, reason: 'schema_violation:session_id' },
      { status: 'rejected', reason: 'schema_violation:$' },
      { status: 'rejected', reason: 'schema_violation:$' },
      { status: 'rejected', event_id: unknownType.event_id, tenant_id: tenant, reason: 'schema_violation:event_type' },
    ]);
    expect(nudges.count).toBe(nudgesBefore + 1);

    expect(await unmatched()).toBe(0);
    const outbox = await pool.query(
      `SELECT event_id::text, routing_key, trace_id, request_id, edge_id, envelope, published_at FROM ingestion_outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id`,
      [[fresh.event_id, feed.event_id]],
    );
    expect(outbox.rows).toEqual([
      {
        event_id: fresh.event_id,
        routing_key: 'weighvision.weight.recorded',
        trace_id: fresh.trace_id,
        request_id: 'req-mixed-1',
        edge_id: edge.edgeId,
        envelope: fresh,
        published_at: null,
      },
      expect.objectContaining({ event_id: feed.event_id, routing_key: 'feed.intake.recorded', trace_id: feed.trace_id, request_id: 'req-mixed-1' }),
    ]);
    const dedupe = await pool.query(`SELECT event_type, edge_id FROM ingestion_dedupe WHERE tenant_id = $1 AND event_id = $2`, [tenant, fresh.event_id]);
    expect(dedupe.rows).toEqual([{ event_type: 'weighvision.weight.recorded', edge_id: edge.edgeId }]);
  });

  test('a batch that is all duplicates stores nothing new and does not nudge the relay', async () => {
    const e = edgeEvent('telemetry.reading', tenant);
    expect(resultsOf(await postSigned(server.base, edge, batchOf(edge, [e])))[0].status).toBe('accepted');
    const before = nudges.count;
    const again = await postSigned(server.base, edge, batchOf(edge, [e, e]));
    expect(resultsOf(again).map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(nudges.count).toBe(before);
    expect(await unmatched()).toBe(0);
  });

  test('every syncable event type is accepted with the routing key of spec §8', async () => {
    const types = Object.keys(eventCatalog).filter((t) => t !== 'feed.dispensed') as EventType[];
    const events = types.map((t) => edgeEvent(t, tenant));
    const res = await postSigned(server.base, edge, batchOf(edge, events));
    expect(resultsOf(res).map((r: { status: string }) => r.status)).toEqual(types.map(() => 'accepted'));
    const { rows } = await pool.query(`SELECT envelope->>'event_type' AS type, routing_key FROM ingestion_outbox WHERE event_id = ANY($1::uuid[])`, [
      events.map((e) => e.event_id),
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.type, r.routing_key]))).toEqual(Object.fromEntries(types.map((t) => [t, eventCatalog[t].routingKey])));
  });

  test('upper-case ids are the same event as lower-case ones', async () => {
    const e = edgeEvent('telemetry.reading', tenant);
    const upper = { ...e, event_id: e.event_id.toUpperCase(), tenant_id: e.tenant_id.toUpperCase() };
    const res = await postSigned(server.base, edge, batchOf(edge, [e, upper]));
    expect(resultsOf(res).map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
  });
});

describe('malformed requests get a 4xx with a code, never a 500', () => {
  async function expectError(status: number, code: string | RegExp, body: unknown, opts: Parameters<typeof postSigned>[3] = {}) {
    const res = await postSigned(server.base, edge, body, opts);
    expect({ status: res.status, code: errorOf(res)?.code }).toEqual({ status, code: expect.stringMatching(code) });
    expect(typeof errorOf(res).message).toBe('string');
  }

  test('not JSON: invalid_json', async () => {
    await expectError(400, /^invalid_json$/, '{"batch_id": "b", "edge_id": ');
    await expectError(400, /^invalid_json$/, '');
    await expectError(400, /^invalid_json$/, Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'));
  });

  test('wrong shapes: schema_violation:<path>', async () => {
    await expectError(400, /^schema_violation:\$$/, []);
    await expectError(400, /^schema_violation:\$$/, null);
    await expectError(400, /^schema_violation:\$$/, '"a string"');
    await expectError(400, /^schema_violation:batch_id$/, { edge_id: edge.edgeId, events: [{}] });
    await expectError(400, /^schema_violation:edge_id$/, { batch_id: 'b', events: [{}] });
    await expectError(400, /^schema_violation:events$/, { batch_id: 'b', edge_id: edge.edgeId, events: [] });
    await expectError(400, /^schema_violation:events$/, { batch_id: 'b', edge_id: edge.edgeId, events: 'x' });
    await expectError(400, /^schema_violation:events$/, { batch_id: 'b', edge_id: edge.edgeId, events: { 0: {} } });
    await expectError(400, /^schema_violation:batch_id$/, { batch_id: 7, edge_id: edge.edgeId, events: [{}] });
  });

  test(`more than ${maxEventsPerBatch} events: schema_violation:events`, async () => {
    const events = Array.from({ length: maxEventsPerBatch + 1 }, () => ({}));
    await expectError(400, /^schema_violation:events$/, batchOf(edge, events));
  });

  test("another edge's id in the body: edge_mismatch", async () => {
    await expectError(400, /^edge_mismatch$/, { ...batchOf(edge, [edgeEvent('telemetry.reading', tenant)]), edge_id: 'someone-else' });
  });

  test(`a body over ${maxBatchBodyBytes} bytes: 413 payload_too_large`, async () => {
    const big = Buffer.alloc(maxBatchBodyBytes + 1, 0x20);
    const res = await send(server.base, '/api/v1/edge/batch', {}, big);
    expect(res.status).toBe(413);
    expect(errorOf(res).code).toBe('payload_too_large');
  });

  test('odd events never fail the batch', async () => {
    const odd = [
      {},
      [],
      0,
      true,
      { event_type: 'telemetry.reading' },
      { ...edgeEvent('telemetry.reading', tenant), payload: null },
      { ...edgeEvent('telemetry.reading', tenant), ts: '2025-13-45T99:00:00Z' },
      { ...edgeEvent('telemetry.reading', tenant), event_id: 'not-a-uuid' },
      { ...edgeEvent('telemetry.reading', tenant), tenant_id: { $gt: '' } },
      { ...edgeEvent('telemetry.reading', tenant), payload: { metric: 'a/b', value: 1, unit: 'C' } },
      { ...edgeEvent('weighvision.session.created', tenant), session_id: 'a/b' },
      JSON.parse('{"a":'.repeat(50) + '1' + '}'.repeat(50)),
      'x'.repeat(100_000),
    ];
    const res = await postSigned(server.base, edge, batchOf(edge, odd));
    expect(res.status).toBe(200);
    expect(resultsOf(res)).toHaveLength(odd.length);
    for (const r of resultsOf(res)) expect(r).toEqual(expect.objectContaining({ status: 'rejected', reason: expect.stringMatching(/^schema_violation:/) }));
    expect(resultsOf(res)[10].reason).toBe('schema_violation:session_id');
  });
});

test('unknown fields, "__proto__" included, are dropped: the outbox holds the validated envelope', async () => {
  const e = edgeEvent('telemetry.reading', tenant);
  const raw = JSON.stringify(batchOf(edge, [e])).replace('"schema_version"', '"__proto__":{"admin":true},"extra":1,"schema_version"');
  const res = await postSigned(server.base, edge, raw);
  expect(resultsOf(res)[0].status).toBe('accepted');
  const { rows } = await pool.query('SELECT envelope FROM ingestion_outbox WHERE tenant_id = $1 AND event_id = $2', [tenant, e.event_id]);
  expect(rows[0].envelope).toEqual(e);
});

test('503 unavailable when the database cannot be reached', async () => {
  const deadPool = createPool('postgres://farmiq:farmiq@127.0.0.1:1/farmiq_cloud_test', { connectionTimeoutMillis: 2000 });
  const deadServer = await startIngestionServer({ pool: deadPool });
  try {
    const res = await postSigned(deadServer.base, edge, batchOf(edge, [edgeEvent('telemetry.reading', tenant)]));
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('unavailable');
    expect(res.headers.get('retry-after')).toBe('5');
  } finally {
    await deadServer.close();
    await deadPool.end();
  }
});

test('throughput: full batches of 1000 readings are accepted well above the sync target', async () => {
  const batches = 5;
  const started = Date.now();
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: maxEventsPerBatch }, (_, i) => edgeEvent('telemetry.reading', tenant, { payload: { value: i } }));
    const res = await postSigned(server.base, edge, batchOf(edge, events));
    expect(res.status).toBe(200);
    expect(resultsOf(res).every((r: { status: string }) => r.status === 'accepted')).toBe(true);
  }
  const perSecond = (batches * maxEventsPerBatch) / ((Date.now() - started) / 1000);
  console.log(`ingestion accepted ${Math.round(perSecond)} events/s (${batches} signed batches of ${maxEventsPerBatch})`);
  expect(perSecond).toBeGreaterThan(2000); // a floor for a noisy 2-core machine; the target is ≥ 5,000/s end to end
  expect(await unmatched()).toBe(0);
});
