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
 * Consecutive flagged hours in one direction make one finding. A run of spike hours as long as the
 * shift's minimum (18 h) that lies inside a sustained shift in the same direction is that shift,
 * not a spike, and is left out (`withoutShiftSpikes`); a short spike on top of a shift stays.
 */
import type { ClimateFinding } from './findings';
import { hourMs, hourStart, isoHour, roundTo, type ClimateMetric, type HourValue } from './metrics';

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
  if (hours.length === 0) return [];
  // The hours on a dense grid (index = hours since the first), each hour's residual (value − the
  // set-point expected then) computed once: the 7 baseline look-ups per hour are array reads.
  const starts = hours.map(hourStart);
  let first = Infinity;
  let last = -Infinity;
  for (const ms of starts) {
    if (ms < first) first = ms;
    if (ms > last) last = ms;
  }
  const size = Math.round((last - first) / hourMs) + 1;
  const values = new Float64Array(size).fill(NaN);
  const residuals = new Float64Array(size).fill(NaN);
  hours.forEach((h, i) => {
    const at = (starts[i] - first) / hourMs;
    if (!Number.isInteger(at)) return; // not an hour start: not part of the grid
    values[at] = h.value;
    const e = expected ? expected(starts[i]) : 0;
    residuals[at] = e === null ? NaN : h.value - e;
  });
  const out: HourDeviation[] = [];
  const past = new Float64Array(baselineDays);
  const spreadOf = new Float64Array(baselineDays);
  for (let at = 0; at < size; at++) {
    const own = residuals[at];
    if (Number.isNaN(own)) continue;
    let n = 0;
    for (let k = 1; k <= baselineDays; k++) {
      const r = at - 24 * k >= 0 ? residuals[at - 24 * k] : NaN;
      if (!Number.isNaN(r)) past[n++] = r;
    }
    if (n < minBaselineDays) continue;
    const centre = medianInPlace(past, n);
    for (let i = 0; i < n; i++) spreadOf[i] = Math.abs(past[i] - centre);
    const mad = medianInPlace(spreadOf, n);
    const spread = Math.max(madToSpread * mad, rule.spreadFloor);
    const deviation = own - centre;
    const value = values[at];
    out.push({ ms: first + at * hourMs, value, baseline: value - deviation, spread, deviation });
  }
  return out;
}

/** The median of the first n values of a small buffer, sorting them in place (no allocation per hour). */
function medianInPlace(buf: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const v = buf[i];
    let j = i - 1;
    while (j >= 0 && buf[j] > v) {
      buf[j + 1] = buf[j];
      j--;
    }
    buf[j + 1] = v;
  }
  const mid = n >> 1;
  return n % 2 === 1 ? buf[mid] : (buf[mid - 1] + buf[mid]) / 2;
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
  const flagged: Flagged[] = [];
  // devs are sorted by hour: the last 24 hours of hour i are devs[i], devs[i − 1], … back to 23 h before.
  for (let i = 0; i < devs.length; i++) {
    const d = devs[i];
    if (!inWindow(d.ms, window)) continue;
    const oldest = d.ms - (shiftHours - 1) * hourMs;
    let sum = 0;
    let n = 0;
    for (let j = i; j >= 0 && devs[j].ms >= oldest; j--) {
      sum += devs[j].deviation;
      n++;
    }
    if (n < minShiftHours) continue;
    const mean = sum / n;
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

/**
 * Spikes minus those that are a sustained shift seen hour by hour: runs of at least `minShiftHours`
 * inside a same-metric shift in the same direction (humidity 14 % up for three days is one shift,
 * not also a 72-hour "spike").
 */
export function withoutShiftSpikes(spikeFindings: readonly ClimateFinding[], shifts: readonly ClimateFinding[]): ClimateFinding[] {
  return spikeFindings.filter(
    (s) =>
      s.duration < minShiftHours ||
      !shifts.some(
        (sh) => sh.metric === s.metric && Math.sign(sh.value) === Math.sign(s.value) && sh.window.from <= s.window.from && s.window.to <= sh.window.to,
      ),
  );
}
