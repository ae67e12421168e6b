/**
 * What the flock read models (growth, mortality, feed's FCR, the flock KPIs) are computed from: one
 * placed flock of a barn — the one asked for, else the barn's newest placement — with its daily
 * losses, its feed per farm-local day and its weighings, all from placement to the flock's last day
 * (today in the farm's time zone, or its depopulation day). The arithmetic is insights/kpis and
 * flocks/head-count.ts; this file only reads.
 *
 * A flock's weighings are as the insights take them (insights/aggregation.ts): finalized sessions
 * with a weight, in the barn during the flock's stay, naming this flock or no flock at all.
 */
import type { PoolClient } from 'pg';
import { effectiveDailyLosses, farmDayOf } from '../../flocks/head-count';
import type { DailyFeedKg, DailyLosses, Flock, Weighing } from '../../insights/kpis/flock';
import { flockFromRow } from '../../insights/aggregation';
import { FarmDataNotFound, localDaySql, type FarmContext } from './read-scope';

export interface FlockRecords {
  flock: Flock;
  barnId: string;
  /** Farm-local day of the placement and the flock's last day (today, or its depopulation day). */
  placedDay: string;
  lastDay: string;
  /** One figure per day, the operator's count over a device's (flocks/head-count.ts). */
  losses: DailyLosses[];
  feed: DailyFeedKg[];
  /** One per finalized session, oldest first. */
  weighings: Weighing[];
}

interface FlockRow {
  flock_id: string;
  species: string;
  breed: string;
  head_count_placed: number;
  age_at_placement_days: number;
  placement_weight_kg: number | null;
  placed_at: Date;
  depopulated_at: Date | null;
}

const flockSql = `
SELECT flock_id::text, species, breed, head_count_placed, age_at_placement_days, placement_weight_kg::float8 AS placement_weight_kg,
       placed_at, depopulated_at
FROM flocks
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND placed_at IS NOT NULL AND ($4::uuid IS NULL OR flock_id = $4::uuid)
ORDER BY placed_at DESC, flock_id
LIMIT 1`;

const countsSql = `
SELECT to_char(day, 'YYYY-MM-DD') AS day, source, dead, culled
FROM flock_daily_counts WHERE tenant_id = $1 AND flock_id = $2::uuid`;

const feedSql = `
SELECT ${localDaySql('dispensed_at', '$4')} AS day, sum(quantity_kg)::float8 AS kg
FROM feed_intake
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND dispensed_at >= $5 AND dispensed_at < $6
GROUP BY 1 ORDER BY 1`;

/** Finalized sessions with a weight in [$5, $6), by farm-local day in zone $4; `and` narrows them further. */
export const finalizedSessionsSql = (and: string) => `
SELECT session_id, station_id, ${localDaySql('finalized_at', '$4')} AS day, weight_kg::float8 AS weight_kg
FROM weighvision_sessions
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND finalized_at >= $5 AND finalized_at < $6
  AND status = 'finalized' AND weight_kg IS NOT NULL ${and}
ORDER BY finalized_at, session_id`;

const weighingsSql = finalizedSessionsSql('AND (batch_id IS NULL OR batch_id = $7::uuid)');

/** The rows of finalizedSessionsSql as weighings. */
export async function readWeighings(client: PoolClient, sql: string, params: unknown[]): Promise<Weighing[]> {
  const r = await client.query<{ session_id: string; station_id: string; day: string; weight_kg: number }>(sql, params);
  return r.rows.map((w) => ({ sessionId: w.session_id, stationId: w.station_id, day: w.day, weightKg: w.weight_kg }));
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The barn's flock `flockId` (not found unless it is this barn's), else its newest; null when the barn never had one. */
export async function readFlockRecords(
  client: PoolClient,
  farm: FarmContext,
  barnId: string,
  flockId: string | undefined,
  now: Date,
): Promise<FlockRecords | null> {
  if (flockId !== undefined && !uuidPattern.test(flockId)) throw new FarmDataNotFound(`flock ${flockId}`);
  const f = (await client.query<FlockRow>(flockSql, [farm.tenantId, farm.farmId, barnId, flockId ?? null])).rows[0];
  if (!f) {
    if (flockId !== undefined) throw new FarmDataNotFound(`flock ${flockId} of barn ${barnId}`);
    return null;
  }
  const tz = farm.timezone;
  const placedDay = farmDayOf(f.placed_at.toISOString(), tz);
  const today = farmDayOf(now.toISOString(), tz);
  const leftDay = f.depopulated_at ? farmDayOf(f.depopulated_at.toISOString(), tz) : null;
  let lastDay = leftDay !== null && leftDay < today ? leftDay : today;
  if (lastDay < placedDay) lastDay = placedDay; // a farm clock behind the placement: no negative stay
  // Nothing after the depopulation (nor in the future) is the flock's.
  const until = f.depopulated_at && f.depopulated_at < now ? f.depopulated_at : now;
  const place = [farm.tenantId, farm.farmId, barnId, tz, f.placed_at, until];
  const counts = await client.query<{ day: string; source: 'device' | 'operator'; dead: number; culled: number }>(countsSql, [farm.tenantId, f.flock_id]);
  const feed = await client.query<{ day: string; kg: number }>(feedSql, place);
  const weighings = await readWeighings(client, weighingsSql, [...place, f.flock_id]);
  return {
    flock: flockFromRow(f),
    barnId,
    placedDay,
    lastDay,
    losses: effectiveDailyLosses(counts.rows).map((l) => ({ day: l.day, deaths: l.dead, culls: l.culled })),
    feed: feed.rows.map((r) => ({ day: r.day, kg: r.kg })),
    weighings,
  };
}

/** The flock's daily mean weights (one point per weighing day; each session counts once). */
export function dailyMeanWeights(weighings: readonly Weighing[]): { day: string; sessions: number; meanKg: number }[] {
  const byDay = new Map<string, { n: number; sum: number }>();
  for (const w of weighings) {
    const d = byDay.get(w.day) ?? { n: 0, sum: 0 };
    d.n += 1;
    d.sum += w.weightKg;
    byDay.set(w.day, d);
  }
  return [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, d]) => ({ day, sessions: d.n, meanKg: d.sum / d.n }));
}
