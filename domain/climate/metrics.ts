/**
 * The climate metrics FarmIQ judges and the one unit each is judged in. The ingest contract
 * (domain/contracts) converts or rejects other units on arrival; the judgement takes the canonical
 * unit as data and ignores a series in any other unit rather than compare °F with a °C limit.
 */

export type ClimateMetric = 'temperature' | 'humidity' | 'co2' | 'nh3';

export const climateMetrics: readonly ClimateMetric[] = ['temperature', 'humidity', 'co2', 'nh3'];

/** Canonical unit per metric: °C, % relative humidity, ppm (volume) for the two gases. */
export const canonicalUnits: Readonly<Record<ClimateMetric, string>> = {
  temperature: 'C',
  humidity: '%',
  co2: 'ppm',
  nh3: 'ppm',
};

export function isClimateMetric(metric: string): metric is ClimateMetric {
  return (climateMetrics as readonly string[]).includes(metric);
}

/** One hour of one metric in one barn (every sensor of the barn combined). */
export interface HourValue {
  /** Start of the hour, ISO 8601 instant. */
  hour: string;
  /** The farm-local day of the hour (YYYY-MM-DD), which indexes the animals' age; default: the UTC day. */
  localDay?: string;
  value: number;
}

export const hourMs = 3_600_000;

/** An hour whose start is already parsed (the judgement parses each hour once, not in every loop). */
export interface TimedHour extends HourValue {
  ms: number;
}

export function hourStart(h: HourValue): number {
  return (h as Partial<TimedHour>).ms ?? Date.parse(h.hour);
}

export function isoHour(ms: number): string {
  return new Date(ms).toISOString();
}

/** Rounds half away from zero; findings carry no float noise. */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(value) * f + Number.EPSILON * f) / f;
  return value < 0 ? -r : r;
}

export function medianOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
