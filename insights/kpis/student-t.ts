/**
 * Two-sided 95 % quantiles of Student's t, t(0.975, df), from the standard table (e.g. NIST/SEMATECH
 * e-Handbook of Statistical Methods, 1.3.6.7.2). Beyond 30 degrees of freedom the table's 40, 60,
 * 120 rows, then the normal 1.960. Small samples get wide intervals because of these numbers.
 */
const table: readonly number[] = [
  Number.NaN,
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** t(0.975, df); null for df < 1. Between table rows above 30 the next smaller df's (larger) value is used. */
export function studentT975(df: number): number | null {
  if (!(df >= 1)) return null;
  const d = Math.floor(df);
  if (d <= 30) return table[d];
  if (d < 40) return 2.042;
  if (d < 60) return 2.021;
  if (d < 120) return 2.0;
  return d < 1000 ? 1.98 : 1.96;
}
