/**
 * Deviation from the barn's OWN recent profile, so that what is normal for this barn (its daily
 * swing, how tightly it is controlled) sets what is abnormal:
 *
 * - baseline of an hour = median of the same hour on each of the previous 7 days (at least 3 of
 *   them), after removing the set-point ramp where one is expected (a broiler house is meant to cool
 *   by about 0.3–0.5 °C a day); spread = 1.4826 · MAD of those days, never below a floor per metric,
 *   so a barn held within ±0.1 °C does not make a harmless 1 °C blip an event;
 * - spike: an hour whose deviation d = value − baseline is at least the metric's absolute spike size
 *   AND at least 3.5 spreads (e.g. +5 °C for 4 h);
 * - sustained shift: the mean deviation over the last 24 hours (at least 18 of them) beyond the
 *   metric's shift size (e.g. +3 °C for 48 h: the heat wave no single hour reveals).
 *
 * Consecutive flagged hours in one direction make one finding.
 */
import type { ClimateFinding } from './findings';
import { hourMs, hourStart, isoHour, medianOf, roundTo, type ClimateMetric, type HourValue } from './metrics';

export interface ProfileRule {
  /** Smallest spread the baseline may claim (unit of the metric). */
  spreadFloor: number;
  spikeSize: number;
  spikeZ: number;
  shiftSize: number;
}

export const baselineDays = 7;
export const minBaselineDays = 3;
export const shiftHours = 24;
export const minShiftHours = 18;
/** 1.4826 · MAD estimates a standard deviation for normal data (1 / Φ⁻¹(0.75)). */
const madToSpread = 1.4826;

export const profileRules: Readonly<Record<ClimateMetric, ProfileRule>> = {
  temperature: { spreadFloor: 0.5, spikeSize: 4, spikeZ: 3.5, shiftSize: 2 },
  humidity: { spreadFloor: 3, spikeSize: 15, spikeZ: 3.5, shiftSize: 10 },
  co2: { spreadFloor: 150, spikeSize: 1000, spikeZ: 3.5, shiftSize: 500 },
  nh3: { spreadFloor: 2, spikeSize: 8, spikeZ: 3.5, shiftSize: 5 },
};

export interface HourDeviation {
  ms: number;
  value: number;
  baseline: number;
  spread: number;
  deviation: number;
}

/**
 * The deviation of every hour that has a baseline. `expected(ms)` is the set-point the barn is
 * meant to follow at that instant (null: none), removed before comparing days.
 */
export function deviations(hours: readonly HourValue[], rule: ProfileRule, expected?: (ms: number) => number | null): HourDeviation[] {
  const byHour = new Map<number, number>();
  for (const h of hours) byHour.set(hourStart(h), h.value);
  const residual = (ms: number, value: number): number | null => {
    if (!expected) return value;
    const e = expected(ms);
    return e === null ? null : value - e;
  };
  const out: HourDeviation[] = [];
  for (const [ms, value] of [...byHour].sort((a, b) => a[0] - b[0])) {
    const own = residual(ms, value);
    if (own === null) continue;
    const past: number[] = [];
    for (let k = 1; k <= baselineDays; k++) {
      const at = ms - k * 24 * hourMs;
      const v = byHour.get(at);
      const r = v === undefined ? null : residual(at, v);
      if (r !== null) past.push(r);
    }
    if (past.length < minBaselineDays) continue;
    const centre = medianOf(past) as number;
    const mad = medianOf(past.map((p) => Math.abs(p - centre))) as number;
    const spread = Math.max(madToSpread * mad, rule.spreadFloor);
    const deviation = own - centre;
    out.push({ ms, value, baseline: value - deviation, spread, deviation });
  }
  return out;
}

interface Flagged {
  ms: number;
  /** +1 above the baseline, −1 below. */
  sign: number;
  magnitude: number;
  threshold: number;
  baseline: number;
}

function merge(flagged: readonly Flagged[]): Flagged[][] {
  const runs: Flagged[][] = [];
  for (const f of flagged) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (last && last.sign === f.sign && last.ms + hourMs === f.ms) run.push(f);
    else runs.push([f]);
  }
  return runs;
}

function toFinding(run: readonly Flagged[], code: 'spike' | 'sustained_shift', metric: ClimateMetric, unit: string, from: number, to: number): ClimateFinding {
  const worst = run.reduce((w, f) => (f.magnitude > w.magnitude ? f : w));
  return {
    code,
    metric,
    window: { from: isoHour(from), to: isoHour(to) },
    duration: Math.round((to - from) / hourMs),
    value: roundTo(worst.sign * worst.magnitude, 2),
    threshold: roundTo(worst.sign * worst.threshold, 2),
    unit,
    baseline: roundTo(worst.baseline, 2),
    source: `farmiq_profile_${code}`,
  };
}

export interface JudgedWindow {
  fromMs: number;
  toMs: number;
}

const inWindow = (ms: number, w: JudgedWindow) => ms >= w.fromMs && ms < w.toMs;

export function spikes(devs: readonly HourDeviation[], rule: ProfileRule, metric: ClimateMetric, unit: string, window: JudgedWindow): ClimateFinding[] {
  const flagged: Flagged[] = [];
  for (const d of devs) {
    if (!inWindow(d.ms, window)) continue;
    const threshold = Math.max(rule.spikeSize, rule.spikeZ * d.spread);
    if (Math.abs(d.deviation) >= threshold) {
      flagged.push({ ms: d.ms, sign: Math.sign(d.deviation), magnitude: Math.abs(d.deviation), threshold, baseline: d.baseline });
    }
  }
  return merge(flagged).map((run) => toFinding(run, 'spike', metric, unit, run[0].ms, run[run.length - 1].ms + hourMs));
}

export function sustainedShifts(
  devs: readonly HourDeviation[],
  rule: ProfileRule,
  metric: ClimateMetric,
  unit: string,
  window: JudgedWindow,
): ClimateFinding[] {
  const byMs = new Map(devs.map((d) => [d.ms, d]));
  const flagged: Flagged[] = [];
  for (const d of devs) {
    if (!inWindow(d.ms, window)) continue;
    const last: HourDeviation[] = [];
    for (let k = 0; k < shiftHours; k++) {
      const p = byMs.get(d.ms - k * hourMs);
      if (p) last.push(p);
    }
    if (last.length < minShiftHours) continue;
    const mean = last.reduce((s, p) => s + p.deviation, 0) / last.length;
    if (Math.abs(mean) >= rule.shiftSize) {
      flagged.push({ ms: d.ms, sign: Math.sign(mean), magnitude: Math.abs(mean), threshold: rule.shiftSize, baseline: d.baseline });
    }
  }
  return merge(flagged).map((run) => {
    // The finding spans the hours that carried the shift: within the flagged 24-hour windows, from
    // the first to the last hour at least half the shift size away in the shift's direction.
    const sign = run[0].sign;
    const spanFrom = Math.max(window.fromMs, run[0].ms - (shiftHours - 1) * hourMs);
    const spanTo = run[run.length - 1].ms + hourMs;
    const carrying = devs.filter((d) => d.ms >= spanFrom && d.ms < spanTo && sign * d.deviation >= rule.shiftSize / 2);
    const from = carrying.length ? carrying[0].ms : spanFrom;
    const to = carrying.length ? carrying[carrying.length - 1].ms + hourMs : spanTo;
    return toFinding(run, 'sustained_shift', metric, unit, from, to);
  });
}
