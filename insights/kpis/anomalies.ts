/**
 * Anomaly detectors over aggregates (docs/insights.md, "Anomalies" and "Climate judgement"):
 *
 * - the climate judgement (domain/climate, shared with the alarms): absolute limits per metric
 *   (temperature, humidity, CO2, NH3), the comfort band for the animals' age, deviation from the
 *   barn's own same-hour profile (sustained shifts and spikes), feed outages and sharp drops —
 *   `barnClimateFindings` and `climateFindingAnomaly`;
 * - robust z-scores (median / MAD) relative to the window itself (`outliers`): kept for callers
 *   that have not moved to the judgement; they miss a 48-hour heat wave (it moves the window's
 *   median) and flag a harmless blip in a tightly controlled barn (its MAD is tiny);
 * - growth curve flattening: the gain of the last days against the gain the curve fitted on the
 *   earlier days expects;
 * - a WeighVision station whose scale and vision estimate disagree.
 */
import { judgeClimate, type ClimateJudgement } from '../../domain/climate/judge';
import type { ClimateFinding } from '../../domain/climate/findings';
import { canonicalUnits, type ClimateMetric } from '../../domain/climate/metrics';
import { addDays, ageOnDay, daysBetween } from './calendar';
import type { BarnHour } from './climate';
import { fitGompertz, gompertzWeight } from './growth-curve';
import type { DailyFeed, DailyWeight, Placement } from './growth';
import { localClock } from './local-time';
import type { ComfortBand } from './species';
import { median, medianAbsoluteDeviation, round } from './stats';

/** Iglewicz and Hoaglin's modified z-score cut-off. */
export const robustZThreshold = 3.5;
/** 0.6745 = Φ⁻¹(0.75): makes the MAD comparable to a standard deviation for normal data. */
const madScale = 0.6745;

/**
 * zᵢ = 0.6745 · (xᵢ − median(x)) / MAD(x). Null when the MAD is 0 (half or more of the values are
 * identical, so no spread to measure against) or there are fewer than three values.
 */
export function robustZScores(values: readonly number[]): number[] | null {
  if (values.length < 3) return null;
  const m = median(values) as number;
  const mad = medianAbsoluteDeviation(values, m) as number;
  if (mad === 0) return null;
  return values.map((v) => (madScale * (v - m)) / mad);
}

export interface Outlier<K extends string> {
  key: Record<K, string>;
  value: number;
  robustZ: number;
}

export interface OutlierReport<K extends string> {
  evaluated: number;
  flagged: number;
  /** The flagged values with the largest |z|, at most `keep`, largest first. */
  worst: Outlier<K>[];
}

