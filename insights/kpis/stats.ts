/**
 * Descriptive statistics the KPIs are built from. Pure functions over plain numbers: no I/O, no
 * clock, no randomness, so every KPI can be checked against a hand-computed fixture.
 */

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Arithmetic mean; null for an empty list. */
export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : sum(values) / values.length;
}

/** Median (the mean of the two middle values for an even count); null for an empty list. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median absolute deviation from the median: median(|xᵢ − median(x)|). Unscaled. */
export function medianAbsoluteDeviation(values: readonly number[], centre = median(values)): number | null {
  if (centre === null) return null;
  return median(values.map((v) => Math.abs(v - centre)));
}

/** Sample standard deviation (n − 1 in the denominator); null below two values. */
export function sampleStdDev(values: readonly number[]): number | null {
  const m = mean(values);
  if (m === null || values.length < 2) return null;
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export interface LinearFit {
  intercept: number;
  slope: number;
  /** Points the fit used. */
  n: number;
}

/** Ordinary least squares y = intercept + slope·x; null below two distinct x values. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit | null {
  if (xs.length !== ys.length) throw new RangeError(`linearFit needs as many x as y values (${xs.length} vs ${ys.length})`);
  const mx = mean(xs);
  const my = mean(ys);
  if (mx === null || my === null) return null;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope, n: xs.length };
}

/** Rounds half away from zero to `decimals` places; keeps the summary free of float noise. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(value) * f + Number.EPSILON * f) / f;
  return value < 0 ? -r : r;
}

/** round() that passes null through. */
export function roundOrNull(value: number | null, decimals: number): number | null {
  return value === null || !Number.isFinite(value) ? null : round(value, decimals);
}
