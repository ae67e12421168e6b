/**
 * The vocabulary of the climate judgement: what the insights report and the alarms raise on. Codes
 * are stable API; a new kind of finding gets a new code, an existing code never changes meaning.
 */
import type { ClimateMetric } from './metrics';

export const findingCodes = ['above_limit', 'below_limit', 'above_band', 'below_band', 'sustained_shift', 'spike', 'feed_outage', 'feed_drop'] as const;

export type FindingCode = (typeof findingCodes)[number];

export interface ClimateFinding {
  code: FindingCode;
  metric: ClimateMetric | 'feed';
  /** [from, to): the first hour (or day) of the run to the end of its last one, ISO 8601 instants. */
  window: { from: string; to: string };
  /** Hours (feed: days) in the run. */
  duration: number;
  /**
   * The worst value of the run: the highest (lowest) hour mean for limits and bands, the largest
   * deviation from the barn's own baseline for shifts and spikes, the day's feed for feed findings.
   */
  value: number;
  /** What `value` was compared with: the limit, the band edge, the deviation or feed threshold. */
  threshold: number;
  unit: string;
  /** The barn's own expected value where the finding is relative to it (profile and feed). */
  baseline?: number;
  /** Id of the rule in limits.ts / bands.ts / profile.ts / feed.ts (docs/insights.md lists each). */
  source: string;
}

export function compareFindings(a: ClimateFinding, b: ClimateFinding): number {
  return (
    a.window.from.localeCompare(b.window.from) || a.metric.localeCompare(b.metric) || a.code.localeCompare(b.code) || a.window.to.localeCompare(b.window.to)
  );
}
