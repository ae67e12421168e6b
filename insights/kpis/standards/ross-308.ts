/**
 * Ross 308 broiler, as-hatched (mixed sex) body weight by age.
 *
 * Source: Aviagen, "Ross 308 / Ross 308 FF Broiler: Performance Objectives", 2022 edition, metric
 * section, as-hatched table.
 *
 * Transcribed: weekly points only (days 0, 7 … 49), rounded to 10 g. They were NOT checked line by
 * line against the PDF when shipped: each is believed to lie within ±8 % of the published figure
 * (the 2019 and 2022 editions themselves differ by a few per cent).
 * Daily values between the points are interpolated (log-linear) by breed-standard.ts, not taken from
 * the daily table. Replace with the exact table before using the comparison as a contract figure.
 */
import type { StandardCurve } from './standard-curve';

export const ross308: StandardCurve = {
  key: 'ross_308',
  species: 'broiler',
  title: 'Ross 308 broiler, as-hatched',
  source: 'Aviagen, Ross 308 / Ross 308 FF Broiler: Performance Objectives, 2022, metric as-hatched table',
  transcription: 'weekly points days 0–49, rounded to 10 g, within ±8 % of the published table; daily values interpolated log-linearly',
  tolerancePct: 8,
  points: [
    { ageDays: 0, weightKg: 0.044 },
    { ageDays: 7, weightKg: 0.21 },
    { ageDays: 14, weightKg: 0.57 },
    { ageDays: 21, weightKg: 1.1 },
    { ageDays: 28, weightKg: 1.77 },
    { ageDays: 35, weightKg: 2.47 },
    { ageDays: 42, weightKg: 3.15 },
    { ageDays: 49, weightKg: 3.8 },
  ],
};
