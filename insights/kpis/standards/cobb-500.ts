/**
 * Cobb 500 broiler, as-hatched (mixed sex) body weight by age.
 *
 * Source: Cobb-Vantress, "Cobb 500 Broiler Performance & Nutrition Supplement", 2022 edition,
 * as-hatched performance objectives (editions differ: day 0 is 42 g and day 7 about 200 g in each).
 *
 * Transcribed: weekly points only (days 0, 7 … 49), rounded to 10 g. They were NOT checked line by
 * line against the PDF when shipped: each is believed to lie within ±8 % of the published figure
 * (the Cobb editions 2018–2022 moved by several per cent). Daily values between the points
 * are interpolated (log-linear) by breed-standard.ts. Replace with the exact table before using the
 * comparison as a contract figure.
 */
import type { StandardCurve } from './standard-curve';

export const cobb500: StandardCurve = {
  key: 'cobb_500',
  species: 'broiler',
  title: 'Cobb 500 broiler, as-hatched',
  source: 'Cobb-Vantress, Cobb 500 Broiler Performance & Nutrition Supplement, 2022, as-hatched objectives',
  transcription: 'weekly points days 0–49, rounded to 10 g, within ±8 % of the published table; daily values interpolated log-linearly',
  tolerancePct: 8,
  points: [
    { ageDays: 0, weightKg: 0.042 },
    { ageDays: 7, weightKg: 0.2 },
    { ageDays: 14, weightKg: 0.54 },
    { ageDays: 21, weightKg: 1.06 },
    { ageDays: 28, weightKg: 1.71 },
    { ageDays: 35, weightKg: 2.4 },
    { ageDays: 42, weightKg: 3.08 },
    { ageDays: 49, weightKg: 3.7 },
  ],
};
