/**
 * Anomaly detectors over aggregates (docs/insights.md, "Anomalies"):
 *
 * - robust z-scores (median / MAD) of hourly rollups and of daily feed: a value far from the
 *   window's median in units of its median absolute deviation, insensitive to the outliers
 *   themselves (a mean and standard deviation would be dragged towards them);
 * - growth curve flattening: the gain of the last days against the gain the curve fitted on the
 *   earlier days expects;
 * - a WeighVision station whose scale and vision estimate disagree.
 */
import { addDays, ageOnDay, daysBetween } from './calendar';
import { fitGompertz, gompertzWeight } from './growth-curve';
import type { DailyWeight, Placement } from './growth';
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
