/**
 * The units each telemetry metric accepts, and the one FarmIQ stores it in. A reading in a unit
 * that converts (°F, K → °C; g, lb → kg; ppb → ppm) is converted at ingest and keeps what the
 * sensor sent in `source_value` / `source_unit`; a unit the metric does not accept is refused with
 * `unit_not_accepted`, so a °F sensor is never averaged with °C ones. Metrics not listed here are
 * stored as sent (their unit is free text, as before). Pure: the bridge and tests use it alike.
 */
import { reject, type Rejection } from './rejects';

interface MetricUnits {
  /** The unit stored (and what rollups, KPIs and limits read). */
  canonical: string;
  /** Accepted spelling → conversion to the canonical unit. Keys are compared case-sensitively. */
  accepted: Record<string, (v: number) => number>;
}

const same = (v: number) => v;
// Rounded to 1e-9 so 77 °F is exactly 25 °C, not 24.999999999999996.
const round9 = (v: number) => Math.round(v * 1e9) / 1e9;

const celsius: MetricUnits = {
  canonical: 'C',
  accepted: {
    C: same,
    '°C': same,
    degC: same,
    celsius: same,
    F: (v) => round9(((v - 32) * 5) / 9),
    '°F': (v) => round9(((v - 32) * 5) / 9),
    degF: (v) => round9(((v - 32) * 5) / 9),
    fahrenheit: (v) => round9(((v - 32) * 5) / 9),
    K: (v) => round9(v - 273.15),
  },
};

const ppm: MetricUnits = { canonical: 'ppm', accepted: { ppm: same, ppb: (v) => round9(v / 1000) } };

export const metricUnits: Readonly<Record<string, MetricUnits>> = {
  temperature: celsius,
  humidity: { canonical: '%', accepted: { '%': same, '%RH': same, RH: same, percent: same } },
  co2: { canonical: 'ppm', accepted: { ppm: same } },
  nh3: ppm,
  ammonia: ppm,
  weight: { canonical: 'kg', accepted: { kg: same, g: (v) => round9(v / 1000), lb: (v) => round9(v * 0.45359237) } },
};

export interface Reading {
  metric: string;
  value: number;
  unit: string;
}

export type NormalisedReading = { ok: true; value: number; unit: string; converted: boolean } | Rejection;

/** The reading in its metric's canonical unit, or the refusal of its unit. */
export function normaliseReading(r: Reading): NormalisedReading {
  if (!Object.prototype.hasOwnProperty.call(metricUnits, r.metric)) return { ok: true, value: r.value, unit: r.unit, converted: false };
  const units = metricUnits[r.metric];
  const convert = Object.prototype.hasOwnProperty.call(units.accepted, r.unit) ? units.accepted[r.unit] : undefined;
  if (!convert) {
    return reject(
      'unit_not_accepted',
      `${r.metric} is accepted in ${Object.keys(units.accepted).join(', ')} (stored as ${units.canonical}), not ${JSON.stringify(r.unit.slice(0, 16))}`,
    );
  }
  const value = convert(r.value);
  return { ok: true, value, unit: units.canonical, converted: r.unit !== units.canonical };
}
