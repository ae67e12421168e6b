/**
 * Climate KPIs of one barn from hourly rollups (telemetry_rollups, bucket_width '1h'), never from
 * raw readings. The database combines the sensors of a barn into one value per hour; this module
 * only does the arithmetic (docs/insights.md, "Climate").
 */
import { resolveBand, type ResolvedBand } from '../../domain/climate/bands';
import { ageOnDay } from '../../domain/calendar/days';
import type { ComfortBand, ComfortBandRow } from './species';
import { round, roundOrNull } from './stats';

/** One hour of one metric in one barn: every sensor's 1h rollup of that hour, combined. */
export interface BarnHour {
  /** Start of the hour, ISO 8601. */
  hour: string;
  /** The farm-local calendar day of the hour (YYYY-MM-DD), which indexes the animals' age. */
  localDay: string;
  /** Σ(mean·count) / Σ count over the barn's sensors: the reading-weighted mean of the hour. */
  mean: number;
  min: number;
  max: number;
  readingCount: number;
}

export interface MetricStats {
  /** Reading-weighted mean over the window: Σ(hour mean · hour count) / Σ hour count. */
  mean: number;
  min: number;
  max: number;
  hours: number;
  readings: number;
}

export function metricStats(hours: readonly BarnHour[]): MetricStats | null {
  if (hours.length === 0) return null;
  let weighted = 0;
  let readings = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const h of hours) {
    weighted += h.mean * h.readingCount;
    readings += h.readingCount;
    if (h.min < min) min = h.min;
    if (h.max > max) max = h.max;
  }
  return { mean: round(weighted / readings, 2), min: round(min, 2), max: round(max, 2), hours: hours.length, readings };
}

export interface ComfortHours {
  /** 'farm' when the farm's configured band was used (only without an age), 'species_age_table' otherwise. */
  bandSource: 'farm' | 'species_age_table';
  /** Hours that had a temperature and a band to compare with. */
  hoursEvaluated: number;
  hoursBelow: number;
  hoursAbove: number;
  hoursOutside: number;
  /** hoursOutside / hoursEvaluated · 100. */
  shareOutsidePct: number | null;
  /** The band at the start and at the end of the window (they differ as the animals grow). */
  bandAtStart: ComfortBand | null;
  bandAtEnd: ComfortBand | null;
}

export interface ComfortInputs {
  farmBand: ComfortBand | null;
  speciesBands: readonly ComfortBandRow[] | null;
  placement: { placedAt: string | null; ageAtPlacementDays: number };
}

/**
 * Hours outside the comfort band: an hour counts as below (above) when the barn's mean temperature
 * of that hour is below the band's minimum (above its maximum) for the animals' age on that day
 * (domain/climate/bands.ts: the species table by age; pigs by production stage, a farrowing room
 * judged for the sow, not the creep). The farm's band applies only to a barn without a placement
 * date. Hours without a band are not evaluated. Null when no hour could be evaluated.
 */
export function comfortHours(temperature: readonly BarnHour[], inputs: ComfortInputs): ComfortHours | null {
  let evaluated = 0;
  let below = 0;
  let above = 0;
  let first: ComfortBand | null = null;
  let last: ComfortBand | null = null;
  let tableUsed = false;
  const bandOfDay = new Map<string, ResolvedBand | null>(); // a 90-day window has 2,160 hours but only 90 days
  for (const h of temperature) {
    let band = bandOfDay.get(h.localDay);
    if (band === undefined) {
      band = resolveBand({ table: inputs.speciesBands, ageDays: ageOnDay(h.localDay, inputs.placement), farm: inputs.farmBand });
      bandOfDay.set(h.localDay, band);
    }
    if (!band) continue;
    tableUsed ||= band.source === 'species_age_table';
    first ??= { minC: band.minC, maxC: band.maxC };
    last = { minC: band.minC, maxC: band.maxC };
    evaluated++;
    if (h.mean < band.minC) below++;
    else if (h.mean > band.maxC) above++;
  }
  if (evaluated === 0) return null;
  return {
    bandSource: tableUsed ? 'species_age_table' : 'farm',
    hoursEvaluated: evaluated,
    hoursBelow: below,
    hoursAbove: above,
    hoursOutside: below + above,
    shareOutsidePct: roundOrNull(((below + above) / evaluated) * 100, 1),
    bandAtStart: first,
    bandAtEnd: last,
  };
}
