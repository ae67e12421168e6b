/**
 * Feed conversion ratio of a flock to date (docs/insights.md, "FCR"): feed eaten per kg of live
 * weight produced (Aviagen, Ross Broiler Management Handbook, "FCR" and "mortality-corrected FCR").
 * As of a weighing day D, with N₀ head placed at W₀ kg, N_D alive on D at mean weight W_D, and the
 * animals lost before D weighing W_i each when they died:
 *
 *   cumulative FCR            = F / (N_D · W_D − N₀ · W₀)
 *   mortality-adjusted FCR    = F / (N_D · (W_D − W₀) + Σ_lost (W_i − W₀))
 *                             = F / (N_D · W_D + Σ_lost W_i − N₀ · W₀)
 *
 * F = feed of the days placement ≤ d < D (what grew the flock to the weight measured on D). The
 * first charges the flock with the feed the dead ate and gives nothing back for it; the second
 * credits the weight the dead had put on, so it shows the feed efficiency of the birds themselves.
 * Null when there is no gain.
 */
import { round } from './stats';

export interface FcrInputs {
  feedKg: number;
  headPlaced: number;
  placementWeightKg: number;
  headAlive: number;
  meanWeightKg: number;
  /** Weight of each lost animal when it died (recorded, or estimated from the weighings). */
  lostWeightsKg: readonly number[];
}

export interface Fcr {
  /** N_D · W_D − N₀ · W₀, kg. */
  flockGainKg: number;
  /** Weight of the animals lost, kg. */
  lostWeightKg: number;
  cumulative: number | null;
  mortalityAdjusted: number | null;
}

export function flockFcr(input: FcrInputs): Fcr {
  const placed = input.headPlaced * input.placementWeightKg;
  const gain = input.headAlive * input.meanWeightKg - placed;
  const lost = input.lostWeightsKg.reduce((n, w) => n + w, 0);
  const adjustedGain = gain + lost;
  const ok = input.feedKg > 0;
  return {
    flockGainKg: round(gain, 3),
    lostWeightKg: round(lost, 3),
    cumulative: ok && gain > 0 ? round(input.feedKg / gain, 3) : null,
    mortalityAdjusted: ok && adjustedGain > 0 ? round(input.feedKg / adjustedGain, 3) : null,
  };
}
