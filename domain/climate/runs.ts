/**
 * Consecutive hours that meet a condition, merged into one run: an alarm is raised once for a
 * barn that stays above its limit for six hours, not six times. A missing hour ends a run.
 */
import { hourMs, hourStart, type HourValue } from './metrics';

export interface HourRun {
  /** Start of the first hour and end of the last hour, epoch ms. */
  fromMs: number;
  toMs: number;
  hours: HourValue[];
}

export function runsOf(hours: readonly HourValue[], holds: (h: HourValue) => boolean): HourRun[] {
  const runs: HourRun[] = [];
  let current: HourRun | null = null;
  for (const { h, start } of hours.map((h) => ({ h, start: hourStart(h) })).sort((a, b) => a.start - b.start)) {
    if (!holds(h)) {
      current = null;
      continue;
    }
    if (current && current.toMs === start) {
      current.hours.push(h);
      current.toMs = start + hourMs;
    } else {
      current = { fromMs: start, toMs: start + hourMs, hours: [h] };
      runs.push(current);
    }
  }
  return runs;
}