/** Values with |z| > 3.5. */
export function outliers<K extends string>(items: readonly { key: Record<K, string>; value: number }[], keep = 3): OutlierReport<K> | null {
  const z = robustZScores(items.map((i) => i.value));
  if (!z) return null;
  const flagged = items
    .map((item, i) => ({ key: item.key, value: item.value, robustZ: z[i] }))
    .filter((o) => Math.abs(o.robustZ) > robustZThreshold)
    .sort((a, b) => Math.abs(b.robustZ) - Math.abs(a.robustZ) || JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
  return {
    evaluated: items.length,
    flagged: flagged.length,
    worst: flagged.slice(0, keep).map((o) => ({ ...o, value: round(o.value, 2), robustZ: round(o.robustZ, 2) })),
  };
}

export const flatteningRecentDays = 7;
/** Flattening when the recent gain is below this share of the expected gain. */
export const flatteningThresholdPct = 70;

export interface GrowthFlattening {
  recentDays: number;
  /** The last weighing day on or before last − 7 days: where the recent stretch starts. */
  fromDay: string;
  toDay: string;
  observedGainKg: number;
  expectedGainKg: number;
  ratioPct: number;
  thresholdPct: number;
  flattening: boolean;
}

/**
 * Fits the growth curve on the weighing days up to `last − 7 days` (at least three of them),
 * then compares the observed gain from the latest of those days to the last day with the gain the
 * curve predicts over the same days. ratio = observed / expected · 100; flattening below 70 %.
 * Null when there is too little history to judge.
 */
export function growthFlattening(dailyWeights: readonly DailyWeight[], placement: Placement, asymptoteKg: number): GrowthFlattening | null {
  const days = [...dailyWeights].filter((d) => d.sessions > 0 && d.meanKg > 0).sort((a, b) => a.day.localeCompare(b.day));
  if (days.length < 4) return null;
  const last = days[days.length - 1];
  const cutoff = addDays(last.day, -flatteningRecentDays);
  const earlier = days.filter((d) => d.day <= cutoff);
  if (earlier.length < 3) return null;
  const from = earlier[earlier.length - 1];
  const t = (day: string) => (placement.placedAt !== null ? (ageOnDay(day, placement) as number) : daysBetween(days[0].day, day));
  const fit = fitGompertz(
    earlier.map((d) => ({ t: t(d.day), weightKg: d.meanKg })),
    asymptoteKg,
  );
  if (!fit) return null;
  const expected = gompertzWeight(fit, t(last.day)) - gompertzWeight(fit, t(from.day));
  if (!(expected > 0)) return null;
  const observed = last.meanKg - from.meanKg;
  const ratioPct = (observed / expected) * 100;
  return {
    recentDays: flatteningRecentDays,
    fromDay: from.day,
    toDay: last.day,
    observedGainKg: round(observed, 3),
    expectedGainKg: round(expected, 3),
    ratioPct: round(ratioPct, 1),
    thresholdPct: flatteningThresholdPct,
    flattening: ratioPct < flatteningThresholdPct,
  };
}

export const scaleVisionThresholdPct = 10;
export const scaleVisionMinSessions = 5;

export interface ScaleVisionCheck {
  sessions: number;
  /** median((vision − scale) / scale) · 100: positive when vision reads heavier than the scale. */
  medianDifferencePct: number;
  /** Sessions whose |difference| exceeds the threshold, in %. */
  shareOverThresholdPct: number;
  thresholdPct: number;
  disagree: boolean;
}

/**
 * A station's scale and vision disagree when the median relative difference over its sessions
 * exceeds ±10 %, with at least five sessions (one bad image is not a station problem).
 */
export function scaleVisionCheck(pairs: readonly { scaleKg: number; visionKg: number }[]): ScaleVisionCheck | null {
  // Rounded to 1e-6 %: (2.2 − 2) / 2 · 100 is 10.000000000000009 in binary floating point, and a
  // difference of exactly 10 % must not count as beyond ±10 %.
  const diffs = pairs.filter((p) => p.scaleKg > 0 && p.visionKg > 0).map((p) => round(((p.visionKg - p.scaleKg) / p.scaleKg) * 100, 6));
  const m = median(diffs);
  if (m === null) return null;
  const over = diffs.filter((d) => Math.abs(d) > scaleVisionThresholdPct).length;
  return {
    sessions: diffs.length,
    medianDifferencePct: round(m, 1),
    shareOverThresholdPct: round((over / diffs.length) * 100, 1),
    thresholdPct: scaleVisionThresholdPct,
    disagree: diffs.length >= scaleVisionMinSessions && Math.abs(m) > scaleVisionThresholdPct,
  };
}

export interface BarnClimateInputs {
  species: string;
  window: { from: string; to: string };
  placement: Placement;
  /** The farm's band: used only for a barn without a placement date (bands.ts resolveBand). */
  farmBand: ComfortBand | null;
  flockBand?: ComfortBand | null;
  barnBand?: ComfortBand | null;
  /** Hourly barn means per metric, in the canonical units (ingest converts or rejects others). */
  hours: Partial<Record<ClimateMetric, readonly BarnHour[]>>;
  outsideTemperatureHours?: readonly BarnHour[];
  dailyFeed: readonly DailyFeed[];
  /** Complete farm-local days the flock was in the barn, on which feed was expected. */
  expectedFeedDays: readonly string[];
}

/** The barn's climate and feed judged by domain/climate: the findings the alarms raise on too. */
export function barnClimateFindings(input: BarnClimateInputs): ClimateJudgement {
  const toHours = (hours: readonly BarnHour[]) => hours.map((h) => ({ hour: h.hour, localDay: h.localDay, value: h.mean }));
  return judgeClimate({
    species: input.species,
    window: input.window,
    series: (Object.keys(input.hours) as ClimateMetric[]).map((metric) => ({
      metric,
      unit: canonicalUnits[metric],
      hours: toHours(input.hours[metric] ?? []),
    })),
    outsideTemperature: input.outsideTemperatureHours ? toHours(input.outsideTemperatureHours) : null,
    placement: input.placement,
    bands: { flock: input.flockBand ?? null, barn: input.barnBand ?? null, farm: input.farmBand },
    feed: { days: input.dailyFeed, expectedDays: input.expectedFeedDays },
  });
}

/** A finding as a feature-summary anomaly (kind `climate_finding`; docs/insights.md). */
export interface ClimateFindingAnomaly {
  kind: 'climate_finding';
  barn_id: string;
  code: ClimateFinding['code'];
  metric: ClimateFinding['metric'];
  from: string;
  to: string;
  duration: number;
  value: number;
  threshold: number;
  unit: string;
  baseline: number | null;
  source: string;
}

export function climateFindingAnomaly(barnId: string, f: ClimateFinding): ClimateFindingAnomaly {
  return {
    kind: 'climate_finding',
    barn_id: barnId,
    code: f.code,
    metric: f.metric,
    from: f.window.from,
    to: f.window.to,
    duration: f.duration,
    value: f.value,
    threshold: f.threshold,
    unit: f.unit,
    baseline: f.baseline ?? null,
    source: f.source,
  };
}

export interface FeedExpectation {
  window: { from: string; to: string };
  timeZone: string;
  /** Farm-local days of the window's first and last instant. */
  localDays: { from: string; to: string };
  /** Farm-local day the animals came in (placement; without one, the first day with feed), or null. */
  occupiedFrom: string | null;
  /** Farm-local day the barn was emptied, or null while occupied. */
  occupiedUntil?: string | null;
}

/**
 * The complete farm-local days of the window on which feed was expected: after the placement day
 * and before the depopulation day (both are partial), and not the window's first or last day when
 * the window cuts it. A day in this list with no feed record is a zero-feed day.
 */
export function expectedFeedDays(e: FeedExpectation): string[] {
  if (e.occupiedFrom === null) return [];
  let first = e.localDays.from;
  if (localClock(e.window.from, e.timeZone).elapsedShare !== 0) first = addDays(first, 1);
  let last = e.localDays.to;
  if (localClock(e.window.to, e.timeZone).elapsedShare !== 0) last = addDays(last, -1);
  const days: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) {
    if (d <= e.occupiedFrom) continue;
    if (e.occupiedUntil && d >= e.occupiedUntil) break;
    days.push(d);
  }
  return days;
}
