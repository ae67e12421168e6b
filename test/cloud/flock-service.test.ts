/**
 * cloud-flock-service against the real servers: the three flock events through signed ingestion,
 * the relay and RabbitMQ (its own test exchange and queue) into the cloud flock tables, in any
 * order and published twice; and its writers alone, given the same events again and a day counted
 * twice in one batch.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { inTransaction } from '../../db/transaction';
import { CloudConsumers } from '../../cloud/consumers/cloud-consumers';
import { flockService } from '../../cloud/consumers/flock-service';
import { OutboxRelay } from '../../cloud/ingestion/outbox-relay';
import { consumerMetrics } from '../../cloud/metrics';
import { AmqpConnection } from '../../messaging/connection';
import { topologyNames } from '../../messaging/topology';
import { testCloudDatabaseUrl } from '../support/stack';
import { deleteTestTopology, testAmqpUrl, testTopologyPrefix } from '../support/amqp';
import { until } from '../support/until';
import { batchOf, cleanupTenants, edgeEvent, newEdge, postSigned, resultsOf, silentLog, startIngestionServer, type TestEdge, type TestServer } from './support';

const names = topologyNames(testTopologyPrefix('flocks'));
const tenant = randomUUID();

let pool: Pool;
let relayConnection: AmqpConnection;
let consumerConnection: AmqpConnection;
let relay: OutboxRelay;
let consumers: CloudConsumers;
let server: TestServer;
let edge: TestEdge;

const flockRows = (flockId: string) =>
  pool
    .query(
      `SELECT farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days, placement_weight_kg::float8, placed_at,
              depopulated_at
         FROM flocks WHERE tenant_id = $1 AND flock_id = $2`,
      [tenant, flockId],
    )
    .then((r) => r.rows);
const dayRows = (flockId: string) =>
  pool
    .query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, source, dead, culled FROM flock_daily_counts WHERE tenant_id = $1 AND flock_id = $2 ORDER BY day, source`,
      [tenant, flockId],
    )
    .then((r) => r.rows);

async function duplicatesAbsorbed(): Promise<number> {
  const m = await consumerMetrics.messages.get();
  return m.values.filter((v) => v.labels.outcome === 'duplicate').reduce((n, v) => n + v.value, 0);
}

beforeAll(async () => {
  pool = createPool(testCloudDatabaseUrl, { applicationName: 'farmiq-test-flocks', max: 10 });
  relayConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-flock-relay', log: silentLog, maxBackoffMs: 1000 });
  consumerConnection = new AmqpConnection({ url: testAmqpUrl, name: 'test-flock-consumers', log: silentLog, maxBackoffMs: 1000 });
  relay = new OutboxRelay({
    pool,
    connection: relayConnection,
    names,
    deliveryLimit: 3,
    log: silentLog,
    batchSize: 500,
    sweepIntervalMs: 250,
    retentionHours: 24,
  });
  consumers = new CloudConsumers({
    pool,
    connection: consumerConnection,
    names,
    deliveryLimit: 3,
    log: silentLog,
    prefetch: 50,
    batchMax: 50,
    services: [flockService],
  });
  relay.start();
  consumers.start();
  await until('the flock consumer subscribed', 30_000, async () => Object.values(consumers.status()).every(Boolean));
  server = await startIngestionServer({ pool, relay });
  edge = await newEdge(pool, [tenant]);
});

afterAll(async () => {
  await server?.close();
  await consumers?.stop();
  await relay?.stop();
  await relayConnection?.stop();
  await consumerConnection?.stop();
  await deleteTestTopology(names).catch(() => {});
  if (pool) {
    await pool.query('DELETE FROM flock_daily_counts WHERE tenant_id = $1', [tenant]);
    await pool.query('DELETE FROM flocks WHERE tenant_id = $1', [tenant]);
    await cleanupTenants(pool, [tenant], edge ? [edge.edgeId] : []);
    await pool.end();
  }
});

/** flock.placed as an edge sent it before placement_weight_kg existed: the field absent. */
function withoutPlacementWeight(e: ReturnType<typeof edgeEvent<'flock.placed'>>): ReturnType<typeof edgeEvent<'flock.placed'>> {
  const { placement_weight_kg: _dropped, ...payload } = e.payload;
  return { ...e, payload };
}

