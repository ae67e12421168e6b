/**
 * judgeClimate: one barn's climate and feed judged against absolute limits (limits.ts), the
 * comfort band for the animals' age (bands.ts), the barn's own recent profile (profile.ts) and its
 * feed history (feed.ts). Pure and side-independent: the insights (cloud, over a window of hourly
 * rollups) and the alarms (edge, over the last hours) call the same function and speak the same
 * finding codes (findings.ts).
 */
import { comfortBandTable, expectedTemperatureAt, resolveBand, type ComfortBand, type ResolvedBand } from './bands';
import { feedFindings, feedGaps, type FeedDay } from './feed';
import { compareFindings, type ClimateFinding } from './findings';
import { limitsFor, type AbsoluteLimit, type OutsideExcessLimit } from './limits';
import {
  canonicalUnits as defaultCanonicalUnits,
  hourMs,
  hourStart,
  isClimateMetric,
  isoHour,
  roundTo,
  type ClimateMetric,
  type HourValue,
  type TimedHour,
} from './metrics';
import { deviations, profileRules, spikes, sustainedShifts, withoutShiftSpikes, type JudgedWindow } from './profile';
import { runsOf } from './runs';

export interface ClimateSeries {
  metric: string;
  /** The unit the values are in; a series not in the metric's canonical unit is not judged. */
  unit: string;
  hours: readonly HourValue[];
}

export interface ClimateJudgementInput {
  species: string;
  /** Findings for hours starting in [from, to); hours before `from` serve as the baseline. */
  window: { from: string; to: string };
  series: readonly ClimateSeries[];
  /** Outside temperature in the shade, °C, per hour; needed for 2007/43/EC Annex II 3(b) and 3(c). */
  outsideTemperature?: readonly HourValue[] | null;
  /** placedAt: farm-local day of placement; age on day D = ageAtPlacementDays + (D − placedAt). */
  placement?: { placedAt: string | null; ageAtPlacementDays: number } | null;
  /** Band overrides: the flock's, the barn's, and the farm default used only when the age is unknown. */
  bands?: { flock?: ComfortBand | null; barn?: ComfortBand | null; farm?: ComfortBand | null };
  feed?: { days: readonly FeedDay[]; expectedDays: readonly string[]; historyDays?: readonly string[]; dispensedAt?: readonly string[] } | null;
  /** The canonical unit of each metric (the ingest contract's); default metrics.ts. */
  canonicalUnits?: Readonly<Record<ClimateMetric, string>>;
}

export type IgnoredReason = 'unit_not_canonical' | 'metric_not_judged';

export interface IgnoredSeries {
  metric: string;
  unit: string;
  reason: IgnoredReason;
  expectedUnit?: string;
  hours: number;
}

export interface ClimateJudgement {
  findings: ClimateFinding[];
  ignored: IgnoredSeries[];
}

/**
 * A barn more than 1 °C outside its band for at least 3 hours in a row is a finding; a single hour,
 * or a barn hovering a few tenths over the band's edge, is not (the comfort-hours KPI counts those).
 * The finding's threshold is the band edge ± this margin: what the hour mean was compared with.
 */
export const minBandHours = 3;
export const bandMarginC = 1;
/** A 48-hour mean needs at least 36 of the 48 hours. */
const minAveragedShare = 0.75;

const dayMs = 86_400_000;

