/**
 * Feed outages and sharp drops, judged on the days feed was expected (the flock was in the barn
 * and the day is complete). A day with no feed record at all is a zero-feed day: it counts.
 *
 * - outage: an expected day with no feed (≤ 0 kg), or, from dispense times, a gap of more than 12
 *   hours without a dispense — the longest withdrawal Directive 2007/43/EC Annex I point 2 allows
 *   a broiler flock (before slaughter); FarmIQ uses it as the default for every barn;
 * - drop: a day with feed below 75 % of the median of the previous 7 expected days that had feed
 *   (at least 4 of them): a 25 % fall is far beyond the few % a growing flock changes day to day.
 *
 * Consecutive days of one kind make one finding; `value` is the lowest day, `baseline` the median.
 */
import type { ClimateFinding } from './findings';
import { hourMs, medianOf, roundTo } from './metrics';

export interface FeedDay {
  /** Farm-local day, YYYY-MM-DD. */
  day: string;
  kg: number;
}

export const feedTrailingDays = 7;
export const feedMinTrailingDays = 4;
/** A day below (100 − 25) % of the trailing median is a drop. */
export const feedDropPct = 25;
export const feedMaxGapHours = 12;

function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

interface Judged {
  day: string;
  kg: number;
  code: 'feed_outage' | 'feed_drop';
  threshold: number;
  baseline: number | null;
}

/**
 * Outages and drops on `expectedDays` (sorted, complete farm-local days). `days` may omit days
 * (no dispense at all); days outside `expectedDays` are history for the median only when
 * `historyDays` lists them.
 */
export function feedFindings(days: readonly FeedDay[], expectedDays: readonly string[], historyDays: readonly string[] = []): ClimateFinding[] {
  const kgOf = new Map<string, number>();
  for (const d of days) kgOf.set(d.day, (kgOf.get(d.day) ?? 0) + d.kg);
  const judgedDays = new Set(expectedDays);
  const all = [...new Set([...historyDays, ...expectedDays])].sort();
  const fed: number[] = [];
  const judged: Judged[] = [];
  for (const day of all) {
    const kg = kgOf.get(day) ?? 0;
    const trailing = fed.slice(-feedTrailingDays);
    const baseline = trailing.length >= feedMinTrailingDays ? (medianOf(trailing) as number) : null;
    if (judgedDays.has(day)) {
      if (kg <= 0) judged.push({ day, kg, code: 'feed_outage', threshold: 0, baseline: trailing.length ? medianOf(trailing) : null });
      else if (baseline !== null && kg < ((100 - feedDropPct) / 100) * baseline) {
        judged.push({ day, kg, code: 'feed_drop', threshold: ((100 - feedDropPct) / 100) * baseline, baseline });
      }
    }
    if (kg > 0) fed.push(kg);
  }
  const runs: Judged[][] = [];
  for (const j of judged) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (last && last.code === j.code && nextDay(last.day) === j.day) run.push(j);
    else runs.push([j]);
  }
  return runs.map((run) => {
    const worst = run.reduce((w, j) => (j.kg < w.kg ? j : w));
    return {
      code: run[0].code,
      metric: 'feed' as const,
      window: { from: run[0].day, to: nextDay(run[run.length - 1].day) },
      duration: run.length,
      value: roundTo(worst.kg, 3),
      threshold: roundTo(worst.threshold, 3),
      unit: 'kg/day',
      ...(worst.baseline !== null ? { baseline: roundTo(worst.baseline, 3) } : {}),
      source: run[0].code === 'feed_outage' ? 'farmiq_feed_outage_day' : 'farmiq_feed_drop',
    };
  });
}

/**
 * Gaps of more than 12 hours without a dispense inside [from, to), from dispense instants: the
 * real-time form of an outage (the edge sees it before the day is over).
 */
export function feedGaps(dispensedAt: readonly string[], window: { from: string; to: string }, maxGapHours = feedMaxGapHours): ClimateFinding[] {
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  const times = dispensedAt
    .map((t) => Date.parse(t))
    .filter((t) => t >= from && t < to)
    .sort((a, b) => a - b);
  const edges = [from, ...times, to];
  const out: ClimateFinding[] = [];
  for (let i = 1; i < edges.length; i++) {
    const gapHours = (edges[i] - edges[i - 1]) / hourMs;
    if (gapHours > maxGapHours) {
      out.push({
        code: 'feed_outage',
        metric: 'feed',
        window: { from: new Date(edges[i - 1]).toISOString(), to: new Date(edges[i]).toISOString() },
        duration: roundTo(gapHours, 2),
        value: roundTo(gapHours, 2),
        threshold: maxGapHours,
        unit: 'h without feed',
        source: 'farmiq_feed_gap',
      });
    }
  }
  return out;
}
