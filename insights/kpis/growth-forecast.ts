/**
 * Days to the target weight from the Gompertz fit (growth-curve.ts), refusing thin evidence and
 * saying how sure it is (docs/insights.md, "Forecasts and their evidence").
 *
 * Evidence: at least 5 distinct weighing days spanning at least 7 days of age, else
 * 'insufficient_evidence' with the reason. Two or three close days make the fitted slope hang on
 * one daily mean (±50 g on one of two days moved the old days-to-target from 11 to 6).
 *
 * Interval: the fit is the least-squares line y = a − k·t on y = ln ln(A / W). The target is reached
 * at t* = (a − y₀) / k, y₀ = ln ln(A / target); its 95 % interval is the classical inverse-prediction
 * (calibration) interval by the delta method,
 *
 *   SE(t*) = (s / k) · √(1/n + (t* − t̄)² / Sxx),   s² = Σ residual² / (n − 2),
 *   t* ± t(0.975, n − 2) · SE(t*),
 *
 * which widens with scatter (s), few days (t with n − 2 degrees of freedom, 1/n), a short span (Sxx)
 * and a far target (t* − t̄). When the slope itself is not significantly positive
 * (g = t² s² / (k² Sxx) ≥ 1, Fieller's condition) the upper end is unbounded (null). The weight on
 * the forecast date gets the matching interval of the line, mapped back through W = A·exp(−e^y).
 * Deterministic: no resampling.
 */
import type { WeightPoint } from './growth-curve';
import { linearFit, round } from './stats';
import { studentT975 } from './student-t';

export const forecastMinimumDays = 5;
export const forecastMinimumSpanDays = 7;

export type GrowthForecast =
  | {
      status: 'insufficient_evidence';
      reason: 'too_few_weighing_days' | 'age_span_too_short' | 'no_growth';
      weighingDays: number;
      spanDays: number;
      minimumDays: number;
      minimumSpanDays: number;
    }
  | {
      status: 'ok';
      weighingDays: number;
      spanDays: number;
      b: number;
      k: number;
      /** Residual standard deviation on the double-log scale. */
      residualSd: number;
      /** Days from the last weighing to the target; 0 when already reached; null when the target is not below A. */
      daysToTarget: number | null;
      /** 95 % interval of daysToTarget; the upper end null when unbounded. */
      daysToTargetCi95: [number, number | null] | null;
      weightAtForecastKg: number;
      weightAtForecastCi95Kg: [number, number];
    };

export interface ForecastInputs {
  points: readonly WeightPoint[];
  asymptoteKg: number;
  targetWeightKg: number;
  /** t of the last weighing day and of the forecast date, on the points' axis. */
  tLast: number;
  tForecast: number;
}

export function growthForecast(input: ForecastInputs): GrowthForecast {
  const A = input.asymptoteKg;
  const usable = input.points.filter((p) => p.weightKg > 0 && p.weightKg < A);
  const ts = [...new Set(usable.map((p) => p.t))];
  const spanDays = ts.length ? Math.max(...ts) - Math.min(...ts) : 0;
  const refuse = (reason: 'too_few_weighing_days' | 'age_span_too_short' | 'no_growth'): GrowthForecast => ({
    status: 'insufficient_evidence',
    reason,
    weighingDays: ts.length,
    spanDays,
    minimumDays: forecastMinimumDays,
    minimumSpanDays: forecastMinimumSpanDays,
  });
  if (ts.length < forecastMinimumDays) return refuse('too_few_weighing_days');
  if (spanDays < forecastMinimumSpanDays) return refuse('age_span_too_short');

  const n = usable.length;
  const xs = usable.map((p) => p.t);
  const line = linearFit(
    xs,
    usable.map((p) => Math.log(Math.log(A / p.weightKg))),
  );
  const k = line ? -line.slope : Number.NaN;
  if (!line || !(k > 0)) return refuse('no_growth');
  const a = line.intercept;
  const mx = xs.reduce((sum, x) => sum + x, 0) / n;
  const sxx = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  const rss = usable.reduce((sum, p) => sum + (Math.log(Math.log(A / p.weightKg)) - (a + line.slope * p.t)) ** 2, 0);
  const s = Math.sqrt(rss / (n - 2));
  const tq = studentT975(n - 2) as number;

  // Weight on the forecast date, with the line's confidence band mapped back.
  const yF = a + line.slope * input.tForecast;
  const halfY = tq * s * Math.sqrt(1 / n + (input.tForecast - mx) ** 2 / sxx);
  const weight = (y: number) => A * Math.exp(-Math.exp(y));

  const base = {
    status: 'ok' as const,
    weighingDays: ts.length,
    spanDays,
    b: round(Math.exp(a), 4),
    k: round(k, 5),
    residualSd: round(s, 5),
    weightAtForecastKg: round(weight(yF), 3),
    // A larger y is a smaller weight: the band's upper y is the lower weight.
    weightAtForecastCi95Kg: [round(weight(yF + halfY), 3), round(weight(yF - halfY), 3)] as [number, number],
  };

  if (!(input.targetWeightKg > 0 && input.targetWeightKg < A)) return { ...base, daysToTarget: null, daysToTargetCi95: null };
  const y0 = Math.log(Math.log(A / input.targetWeightKg));
  const tStar = (a - y0) / k;
  const se = (s / k) * Math.sqrt(1 / n + (tStar - mx) ** 2 / sxx);
  const g = (tq * tq * s * s) / (k * k * sxx);
  const lo = Math.max(0, tStar - tq * se - input.tLast);
  const hi = g >= 1 ? null : Math.max(0, tStar + tq * se - input.tLast);
  return {
    ...base,
    daysToTarget: round(Math.max(0, tStar - input.tLast), 1),
    daysToTargetCi95: [round(lo, 1), hi === null ? null : round(hi, 1)],
  };
}
