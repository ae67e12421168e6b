/**
 * cloud-flock-service: the cloud copy of the flocks (docs/flocks.md) from flock.placed (with its
 * optional placement_weight_kg, NULL when an edge sends none),
 * flock.mortality.recorded and flock.depopulated. Idempotent and order-free: the first placement
 * of a flock stands; a depopulation that comes before its placement makes the row the placement
 * later fills in; per (flock, day, source) the newest count wins (recorded_at, then event_id),
 * so a redelivery or an older record arriving late changes nothing.
 */
import type { PoolClient } from 'pg';
import type { CloudEventOf } from '../cloud-event';
import type { ConsumerService } from './event-consumer';

const placedSql = `
INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days,
                    placed_at, placed_event_id, placement_weight_kg)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[],
                     $10::timestamptz[], $11::uuid[], $12::numeric[])
ON CONFLICT (tenant_id, flock_id) DO UPDATE
   SET farm_id = excluded.farm_id, barn_id = excluded.barn_id, species = excluded.species, breed = excluded.breed,
       sex = excluded.sex, head_count_placed = excluded.head_count_placed,
       age_at_placement_days = excluded.age_at_placement_days, placement_weight_kg = excluded.placement_weight_kg,
       placed_at = excluded.placed_at,
       placed_event_id = excluded.placed_event_id, updated_at = now()
 WHERE flocks.placed_event_id IS NULL`;

const depopulatedSql = `
INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, depopulated_at, depopulated_event_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[])
ON CONFLICT (tenant_id, flock_id) DO UPDATE
   SET depopulated_at = excluded.depopulated_at, depopulated_event_id = excluded.depopulated_event_id, updated_at = now()
 WHERE flocks.depopulated_event_id IS NULL`;

const countsSql = `
INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, farm_id, barn_id, dead, culled, reason, event_id, device_id,
                                recorded_at, trace_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::text[],
                     $10::uuid[], $11::text[], $12::timestamptz[], $13::text[])
ON CONFLICT (tenant_id, flock_id, day, source) DO UPDATE
   SET farm_id = excluded.farm_id, barn_id = excluded.barn_id, dead = excluded.dead, culled = excluded.culled,
       reason = excluded.reason, event_id = excluded.event_id, device_id = excluded.device_id,
       recorded_at = excluded.recorded_at, trace_id = excluded.trace_id, received_at = now()
 WHERE (excluded.recorded_at, excluded.event_id) > (flock_daily_counts.recorded_at, flock_daily_counts.event_id)`;

/**
 * One event per key, in key order: a statement may not update a row twice, and concurrent
 * batches lock rows in the same order. `keep(a, b)`: whether a replaces b.
 */
function onePerKey<E>(events: readonly E[], key: (e: E) => string, keep: (a: E, b: E) => boolean): E[] {
  const byKey = new Map<string, E>();
  for (const e of events) {
    const k = key(e);
    const held = byKey.get(k);
    if (held === undefined || keep(e, held)) byKey.set(k, e);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

const flockKey = (e: { tenant_id: string; payload: { flock_id: string } }) => `${e.tenant_id.toLowerCase()}/${e.payload.flock_id.toLowerCase()}`;
const earlier = (a: { ts: string; event_id: string }, b: { ts: string; event_id: string }) =>
  Date.parse(a.ts) < Date.parse(b.ts) || (Date.parse(a.ts) === Date.parse(b.ts) && a.event_id < b.event_id);

type Mortality = CloudEventOf<'flock.mortality.recorded'>;

async function writeCounts(client: PoolClient, events: Mortality[]): Promise<void> {
  for (const e of events) {
    if (!e.farm_id || !e.barn_id) throw new Error(`flock.mortality.recorded ${e.event_id} lacks farm_id or barn_id`);
  }
  const source = (e: Mortality) => e.payload.source ?? 'device';
  const rows = onePerKey(
    events,
    (e) => `${flockKey(e)}/${e.payload.day}/${source(e)}`,
    (a, b) => earlier(b, a),
  );
  await client.query(countsSql, [
    rows.map((e) => e.tenant_id),
    rows.map((e) => e.payload.flock_id),
    rows.map((e) => e.payload.day),
    rows.map(source),
    rows.map((e) => e.farm_id),
    rows.map((e) => e.barn_id),
    rows.map((e) => e.payload.dead),
    rows.map((e) => e.payload.culled),
    rows.map((e) => e.payload.reason ?? null),
    rows.map((e) => e.event_id),
    rows.map((e) => e.device_id),
    rows.map((e) => e.ts),
    rows.map((e) => e.trace_id),
  ]);
}

export const flockService: ConsumerService = {
  name: 'cloud-flock-service',
  writers: {
    async 'flock.placed'(client, events) {
      const rows = onePerKey(events, flockKey, earlier);
      await client.query(placedSql, [
        rows.map((e) => e.tenant_id),
        rows.map((e) => e.payload.flock_id),
        rows.map((e) => e.payload.farm_id),
        rows.map((e) => e.payload.barn_id),
        rows.map((e) => e.payload.species),
        rows.map((e) => e.payload.breed),
        rows.map((e) => e.payload.sex ?? null),
        rows.map((e) => e.payload.head_count),
        rows.map((e) => e.payload.age_at_placement_days),
        rows.map((e) => e.payload.placed_at),
        rows.map((e) => e.event_id),
        // Optional in the event (edges before it send none): NULL, and the KPIs use the breed standard.
        rows.map((e) => e.payload.placement_weight_kg ?? null),
      ]);
    },

    async 'flock.mortality.recorded'(client, events) {
      await writeCounts(client, events);
    },

    async 'flock.depopulated'(client, events) {
      const rows = onePerKey(events, flockKey, earlier);
      await client.query(depopulatedSql, [
        rows.map((e) => e.tenant_id),
        rows.map((e) => e.payload.flock_id),
        rows.map((e) => e.payload.farm_id),
        rows.map((e) => e.payload.barn_id),
        rows.map((e) => e.payload.depopulated_at),
        rows.map((e) => e.event_id),
      ]);
    },
  },
};
