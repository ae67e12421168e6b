/**
 * Hostile events in an edge batch (issue: "the same NUL in an edge batch makes the cloud answer
 * 500 for the whole batch"): each one is rejected on its own with a stable reason, the rest of
 * the batch is accepted — also when the database refuses an event that validation let through.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { testCloudDatabaseUrl } from '../support/stack';
import { batchOf, cleanupTenants, edgeEvent, errorOf, newEdge, postSigned, resultsOf, startIngestionServer, type TestEdge, type TestServer } from './support';

let pool: Pool;
let server: TestServer;
const tenant = randomUUID();
let edge: TestEdge;

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-ingestion-hostile' });
  server = await startIngestionServer({ pool });
  edge = await newEdge(pool, [tenant]);
});

afterAll(async () => {
  await server?.close();
  await cleanupTenants(pool, [tenant], [edge.edgeId]);
  await pool.end();
});

async function outboxCount(): Promise<number> {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM ingestion_outbox WHERE tenant_id = $1', [tenant]);
  return rows[0].n;
}

test('NUL, lone surrogates, year 0 and overflowing numbers are rejected event by event; the valid events are accepted', async () => {
  const good = () => edgeEvent('telemetry.reading', tenant);
  const hostile = [
    { ...good(), trace_id: 'a\u0000b' },
    { ...good(), payload: { metric: 'temperature', value: 1, unit: '\ud800' } },
    { ...good(), ts: '0000-01-01T00:00:00Z' },
    { ...good(), payload: { metric: 'temperature', value: 1.7e308, unit: 'C' } },
    { ...edgeEvent('feed.intake.recorded', tenant), payload: { ...edgeEvent('feed.intake.recorded', tenant).payload, animal_count: 2 ** 31 } },
    { ...edgeEvent('telemetry.aggregated', tenant), payload: { ...edgeEvent('telemetry.aggregated', tenant).payload, revision: 2 ** 31 } },
  ];
  const valid = [good(), good(), good()];
  const events = [valid[0], ...hostile.slice(0, 3), valid[1], ...hostile.slice(3), valid[2]];
  const before = await outboxCount();

  const res = await postSigned(server.base, edge, batchOf(edge, events));

  expect(res.status).toBe(200);
  expect(resultsOf(res).map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual([
    'accepted',
    'schema_violation:trace_id',
    'schema_violation:payload.unit',
    'schema_violation:ts',
    'accepted',
    'schema_violation:payload.value',
    'schema_violation:payload.animal_count',
    'schema_violation:payload.revision',
    'accepted',
  ]);
  expect(await outboxCount()).toBe(before + 3);
});

test('a NUL in batch_id refuses the request with 400, not 500', async () => {
  const res = await postSigned(server.base, edge, { ...batchOf(edge, [edgeEvent('telemetry.reading', tenant)]), batch_id: 'b\u0000' });
  expect(res.status).toBe(400);
  expect(errorOf(res).code).toBe('schema_violation:batch_id');
});

test('an event the database refuses is narrowed out: rejected as storage_refused, the other events of the batch accepted', async () => {
  const poisonTrace = `poison-${randomUUID()}`;
  const constraint = `hostile_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await pool.query(`ALTER TABLE ingestion_outbox ADD CONSTRAINT ${constraint} CHECK (trace_id <> '${poisonTrace}') NOT VALID`);
  try {
    const events = Array.from({ length: 40 }, () => edgeEvent('telemetry.reading', tenant));
    events[7] = edgeEvent('telemetry.reading', tenant, { trace_id: poisonTrace });
    events[31] = edgeEvent('telemetry.reading', tenant, { trace_id: poisonTrace });
    const before = await outboxCount();

    const res = await postSigned(server.base, edge, batchOf(edge, events));

    expect(res.status).toBe(200);
    const outcomes = resultsOf(res).map((r: { status: string; reason?: string }) => r.reason ?? r.status);
    expect(outcomes.filter((o: string) => o === 'accepted')).toHaveLength(38);
    expect([outcomes[7], outcomes[31]]).toEqual(['storage_refused:23514', 'storage_refused:23514']);
    expect(await outboxCount()).toBe(before + 38);
    // The refused events left no dedupe row behind: the edge may send them again once fixed.
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ingestion_dedupe WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])', [
      tenant,
      [events[7].event_id, events[31].event_id],
    ]);
    expect(rows[0].n).toBe(0);
  } finally {
    await pool.query(`ALTER TABLE ingestion_outbox DROP CONSTRAINT ${constraint}`);
  }
});
