/**
 * The histogram of one weighing day's weights: about ten bins of a round width (1, 2 or 5 × 10ⁿ
 * grams) from the bin that holds the lightest weight to the one that holds the heaviest, each
 * bin [from, to). Worked in whole grams (weights are stored to the gram), so no bin edge is a float
 * that a weight falls on the wrong side of.
 */

export interface WeightBin {
  fromKg: number;
  toKg: number;
  count: number;
}

const targetBins = 10;

/** The smallest 1-2-5 step of at least `g` grams. */
function roundStep(g: number): number {
  for (let decade = 1; ; decade *= 10) {
    for (const m of [1, 2, 5]) if (m * decade >= g) return m * decade;
  }
}

export function weightBins(weightsKg: readonly number[]): WeightBin[] {
  const grams = weightsKg.filter((w) => w > 0).map((w) => Math.round(w * 1000));
  if (grams.length === 0) return [];
  const min = Math.min(...grams);
  const max = Math.max(...grams);
  const step = roundStep(Math.max(1, (max - min) / targetBins));
  const first = Math.floor(min / step);
  const counts = new Array<number>(Math.floor(max / step) - first + 1).fill(0);
  for (const g of grams) counts[Math.floor(g / step) - first] += 1;
  return counts.map((count, i) => ({ fromKg: ((first + i) * step) / 1000, toKg: ((first + i + 1) * step) / 1000, count }));
}