function dayNumber(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`) / dayMs;
}

const localDayOf = (h: HourValue) => h.localDay ?? h.hour.slice(0, 10);

/** Several series of one metric in its canonical unit: the mean of the hour across them, by hour. */
function combine(series: readonly ClimateSeries[]): TimedHour[] {
  // One series with one value per hour in order (what the insights pass): nothing to average.
  if (series.length === 1) {
    const single = asTimed(series[0].hours);
    if (single) return single;
  }
  const sums = new Map<number, { h: HourValue; sum: number; n: number }>();
  for (const s of series) {
    for (const h of s.hours) {
      if (!Number.isFinite(h.value)) continue;
      const ms = hourStart(h);
      const e = sums.get(ms);
      if (e) {
        e.sum += h.value;
        e.n++;
      } else sums.set(ms, { h, sum: h.value, n: 1 });
    }
  }
  const out: TimedHour[] = [];
  for (const [ms, e] of sums) {
    // The hour as an ISO instant; the usual spelling (toISOString's) is kept without re-formatting.
    const hour = canonicalHour(e.h.hour) ? e.h.hour : isoHour(ms);
    out.push(e.h.localDay === undefined ? { hour, ms, value: e.sum / e.n } : { hour, localDay: e.h.localDay, ms, value: e.sum / e.n });
  }
  return out.sort((a, b) => a.ms - b.ms);
}

const canonicalHour = (hour: string) => hour.length === 24 && hour.endsWith(':00:00.000Z');

/** The hours, parsed once, when they are finite and strictly in order; else null. */
function asTimed(hours: readonly HourValue[]): TimedHour[] | null {
  const out: TimedHour[] = [];
  let previous = -Infinity;
  for (const h of hours) {
    if (!Number.isFinite(h.value)) continue;
    const ms = hourStart(h);
    if (!(ms > previous)) return null;
    previous = ms;
    const hour = canonicalHour(h.hour) ? h.hour : isoHour(ms);
    out.push(h.localDay === undefined ? { hour, ms, value: h.value } : { hour, localDay: h.localDay, ms, value: h.value });
  }
  return out;
}

/**
 * The mean of a series over the `hours` hours ending with the hour at `ms` (that hour and the
 * ones before it), or null with fewer than 75 % of them. `sorted` is ordered by start; the sum runs
 * from the newest hour back, always in the same order.
 */
function trailingMean(sorted: readonly TimedHour[], ms: number, hours: number): number | null {
  // The last hour starting at or before ms (binary search), then back while inside the span.
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid].ms <= ms) lo = mid + 1;
    else hi = mid;
  }
  const oldest = ms - (hours - 1) * hourMs;
  let sum = 0;
  let n = 0;
  for (let i = lo - 1; i >= 0 && sorted[i].ms >= oldest; i--) {
    sum += sorted[i].value;
    n++;
  }
  return n >= Math.ceil(hours * minAveragedShare) ? sum / n : null;
}

interface Judged {
  hour: HourValue;
  value: number;
  threshold: number;
}

function runFindings(
  judged: readonly Judged[],
  code: ClimateFinding['code'],
  metric: ClimateMetric,
  unit: string,
  source: string,
  minHours: number,
  worstIsHighest: boolean,
): ClimateFinding[] {
  const byHour = new Map(judged.map((j) => [j.hour.hour, j]));
  return runsOf(
    judged.map((j) => j.hour),
    () => true,
  )
    .filter((run) => run.hours.length >= minHours)
    .map((run) => {
      const worst = run.hours.map((h) => byHour.get(h.hour) as Judged).reduce((w, j) => ((worstIsHighest ? j.value > w.value : j.value < w.value) ? j : w));
      return {
        code,
        metric,
        window: { from: isoHour(run.fromMs), to: isoHour(run.toMs) },
        duration: run.hours.length,
        value: roundTo(worst.value, 2),
        threshold: roundTo(worst.threshold, 2),
        unit,
        source,
      };
    });
}

function limitFindings(
  limit: AbsoluteLimit,
  hours: readonly TimedHour[],
  outside: readonly TimedHour[] | null,
  unit: string,
  inWindow: (ms: number) => boolean,
): ClimateFinding[] {
  const judged: Judged[] = [];
  for (const h of hours) {
    const ms = h.ms;
    if (!inWindow(ms)) continue;
    const value = limit.averagingHours <= 1 ? h.value : trailingMean(hours, ms, limit.averagingHours);
    if (value === null) continue;
    if (limit.onlyWhenOutsideBelowC !== undefined) {
      const out = outside ? trailingMean(outside, ms, Math.max(1, limit.averagingHours)) : null;
      if (out === null || !(out < limit.onlyWhenOutsideBelowC)) continue;
    }
    if (limit.bound === 'max' ? value > limit.value : value < limit.value) judged.push({ hour: h, value, threshold: limit.value });
  }
  return runFindings(judged, limit.bound === 'max' ? 'above_limit' : 'below_limit', limit.metric, unit, limit.id, 1, limit.bound === 'max');
}

function outsideExcessFindings(
  rule: OutsideExcessLimit,
  inside: readonly TimedHour[],
  outside: ReadonlyMap<number, number>,
  unit: string,
  inWindow: (ms: number) => boolean,
): ClimateFinding[] {
  const judged: Judged[] = [];
  for (const h of inside) {
    const ms = h.ms;
    const out = outside.get(ms);
    if (!inWindow(ms) || out === undefined || !(out > rule.outsideAboveC)) continue;
    if (h.value > out + rule.maxExcessC) judged.push({ hour: h, value: h.value, threshold: out + rule.maxExcessC });
  }
  return runFindings(judged, 'above_limit', 'temperature', unit, rule.id, 1, true);
}

export function judgeClimate(input: ClimateJudgementInput): ClimateJudgement {
  const units = input.canonicalUnits ?? defaultCanonicalUnits;
  const fromMs = Date.parse(input.window.from);
  const toMs = Date.parse(input.window.to);
  // An hour belongs to the window when its start lies in [floor_hour(from), to), as in the insights.
  const window: JudgedWindow = { fromMs: Math.floor(fromMs / hourMs) * hourMs, toMs };
  const inWindow = (ms: number) => ms >= window.fromMs && ms < window.toMs;
  const ignored: IgnoredSeries[] = [];
  const accepted = new Map<ClimateMetric, ClimateSeries[]>();
  for (const s of input.series) {
    if (!isClimateMetric(s.metric)) {
      ignored.push({ metric: s.metric, unit: s.unit, reason: 'metric_not_judged', hours: s.hours.length });
    } else if (s.unit !== units[s.metric]) {
      ignored.push({ metric: s.metric, unit: s.unit, reason: 'unit_not_canonical', expectedUnit: units[s.metric], hours: s.hours.length });
    } else accepted.set(s.metric, [...(accepted.get(s.metric) ?? []), s]);
  }

  const limits = limitsFor(input.species);
  const table = comfortBandTable(input.species);
  const outsideHours = input.outsideTemperature ? combine([{ metric: 'temperature', unit: '', hours: input.outsideTemperature }]) : [];
  const outsideSeries = outsideHours.length ? outsideHours : null;
  const outside = outsideSeries ? new Map(outsideSeries.map((h) => [h.ms, h.value])) : null;
  const placement = input.placement ?? null;
  const ageOnDay = (day: string): number | null =>
    placement?.placedAt ? placement.ageAtPlacementDays + (dayNumber(day) - dayNumber(placement.placedAt)) : null;
  const bandOfDay = new Map<string, ResolvedBand | null>();
  const bandOf = (h: HourValue) => {
    const day = localDayOf(h);
    let band = bandOfDay.get(day);
    if (band === undefined) {
      band = resolveBand({ table, ageDays: ageOnDay(day), flock: input.bands?.flock, barn: input.bands?.barn, farm: input.bands?.farm });
      bandOfDay.set(day, band);
    }
    return band;
  };
  // The set-point ramp is removed from the profile only when the band follows the age table.
  const overridden = Boolean(input.bands?.flock || input.bands?.barn);
  const placedMs = placement?.placedAt ? dayNumber(placement.placedAt) * dayMs : null;
  const rampOf =
    table && placedMs !== null && !overridden
      ? (ms: number) => expectedTemperatureAt(table, (placement as { ageAtPlacementDays: number }).ageAtPlacementDays + (ms - placedMs) / dayMs)
      : undefined;

  const findings: ClimateFinding[] = [];
  for (const [metric, series] of accepted) {
    const hours = combine(series);
    const unit = units[metric];
    if (limits) {
      const rules = outside ? limits.absolute : [...limits.absolute.filter((l) => l.onlyWhenOutsideBelowC === undefined), ...limits.withoutOutside];
      for (const limit of rules.filter((l) => l.metric === metric)) findings.push(...limitFindings(limit, hours, outsideSeries, unit, inWindow));
      if (metric === 'temperature' && limits.outsideExcess && outside)
        findings.push(...outsideExcessFindings(limits.outsideExcess, hours, outside, unit, inWindow));
    }
    if (metric === 'temperature') {
      const above: Judged[] = [];
      const below: Judged[] = [];
      let source = 'species_age_table';
      for (const h of hours) {
        if (!inWindow(h.ms)) continue;
        const band = bandOf(h);
        if (!band) continue;
        source = band.source;
        if (h.value > band.maxC + bandMarginC) above.push({ hour: h, value: h.value, threshold: band.maxC + bandMarginC });
        else if (h.value < band.minC - bandMarginC) below.push({ hour: h, value: h.value, threshold: band.minC - bandMarginC });
      }
      findings.push(...runFindings(above, 'above_band', metric, unit, `band_${source}`, minBandHours, true));
      findings.push(...runFindings(below, 'below_band', metric, unit, `band_${source}`, minBandHours, false));
    }
    const rule = profileRules[metric];
    const devs = deviations(hours, rule, metric === 'temperature' ? rampOf : undefined);
    const shifts = sustainedShifts(devs, rule, metric, unit, window);
    findings.push(...withoutShiftSpikes(spikes(devs, rule, metric, unit, window), shifts), ...shifts);
  }
  if (input.feed) {
    findings.push(...feedFindings(input.feed.days, input.feed.expectedDays, input.feed.historyDays ?? []));
    if (input.feed.dispensedAt) findings.push(...feedGaps(input.feed.dispensedAt, input.window));
  }
  return { findings: findings.sort(compareFindings), ignored };
}