test('depopulation and counts that arrive before the placement, and everything published twice, end as one flock', async () => {
  const flockId = randomUUID();
  const placed = withoutPlacementWeight(
    edgeEvent('flock.placed', tenant, {
      ts: '2026-03-01T06:00:01Z',
      payload: { flock_id: flockId, placed_at: '2026-03-01T06:00:00Z', head_count: 20000 },
    }),
  );
  const day1 = edgeEvent('flock.mortality.recorded', tenant, {
    ts: '2026-03-01T22:00:00Z',
    payload: { flock_id: flockId, day: '2026-03-01', dead: 30, culled: 0, source: 'device' },
  });
  const day2 = edgeEvent('flock.mortality.recorded', tenant, {
    ts: '2026-03-02T22:00:00Z',
    payload: { flock_id: flockId, day: '2026-03-02', dead: 25, culled: 5, source: 'operator' },
  });
  const gone = edgeEvent('flock.depopulated', tenant, { ts: '2026-04-05T06:00:01Z', payload: { flock_id: flockId, depopulated_at: '2026-04-05T06:00:00Z' } });
  const all = [gone, day2, day1, placed];

  for (const batch of [[gone], [day2, day1], [placed]]) {
    const res = await postSigned(server.base, edge, batchOf(edge, batch));
    expect(resultsOf(res).map((r) => r.status)).toEqual(batch.map(() => 'accepted'));
  }
  const dedupe = () => pool.query('SELECT count(*)::int AS n FROM consumer_dedupe WHERE tenant_id = $1', [tenant]).then((r) => r.rows[0].n as number);
  await until('all four consumed', 30_000, async () => (await dedupe()) === 4 || undefined);

  const expected = {
    flock: [
      {
        farm_id: 'farm-1',
        barn_id: 'barn-1',
        species: 'broiler',
        breed: 'ross-308',
        sex: 'mixed',
        head_count_placed: 20000,
        age_at_placement_days: 0,
        // An edge's flock.placed from before placement_weight_kg existed: consumed, NULL.
        placement_weight_kg: null,
        placed_at: new Date('2026-03-01T06:00:00Z'),
        depopulated_at: new Date('2026-04-05T06:00:00Z'),
      },
    ],
    days: [
      { day: '2026-03-01', source: 'device', dead: 30, culled: 0 },
      { day: '2026-03-02', source: 'operator', dead: 25, culled: 5 },
    ],
  };
  expect({ flock: await flockRows(flockId), days: await dayRows(flockId) }).toEqual(expected);

  // The relay publishes all four again: the consumer's dedupe absorbs them, nothing changes.
  const before = await duplicatesAbsorbed();
  await pool.query('UPDATE ingestion_outbox SET published_at = NULL WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])', [tenant, all.map((e) => e.event_id)]);
  await until('the four republished messages absorbed as duplicates', 30_000, async () => (await duplicatesAbsorbed()) - before >= 4 || undefined);
  expect({ flock: await flockRows(flockId), days: await dayRows(flockId) }).toEqual(expected);
});

test('the writers alone: the same events again change nothing, and per day and source the newest count wins in any order', async () => {
  const flockId = randomUUID();
  const placed = edgeEvent('flock.placed', tenant, { payload: { flock_id: flockId, head_count: 18000, breed: 'cobb-500' } });
  // A second placement event of the same flock (an edge re-recording it) must not overwrite the first.
  const placedAgain = edgeEvent('flock.placed', tenant, { ts: '2026-05-01T00:00:00Z', payload: { flock_id: flockId, head_count: 1, breed: 'ross-308' } });
  const early = edgeEvent('flock.mortality.recorded', tenant, {
    ts: '2026-03-02T12:00:00Z',
    payload: { flock_id: flockId, day: '2026-03-02', dead: 10, culled: 0, source: 'device' },
  });
  const late = edgeEvent('flock.mortality.recorded', tenant, {
    ts: '2026-03-02T23:00:00Z',
    payload: { flock_id: flockId, day: '2026-03-02', dead: 14, culled: 1, source: 'device' },
  });
  const ctx = { log: silentLog };
  await inTransaction(pool, async (c) => {
    await flockService.writers['flock.placed']!(c, [placed], ctx);
    await flockService.writers['flock.mortality.recorded']!(c, [late, early], ctx); // both in one statement, newest listed first
  });
  await inTransaction(pool, async (c) => {
    await flockService.writers['flock.placed']!(c, [placedAgain, placed], ctx);
    await flockService.writers['flock.mortality.recorded']!(c, [early], ctx); // an older record arriving late
    await flockService.writers['flock.mortality.recorded']!(c, [late], ctx); // the same again
  });
  const flock = await flockRows(flockId);
  expect(flock.map((f) => [f.head_count_placed, f.breed])).toEqual([[18000, 'cobb-500']]);
  expect(await dayRows(flockId)).toEqual([{ day: '2026-03-02', source: 'device', dead: 14, culled: 1 }]);
});

test('the placement weight reaches the cloud flock; an implausible one is rejected at ingestion and the rest of the batch goes on', async () => {
  const weighed = randomUUID();
  const oldStyle = randomUUID();
  // 20,000 Ross 308 chicks weighed at 41 g on arrival; beside it an edge that sends no weight.
  const placed = edgeEvent('flock.placed', tenant, { payload: { flock_id: weighed, placement_weight_kg: 0.041 } });
  const noWeight = withoutPlacementWeight(edgeEvent('flock.placed', tenant, { payload: { flock_id: oldStyle } }));
  // 41 typed for 41 g: no broiler weighs 41 kg (the contract allows 0.02–6 kg for broilers).
  const grams = edgeEvent('flock.placed', tenant, { payload: { flock_id: randomUUID(), placement_weight_kg: 41 } });
  const res = await postSigned(server.base, edge, batchOf(edge, [placed, grams, noWeight]));
  expect(resultsOf(res).map((r) => [r.status, r.reason])).toEqual([
    ['accepted', undefined],
    ['rejected', 'schema_violation:payload.placement_weight_kg'],
    ['accepted', undefined],
  ]);
  await until(
    'both placements consumed',
    30_000,
    async () => ((await flockRows(weighed)).length === 1 && (await flockRows(oldStyle)).length === 1) || undefined,
  );
  expect((await flockRows(weighed))[0].placement_weight_kg).toBe(0.041);
  expect((await flockRows(oldStyle))[0].placement_weight_kg).toBeNull();
});
