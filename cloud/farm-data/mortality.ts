/**
 * A flock's losses day by day from placement to its last day, with the cumulative depletion
 * (deaths and culls over head placed, insights/kpis/mortality.ts: the daily percentages add up to
 * the cumulative one), the head count (flocks/head-count.ts) and the livability.
 */
import type { PoolClient } from 'pg';
import { addDays, daysBetween } from '../../domain/calendar/days';
import { headCountOn } from '../../flocks/head-count';
import { mortality as flockMortality } from '../../insights/kpis/mortality';
import { round } from '../../insights/kpis/stats';
import { readFlockRecords } from './flock-records';
import type { FarmContext } from './read-scope';

export interface MortalityDay {
  day: string;
  dead: number;
  culled: number;
  /** (dead + culled) from placement to this day over head placed, %. */
  cumulativePct: number;
}

export interface FlockMortality {
  flockId: string | null;
  days: MortalityDay[];
  headCount: number | null;
  livabilityPct: number | null;
}

export async function readMortality(client: PoolClient, farm: FarmContext, barnId: string, flockId: string | undefined, now: Date): Promise<FlockMortality> {
  const records = await readFlockRecords(client, farm, barnId, flockId, now);
  if (!records) return { flockId: null, days: [], headCount: null, livabilityPct: null };
  const { flock, placedDay, lastDay } = records;
  const byDay = new Map(records.losses.map((l) => [l.day, l]));
  const days: MortalityDay[] = [];
  let lost = 0;
  for (let i = 0, n = daysBetween(placedDay, lastDay); i <= n; i++) {
    const day = addDays(placedDay, i);
    const l = byDay.get(day);
    lost += (l?.deaths ?? 0) + (l?.culls ?? 0);
    days.push({ day, dead: l?.deaths ?? 0, culled: l?.culls ?? 0, cumulativePct: round((lost / flock.headPlaced) * 100, 3) });
  }
  const stay = { placedAt: flock.placedAt, headPlaced: flock.headPlaced, depopulatedAt: flock.depopulatedAt };
  const dayLosses = records.losses.map((l) => ({ day: l.day, dead: l.deaths, culled: l.culls }));
  return {
    flockId: flock.flockId,
    days,
    headCount: headCountOn(stay, dayLosses, farm.timezone, lastDay),
    livabilityPct: flockMortality(flock.headPlaced, records.losses, placedDay, lastDay)?.livabilityPct ?? null,
  };
}
