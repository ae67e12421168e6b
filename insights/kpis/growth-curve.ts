/**
 * Growth curve fitted to a barn's daily mean weights: a Gompertz curve with the species' mature
 * weight A held fixed,
 *
 *   W(t) = A · exp(−b · e^(−k·t)),
 *
 * which becomes a straight line after a double log,
 *
 *   y(t) = ln(ln(A / W(t))) = ln b − k·t,
 *
 * so b and k come from an ordinary least-squares line through (tᵢ, ln ln(A/Wᵢ)) — closed form,
 * deterministic, no iterative optimiser to tune. t is the animals' age in days when the barn has a
 * placement date, else days since the first weighing: moving the origin of t only changes b, so the
 * forecasts are the same either way (docs/insights.md, "Growth curve").
 *
 * The fit accepts as few as two points (a barn without a flock and the flattening check use it so);
 * a flock's forecast goes through growth-forecast.ts, which refuses thin evidence and gives intervals.
 */
import { linearFit } from './stats';

export interface WeightPoint {
  t: number;
  weightKg: number;
}

export interface GompertzFit {
  asymptoteKg: number;
  b: number;
  k: number;
  /** Points used: those with 0 < W < A (the double log needs them). */
  points: number;
  /** Root mean square error of the fitted weights against the points, in kg. */
  rmseKg: number;
}

export function gompertzWeight(fit: Pick<GompertzFit, 'asymptoteKg' | 'b' | 'k'>, t: number): number {
  return fit.asymptoteKg * Math.exp(-fit.b * Math.exp(-fit.k * t));
}

/**
 * The fit, or null when fewer than two usable points remain or the points do not grow (k ≤ 0: a
 * flat or shrinking flock has no growth curve to extrapolate).
 */
export function fitGompertz(points: readonly WeightPoint[], asymptoteKg: number): GompertzFit | null {
  const usable = points.filter((p) => p.weightKg > 0 && p.weightKg < asymptoteKg);
  const line = linearFit(
    usable.map((p) => p.t),
    usable.map((p) => Math.log(Math.log(asymptoteKg / p.weightKg))),
  );
  if (!line) return null;
  const k = -line.slope;
  if (!(k > 0)) return null;
  const fit = { asymptoteKg, b: Math.exp(line.intercept), k };
  let squares = 0;
  for (const p of usable) squares += (gompertzWeight(fit, p.t) - p.weightKg) ** 2;
  return { ...fit, points: usable.length, rmseKg: Math.sqrt(squares / usable.length) };
}

/**
 * The t at which the curve reaches `weightKg`: t = (ln b − ln ln(A/W)) / k. Null when the weight
 * is at or beyond the asymptote (never reached) or not positive.
 */
export function timeToWeight(fit: Pick<GompertzFit, 'asymptoteKg' | 'b' | 'k'>, weightKg: number): number | null {
  if (!(weightKg > 0) || weightKg >= fit.asymptoteKg) return null;
  return (Math.log(fit.b) - Math.log(Math.log(fit.asymptoteKg / weightKg))) / fit.k;
}
