/**
 * A flock's weight against its breed standard curve (docs/insights.md, "Breed standard"):
 *
 *   standard S(age) by log-linear interpolation between the curve's points
 *                   (ln W is close to linear within a week of early growth; straight lines on W
 *                    would overstate the standard mid-week)
 *   deviation % = (W − S) / S · 100
 *   verdict     = below / above when |deviation| exceeds the curve's stated tolerance, else within
 *
 * The curve is chosen by the flock's breed ('Ross 308', 'ross-308' → ross_308); a pig flock without
 * a known breed falls back to the indicative pig reference; a broiler without a breed gets none
 * (a standard is line-specific: guessing one would show another line's figures as the flock's).
 * Ages beyond the curve are not compared.
 */
import { standardCurves, type StandardCurve } from './standards';
import { round } from './stats';

export function breedKey(breed: string): string {
  return breed
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

export function standardFor(species: string, breed: string | null): { curve: StandardCurve; selectedBy: 'breed' | 'species_default' } | null {
  if (breed) {
    const curve = standardCurves.find((c) => c.key === breedKey(breed) && c.species === species);
    if (curve) return { curve, selectedBy: 'breed' };
  }
  if (species === 'swine') return { curve: standardCurves.find((c) => c.key === 'pig_reference') as StandardCurve, selectedBy: 'species_default' };
  return null;
}

/** S(age) in kg; null outside the curve's ages. */
export function standardWeight(curve: StandardCurve, ageDays: number): number | null {
  const pts = curve.points;
  if (ageDays < pts[0].ageDays || ageDays > pts[pts.length - 1].ageDays) return null;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (ageDays <= b.ageDays) {
      const f = (ageDays - a.ageDays) / (b.ageDays - a.ageDays);
      return Math.exp(Math.log(a.weightKg) + f * (Math.log(b.weightKg) - Math.log(a.weightKg)));
    }
  }
  return pts[pts.length - 1].weightKg;
}

export interface VersusStandard {
  standardKey: string;
  selectedBy: 'breed' | 'species_default';
  source: string;
  ageDays: number;
  weightKg: number;
  standardKg: number;
  deviationPct: number;
  tolerancePct: number;
  verdict: 'below' | 'within' | 'above';
}

export function versusStandard(species: string, breed: string | null, ageDays: number, weightKg: number): VersusStandard | null {
  const chosen = standardFor(species, breed);
  if (!chosen) return null;
  const s = standardWeight(chosen.curve, ageDays);
  if (s === null) return null;
  const deviation = ((weightKg - s) / s) * 100;
  const tol = chosen.curve.tolerancePct;
  return {
    standardKey: chosen.curve.key,
    selectedBy: chosen.selectedBy,
    source: chosen.curve.source,
    ageDays,
    weightKg: round(weightKg, 3),
    standardKg: round(s, 3),
    deviationPct: round(deviation, 1),
    tolerancePct: tol,
    verdict: deviation < -tol ? 'below' : deviation > tol ? 'above' : 'within',
  };
}
