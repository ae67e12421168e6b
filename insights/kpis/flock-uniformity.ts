/**
 * CV and uniformity of one weighing day with a minimum sample and confidence intervals
 * (docs/insights.md, "Uniformity"):
 *
 *   CV % = s / mean · 100            (s the sample standard deviation, n − 1)
 *   uniformity % = share of weights w with |w − mean| ≤ 10 % · mean
 *
 * Sample: one weight per animal. When a weighing carries an animal id (RFID, tag) the animal's
 * weighings of the day count once, as their mean; without ids each WeighVision session (one visit)
 * counts once — the same bird walking onto the scale twice is then counted twice, which nothing in
 * the data can tell apart, so the sample unit is reported ('animal' or 'session').
 *
 * Below 30 units nothing is reported (null with a reason): at n = 30 the CV is known to about
 * ±1/√(2n) ≈ 13 % of itself, and uniformity to about ±17 points — already coarse. Aviagen's
 * sample-weighing guidance asks for more (about 100 birds, or 1 % of the flock, per house); the
 * minimum here only refuses the clearly meaningless.
 *
 * Intervals (95 %): uniformity by the Wilson score interval for a proportion; CV by the normal
 * approximation SE(CV) = CV · √((1 + 2·CV²) / (2n)) (CV as a fraction; Kendall & Stuart).
 */
import type { Weighing } from './flock';
import { mean, round, sampleStdDev } from './stats';

export const uniformityMinimumSample = 30;
export const uniformityBandPct = 10;

export type UniformityResult =
  | {
      status: 'ok';
      day: string;
      sampleUnit: 'animal' | 'session';
      n: number;
      /** Weighings before de-duplication. */
      weighings: number;
      meanKg: number;
      cvPct: number;
      cvCi95Pct: [number, number];
      withinBandPct: number;
      withinBandCi95Pct: [number, number];
      bandPct: number;
    }
  | { status: 'insufficient_sample'; day: string; sampleUnit: 'animal' | 'session'; n: number; weighings: number; minimum: number };

/** One weight per sample unit: per animal id when every weighing has one, else per session. */
export function sampleUnits(weighings: readonly Weighing[]): { unit: 'animal' | 'session'; weightsKg: number[] } {
  const identified = weighings.length > 0 && weighings.every((w) => typeof w.animalId === 'string' && w.animalId.length > 0);
  const groups = new Map<string, number[]>();
  for (const w of weighings) {
    const key = identified ? `animal:${w.animalId as string}` : `session:${w.sessionId}`;
    const list = groups.get(key) ?? [];
    list.push(w.weightKg);
    groups.set(key, list);
  }
  return { unit: identified ? 'animal' : 'session', weightsKg: [...groups.values()].map((g) => mean(g) as number) };
}

function wilson(successes: number, n: number): [number, number] {
  const z = 1.96;
  const p = successes / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)) * 100;
  return [round(Math.max(0, centre * 100 - half), 1), round(Math.min(100, centre * 100 + half), 1)];
}

export function flockUniformity(day: string, weighings: readonly Weighing[], minimum = uniformityMinimumSample): UniformityResult | null {
  const ofDay = weighings.filter((w) => w.day === day && w.weightKg > 0);
  if (ofDay.length === 0) return null;
  const { unit, weightsKg } = sampleUnits(ofDay);
  const n = weightsKg.length;
  if (n < minimum) return { status: 'insufficient_sample', day, sampleUnit: unit, n, weighings: ofDay.length, minimum };
  const m = mean(weightsKg) as number;
  const sd = sampleStdDev(weightsKg) as number;
  const cv = sd / m;
  const seCv = cv * Math.sqrt((1 + 2 * cv * cv) / (2 * n));
  const within = weightsKg.filter((w) => Math.abs(w - m) <= (uniformityBandPct / 100) * m).length;
  return {
    status: 'ok',
    day,
    sampleUnit: unit,
    n,
    weighings: ofDay.length,
    meanKg: round(m, 3),
    cvPct: round(cv * 100, 2),
    cvCi95Pct: [round(Math.max(0, cv - 1.96 * seCv) * 100, 2), round((cv + 1.96 * seCv) * 100, 2)],
    withinBandPct: round((within / n) * 100, 1),
    withinBandCi95Pct: wilson(within, n),
    bandPct: uniformityBandPct,
  };
}
