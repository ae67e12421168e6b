/**
 * Average daily gain from a least-squares line through every weighing day of the period
 * (docs/insights.md, "ADG"):
 *
 *   W̄_d = a + ADG · t_d      (ordinary least squares over the daily mean weights)
 *   SE(ADG) = s / √Sxx,  s² = Σ residual² / (n − 2),  Sxx = Σ (t_d − t̄)²
 *
 * Each weighing day is one point, not weighted by its number of sessions: the day-to-day error of
 * a daily mean (which birds walk onto the scale, at what time of day) is larger than its sampling
 * error, and weighting by sessions would let one busy day set the slope. A straight line is the
 * usual ADG over a period of one to three weeks; over a whole cycle gain is not linear (use the
 * growth curve). With two days the line is exact and its error unknown (SE null); with one day there
 * is no ADG.
 */
import { daysBetween } from '../../domain/calendar/days';
import { linearFit, round, roundOrNull } from './stats';
import { studentT975 } from './student-t';

export interface DailyMeanWeight {
  day: string;
  meanKg: number;
  /** Weighings behind the mean; days with none are ignored. */
  weighings: number;
}

export interface Adg {
  gPerDay: number;
  /** Standard error of the slope, g/day; null below three weighing days. */
  standardErrorGPerDay: number | null;
  /** 95 % confidence interval of the slope (t with n − 2 df); null below three weighing days. */
  ci95GPerDay: [number, number] | null;
  weighingDays: number;
  firstDay: string;
  lastDay: string;
}

export function adgFromWeighings(daily: readonly DailyMeanWeight[]): Adg | null {
  const days = daily.filter((d) => d.weighings > 0 && d.meanKg > 0).sort((a, b) => a.day.localeCompare(b.day));
  if (days.length < 2) return null;
  const first = days[0].day;
  const xs = days.map((d) => daysBetween(first, d.day));
  const ys = days.map((d) => d.meanKg);
  const line = linearFit(xs, ys);
  if (!line) return null;
  let se: number | null = null;
  let ci: [number, number] | null = null;
  if (days.length >= 3) {
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sxx = xs.reduce((n, x) => n + (x - mx) ** 2, 0);
    const rss = xs.reduce((n, x, i) => n + (ys[i] - (line.intercept + line.slope * x)) ** 2, 0);
    se = Math.sqrt(rss / (days.length - 2) / sxx);
    const t = studentT975(days.length - 2) as number;
    ci = [round((line.slope - t * se) * 1000, 1), round((line.slope + t * se) * 1000, 1)];
  }
  return {
    gPerDay: round(line.slope * 1000, 1),
    standardErrorGPerDay: roundOrNull(se === null ? null : se * 1000, 2),
    ci95GPerDay: ci,
    weighingDays: days.length,
    firstDay: first,
    lastDay: days[days.length - 1].day,
  };
}
