/**
 * A climate excursion: a barn pushed out of its normal climate for a while (a fan bank failing on a
 * hot afternoon, a heater stuck on, the litter giving off ammonia), so that a limit is broken and an
 * alarm can be seen to happen; or the barn's climate sensors falling silent. It changes the house's
 * true climate, before sensor noise, so every sensor of the barn sees it. The change ramps in over
 * `rampSeconds` from the start, holds until the end, and is gone after it (the controller recovers).
 */
import type { ClimateMetric } from '../../domain/climate/metrics';
import type { ClimateState } from './climate';

interface Window {
  barnId: string;
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

export type Excursion =
  | (Window & { kind: 'shift'; metric: ClimateMetric; rampSeconds: number; change: { add: number } | { to: number } })
  | (Window & { kind: 'sensor_silent' });

const stateKey = {
  temperature: 'temperatureC',
  humidity: 'humidityPct',
  co2: 'co2Ppm',
  nh3: 'nh3Ppm',
} as const satisfies Record<ClimateMetric, keyof ClimateState>;

/** What a sensor can read, whatever the excursion asks for: no negative gas, no humidity above 100 %. */
export const physical: Record<ClimateMetric, [number, number]> = {
  temperature: [-60, 90],
  humidity: [0, 100],
  co2: [0, 100_000],
  nh3: [0, 1000],
};

/** How much of the excursion's change applies at `atMs`: 0 outside its window, rising to 1 over the ramp. */
export function excursionShare(e: Excursion, atMs: number): number {
  if (atMs < e.startMs || atMs >= e.endMs) return 0;
  if (e.kind === 'sensor_silent' || e.rampSeconds <= 0) return 1;
  return Math.min(1, (atMs - e.startMs) / (e.rampSeconds * 1000));
}

/** The barn's climate at `at` with its excursions applied in order (later ones on top of earlier ones). */
export function withExcursions(climate: ClimateState, barnId: string, at: Date, excursions: readonly Excursion[]): ClimateState {
  let out = climate;
  for (const e of excursions) {
    if (e.kind !== 'shift' || e.barnId !== barnId) continue;
    const share = excursionShare(e, at.getTime());
    if (share === 0) continue;
    const key = stateKey[e.metric];
    const normal = out[key];
    const target = 'add' in e.change ? normal + e.change.add : e.change.to;
    const [lo, hi] = physical[e.metric];
    out = { ...out, [key]: Math.min(hi, Math.max(lo, normal + (target - normal) * share)) };
  }
  return out;
}

/** Whether the barn's climate sensors are silent at `at`. */
export function sensorsSilent(barnId: string, at: Date, excursions: readonly Excursion[]): boolean {
  return excursions.some((e) => e.kind === 'sensor_silent' && e.barnId === barnId && excursionShare(e, at.getTime()) > 0);
}
