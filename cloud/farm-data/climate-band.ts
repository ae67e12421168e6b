/**
 * What a climate value is judged against on the dashboard, from domain/climate (the table the
 * insights and the alarms share): temperature against the comfort band of the animals' species at
 * their age (bands.ts; the farm's own band only when the age is unknown), humidity, CO2 and NH3
 * against the species' absolute limits (limits.ts: EU 2007/43/EC NH3 ≤ 20 ppm and CO2 ≤ 3 000 ppm for
 * broilers, the guidance figures for pigs; humidity's 48-hour limits shown as a band). A band holds
 * only in the metric's canonical unit. A value older than `staleAfterMs` is 'stale' whatever it is.
 */
import { canonicalUnits, comfortBandTable, isClimateMetric, limitsFor, resolveBand, type ClimateMetric, type ComfortBand } from '../../domain/climate';

export interface Band {
  min: number | null;
  max: number | null;
}

export type ClimateStatus = 'ok' | 'low' | 'high' | 'stale' | 'unknown';

export const staleAfterMs = 15 * 60_000;

/** Names a metric is stored under (units.ts accepts ammonia for nh3, as insights/aggregation.ts reads it). */
export function storedNames(metric: string): string[] {
  return metric === 'nh3' ? ['nh3', 'ammonia'] : [metric];
}

/** The name a stored metric is shown under. */
export function shownName(stored: string): string {
  return stored === 'ammonia' ? 'nh3' : stored;
}

export function climateBand(
  metric: string,
  unit: string | null,
  animals: { species: string; ageDays: number | null; farmBand: ComfortBand | null },
): Band | null {
  if (!isClimateMetric(metric) || unit !== canonicalUnits[metric]) return null;
  if (metric === 'temperature') {
    const b = resolveBand({ table: comfortBandTable(animals.species), ageDays: animals.ageDays, farm: animals.farmBand });
    return b ? { min: b.minC, max: b.maxC } : null;
  }
  const limits = (limitsFor(animals.species)?.absolute ?? []).filter((l) => l.metric === (metric as ClimateMetric));
  const min = limits.find((l) => l.bound === 'min')?.value ?? null;
  const max = limits.find((l) => l.bound === 'max')?.value ?? null;
  return min === null && max === null ? null : { min, max };
}

export function climateStatus(value: number, at: Date, band: Band | null, now: Date): ClimateStatus {
  if (now.getTime() - at.getTime() > staleAfterMs) return 'stale';
  if (!band) return 'unknown';
  if (band.min !== null && value < band.min) return 'low';
  if (band.max !== null && value > band.max) return 'high';
  return 'ok';
}
