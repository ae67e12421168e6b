/**
 * European Production Efficiency Factor of a broiler flock (docs/insights.md, "EPEF"; Aviagen,
 * Ross Broiler Management Handbook; also called the European Broiler Index / production efficiency
 * factor in extension literature):
 *
 *   EPEF = livability % × mean live weight kg × 100 / (age days × FCR)
 *
 * e.g. 96 % × 2.5 kg × 100 / (42 d × 1.70) = 336. Broilers only: the index is calibrated to broiler
 * cycles; for other species it is not reported.
 */
import { round } from './stats';

export function epef(input: { species: string; livabilityPct: number; meanWeightKg: number; ageDays: number; fcr: number | null }): number | null {
  if (input.species !== 'broiler' || input.fcr === null || !(input.fcr > 0) || !(input.ageDays > 0)) return null;
  return round((input.livabilityPct * input.meanWeightKg * 100) / (input.ageDays * input.fcr), 1);
}
