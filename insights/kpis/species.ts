/**
 * Reference data per species: the thermal comfort band by animal age (domain/climate/bands.ts, the
 * table the alarms share), the reference growth curve and the default target (market) weight. The
 * values are FarmIQ defaults rounded from common broiler and pig management guides
 * (docs/insights.md shows the tables and their sources).
 */
import { bandRowAt, broilerComfortBands, pigComfortBands, type ComfortBand, type ComfortBandRow } from '../../domain/climate/bands';

export type { ComfortBand, ComfortBandRow };

export type Species = 'broiler' | 'swine';

/**
 * Gompertz growth W(t) = A · exp(−b · e^(−k·t)) with t the age in days.
 * A is the mature (asymptotic) weight; b and k shape the reference curve.
 */
export interface GompertzCurve {
  asymptoteKg: number;
  b: number;
  k: number;
}

export interface SpeciesReference {
  comfortBands: readonly ComfortBandRow[];
  growth: GompertzCurve;
  targetWeightKg: number;
}

export const speciesReference: Record<Species, SpeciesReference> = {
  // Broilers: 42 g at hatch, about 2.2 kg at 35 d and 2.9 kg at 42 d on the reference curve.
  broiler: {
    comfortBands: broilerComfortBands,
    growth: { asymptoteKg: 6.5, b: 5.04, k: 0.0436 },
    targetWeightKg: 2.5,
  },
  // Pigs: 1.4 kg at birth, about 120 kg at 180 d on the reference curve.
  swine: {
    // Room temperature by production stage (farrowing room for the sow, weaners, growers, finishers),
    // never the piglets' creep-area temperature: a room sensor does not measure the creep.
    comfortBands: pigComfortBands,
    growth: { asymptoteKg: 300, b: 5.37, k: 0.00982 },
    targetWeightKg: 115,
  },
};

/** The reference of a farm's species, or null for a species FarmIQ has no reference for. */
export function referenceFor(species: string): SpeciesReference | null {
  return Object.prototype.hasOwnProperty.call(speciesReference, species) ? speciesReference[species as Species] : null;
}

/**
 * The comfort band for an age: the species table row for that age; the farm's own band only when
 * the age is unknown (no placement date). A farm band no longer overrides every age and barn: an
 * 18–22 °C farm setting would call every brooding day of a broiler flock "too warm". Flock and barn
 * overrides are resolved by domain/climate/bands.ts resolveBand. Null when nothing applies.
 */
export function comfortBand(farmBand: ComfortBand | null, bands: readonly ComfortBandRow[] | null, ageDays: number | null): ComfortBand | null {
  const row = bands ? bandRowAt(bands, ageDays) : null;
  if (row) return { minC: row.minC, maxC: row.maxC };
  return farmBand && ageDays === null ? farmBand : null;
}
