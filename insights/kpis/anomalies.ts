/**
 * Anomaly detectors over aggregates (docs/insights.md, "Anomalies" and "Climate judgement"):
 *
 * - the climate judgement (domain/climate, shared with the alarms): absolute limits per metric
 *   (temperature, humidity, CO2, NH3), the comfort band for the animals' age, deviation from the
 *   barn's own same-hour profile (sustained shifts and spikes), feed outages and sharp drops —
 *   `barnClimateFindings` and `climateFindingAnomaly`;
 * - growth curve flattening: the gain of the last days against the gain the curve fitted on the
 *   earlier days expects;
 * - a WeighVision station whose scale and vision estimate disagree.
 */
import { judgeClimate, type ClimateJudgement } from '../../domain/climate/judge';
import { compareFindings, type ClimateFinding } from '../../domain/climate/findings';
import { limitsFor, type LimitStatus } from '../../domain/climate/limits';
import { canonicalUnits, type ClimateMetric } from '../../domain/climate/metrics';
import type { Anomaly } from '../feature-summary';
import { addDays, ageOnDay, daysBetween } from '../../domain/calendar/days';
import type { BarnHour } from './climate';
import { fitGompertz, gompertzWeight } from './growth-curve';
import type { DailyFeed, DailyWeight, Placement } from './growth';
import { localClock } from '../../domain/calendar/local-clock';
import type { ComfortBand } from './species';
import { median, round } from './stats';

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
  /**
   * Hourly barn means per metric, in the canonical units (ingest converts or rejects others).
   * Hours before the window are the barn's own baseline (profile.ts: the 7 days before an hour).
   */
  hours: Partial<Record<ClimateMetric, readonly BarnHour[]>>;
  outsideTemperatureHours?: readonly BarnHour[];
  dailyFeed: readonly DailyFeed[];
  /** Complete farm-local days the flock was in the barn, on which feed was expected. */
  expectedFeedDays: readonly string[];
  /** Earlier fed days: the trailing median of a feed drop may reach back before the window. */
  feedHistoryDays?: readonly string[];
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
    feed: { days: input.dailyFeed, expectedDays: input.expectedFeedDays, historyDays: input.feedHistoryDays ?? [] },
  });
}

/** A finding as a feature-summary anomaly (kind `climate_finding`; docs/insights.md). */
export type ClimateFindingAnomaly = Extract<Anomaly, { kind: 'climate_finding' }>;

/**
 * Whether the rule that raised a finding is law or guidance: the absolute limits say so per rule
 * (limits.ts); bands, the barn's own profile and feed are FarmIQ defaults, i.e. guidance.
 */
export function findingStatus(species: string, source: string): LimitStatus {
  const limits = limitsFor(species);
  if (!limits) return 'guidance';
  const rule = [...limits.absolute, ...limits.withoutOutside, ...(limits.outsideExcess ? [limits.outsideExcess] : [])].find((l) => l.id === source);
  return rule?.status ?? 'guidance';
}

export function climateFindingAnomaly(barnId: string, f: ClimateFinding, species: string): ClimateFindingAnomaly {
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
    status: findingStatus(species, f.source),
  };
}

/** At most this many findings of one barn reach the summary (the LLM prompt stays small). */
export const maxFindingsPerBarn = 8;

// What a farm manager must see first when a barn has more findings than are reported.
const findingPriority: Record<ClimateFinding['code'], number> = {
  above_limit: 0,
  below_limit: 0,
  feed_outage: 1,
  feed_drop: 2,
  above_band: 3,
  below_band: 3,
  sustained_shift: 4,
  spike: 5,
};

/**
 * The findings a barn reports: all of them when there are at most `maxFindingsPerBarn`; otherwise
 * the most important (limits, feed, band, shift, spike; then the longest, then the earliest), in
 * the judgement's order. `omitted` says how many were left out.
 */
export function reportedFindings(findings: readonly ClimateFinding[], max = maxFindingsPerBarn): { findings: ClimateFinding[]; omitted: number } {
  if (findings.length <= max) return { findings: [...findings], omitted: 0 };
  const kept = new Set(
    [...findings].sort((a, b) => findingPriority[a.code] - findingPriority[b.code] || b.duration - a.duration || compareFindings(a, b)).slice(0, max),
  );
  return { findings: findings.filter((f) => kept.has(f)), omitted: findings.length - max };
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
