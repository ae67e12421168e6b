/**
 * A barn's feed per farm-local day of a window, every day listed (a day without any dispense shows
 * as 0: a feeder outage is visible), with the feed per head: the day's kg over the day's
 * animal-days (flocks/head-count.ts — the share of the day the flock was in the barn times its
 * mean head count, the convention of insights/kpis/feed-per-animal-day.ts). The FCR is the barn's
 * newest flock's cumulative FCR as of its last weighing day (insights/kpis/fcr.ts via flock-kpis.ts).
 */
import type { PoolClient } from 'pg';
import { addDays, daysBetween } from '../../domain/calendar/days';
import { animalDaysByDay, effectiveDailyLosses, farmDayOf } from '../../flocks/head-count';
import { round } from '../../insights/kpis/stats';
import { kpisOfFlock } from './flock-kpis';
import { readFlockRecords } from './flock-records';
import { localDaySql, type FarmContext } from './read-scope';

export interface FeedDay {
  day: string;
  kg: number;
  /** kg per animal-day; null on a day without animals in the barn. */
  kgPerHead: number | null;
}

export interface FcrBasis {
  flockId: string | null;
  kind: 'cumulative';
  asOfDay: string | null;
  feedKg: number | null;
  mortalityAdjusted: number | null;
  placementWeightSource: 'recorded' | 'breed_standard' | null;
  missingReason: 'no_flock' | 'no_weighing' | 'no_placement_weight' | 'no_gain' | null;
}

export interface BarnFeed {
  days: FeedDay[];
  fcr: number | null;
  fcrBasis: FcrBasis;
}

const dailyFeedSql = `
SELECT ${localDaySql('dispensed_at', '$4')} AS day, sum(quantity_kg)::float8 AS kg
FROM feed_intake
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND dispensed_at >= $5 AND dispensed_at < $6
GROUP BY 1`;

const staysSql = `
SELECT f.flock_id::text, f.head_count_placed, f.placed_at, f.depopulated_at,
       coalesce((SELECT json_agg(json_build_object('day', to_char(c.day, 'YYYY-MM-DD'), 'source', c.source, 'dead', c.dead, 'culled', c.culled))
                 FROM flock_daily_counts c WHERE c.tenant_id = f.tenant_id AND c.flock_id = f.flock_id), '[]') AS counts
FROM flocks f
WHERE f.tenant_id = $1 AND f.farm_id = $2 AND f.barn_id = $3 AND f.placed_at IS NOT NULL
  AND f.placed_at < $5 AND (f.depopulated_at IS NULL OR f.depopulated_at > $4)`;

interface StayRow {
  flock_id: string;
  head_count_placed: number;
  placed_at: Date;
  depopulated_at: Date | null;
  counts: { day: string; source: 'device' | 'operator'; dead: number; culled: number }[];
}

export async function readFeed(client: PoolClient, farm: FarmContext, barnId: string, window: { from: Date; to: Date }, now: Date): Promise<BarnFeed> {
  const tz = farm.timezone;
  const fromDay = farmDayOf(window.from.toISOString(), tz);
  const toDay = farmDayOf(new Date(window.to.getTime() - 1).toISOString(), tz);
  const kg = await client.query<{ day: string; kg: number }>(dailyFeedSql, [farm.tenantId, farm.farmId, barnId, tz, window.from, window.to]);
  const kgByDay = new Map(kg.rows.map((r) => [r.day, r.kg]));
  const stays = await client.query<StayRow>(staysSql, [farm.tenantId, farm.farmId, barnId, window.from, window.to]);
  const animalDays = new Map<string, number>();
  for (const s of stays.rows) {
    const stay = { placedAt: s.placed_at.toISOString(), headPlaced: s.head_count_placed, depopulatedAt: s.depopulated_at?.toISOString() ?? null };
    for (const d of animalDaysByDay(stay, effectiveDailyLosses(s.counts), tz, fromDay, toDay)) {
      animalDays.set(d.day, (animalDays.get(d.day) ?? 0) + d.animalDays);
    }
  }
  const days: FeedDay[] = [];
  for (let i = 0, n = daysBetween(fromDay, toDay); i <= n; i++) {
    const day = addDays(fromDay, i);
    const dayKg = kgByDay.get(day) ?? 0;
    const ad = animalDays.get(day) ?? 0;
    days.push({ day, kg: round(dayKg, 3), kgPerHead: ad > 0 ? round(dayKg / ad, 4) : null });
  }

  const records = await readFlockRecords(client, farm, barnId, undefined, now);
  if (!records) {
    return {
      days,
      fcr: null,
      fcrBasis: {
        flockId: null,
        kind: 'cumulative',
        asOfDay: null,
        feedKg: null,
        mortalityAdjusted: null,
        placementWeightSource: null,
        missingReason: 'no_flock',
      },
    };
  }
  const k = kpisOfFlock(farm, records);
  return {
    days,
    fcr: k.fcr?.cumulative ?? null,
    fcrBasis: {
      flockId: records.flock.flockId,
      kind: 'cumulative',
      asOfDay: k.fcr?.asOfDay ?? null,
      feedKg: k.fcr?.feedKg ?? null,
      mortalityAdjusted: k.fcr?.mortalityAdjusted ?? null,
      placementWeightSource: k.fcr?.placementWeightSource ?? null,
      missingReason: k.fcrMissingReason ?? (k.fcr && k.fcr.cumulative === null ? 'no_gain' : null),
    },
  };
}
