/**
 * Commercial growing pig (birth to slaughter), mean body weight by age — an INDICATIVE reference.
 *
 * Source: no single published table was transcribed. The points restate widely published
 * commercial milestones — birth about 1.4 kg, weaning at 3 weeks about 6–7 kg, about 30 kg at
 * 10 weeks, about 115–120 kg at 23–24 weeks (e.g. the growth-phase weights in NRC, Nutrient
 * Requirements of Swine, 11th revised edition, 2012, and genetics suppliers' wean-to-finish
 * guides) — rounded, believed within ±15 %. Use it to tell "far behind" from "on track", not for
 * small deviations; a farm should load its genetics supplier's curve (e.g. PIC, Topigs Norsvin) as
 * a breed key of its own.
 */
import type { StandardCurve } from './standard-curve';

export const pigReference: StandardCurve = {
  key: 'pig_reference',
  species: 'swine',
  title: 'Commercial growing pig, indicative',
  source:
    'FarmIQ indicative points from published commercial milestones (NRC Nutrient Requirements of Swine 2012 growth phases; suppliers’ wean-to-finish guides); not a transcribed table',
  transcription: 'points at birth, 3, 10, 15, 20 and 24 weeks, rounded, within ±15 %; daily values interpolated log-linearly',
  tolerancePct: 15,
  points: [
    { ageDays: 0, weightKg: 1.4 },
    { ageDays: 21, weightKg: 6.5 },
    { ageDays: 70, weightKg: 30 },
    { ageDays: 105, weightKg: 60 },
    { ageDays: 140, weightKg: 90 },
    { ageDays: 168, weightKg: 118 },
  ],
};
