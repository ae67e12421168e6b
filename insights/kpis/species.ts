/**
 * Reference data per species: the thermal comfort band by animal age, the reference growth curve
 * and the default target (market) weight. The values are FarmIQ defaults rounded from common
 * broiler and pig management guides (docs/insights.md shows the tables and their sources); a farm
 * with its own comfort band (farms.comfort_temp_min_c / _max_c) uses that instead of the table.
 */

export type Species = 'broiler' | 'swine';

export interface ComfortBandRow {
  /** First age (days) the row applies to; the row holds until the next row's fromAgeDays. */
  fromAgeDays: number;
  minC: number;
  maxC: number;
}

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
    comfortBands: [
      { fromAgeDays: 0, minC: 30, maxC: 34 },
      { fromAgeDays: 4, minC: 28, maxC: 32 },
      { fromAgeDays: 8, minC: 25, maxC: 29 },
      { fromAgeDays: 15, minC: 22, maxC: 26 },
      { fromAgeDays: 22, minC: 20, maxC: 24 },
      { fromAgeDays: 29, minC: 18, maxC: 22 },
    ],
    growth: { asymptoteKg: 6.5, b: 5.04, k: 0.0436 },
    targetWeightKg: 2.5,
  },
  // Pigs: 1.4 kg at birth, about 120 kg at 180 d on the reference curve.
  swine: {
    comfortBands: [
      { fromAgeDays: 0, minC: 28, maxC: 32 },
      { fromAgeDays: 8, minC: 26, maxC: 30 },
      { fromAgeDays: 28, minC: 22, maxC: 26 },
      { fromAgeDays: 70, minC: 16, maxC: 22 },
    ],
    growth: { asymptoteKg: 300, b: 5.37, k: 0.00982 },
    targetWeightKg: 115,
  },
};

/** The reference of a farm's species, or null for a species FarmIQ has no reference for. */
export function referenceFor(species: string): SpeciesReference | null {
  return Object.prototype.hasOwnProperty.call(speciesReference, species) ? speciesReference[species as Species] : null;
}

export interface ComfortBand {
  minC: number;
  maxC: number;
}

/**
 * The comfort band for an age: the farm's own band when configured (it wins for every age), else
 * the species table row for that age. Null when neither is known (no band, or no age).
 */
export function comfortBand(farmBand: ComfortBand | null, bands: readonly ComfortBandRow[] | null, ageDays: number | null): ComfortBand | null {
  if (farmBand) return farmBand;
  if (!bands || ageDays === null || ageDays < 0) return null;
  let row: ComfortBandRow | undefined;
  for (const r of bands) if (r.fromAgeDays <= ageDays) row = r;
  return row ? { minC: row.minC, maxC: row.maxC } : null;
}
