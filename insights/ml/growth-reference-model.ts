/**
 * cloud-ml-model-service's model, `growth-reference/1`: a small deterministic forecaster that
 * scales the species' reference growth curve to the flock.
 *
 *   performance index  p = W_observed / W_ref(age)
 *   forecast           W(age + h) = p · W_ref(age + h)
 *   days to target     the t where p · W_ref(t) = target, minus today's age
 *   feed to target     (target − W_observed) · FCR · animals
 *
 * W_ref is the species' reference Gompertz curve (insights/kpis/species.ts). Where the summary's own
 * forecast extrapolates the flock's fitted curve, this one asks "if the flock keeps its current
 * standing against the breed curve", a second opinion that needs a single weighing. Inputs are
 * per-barn features from the summary, never readings.
 */
import { z } from 'zod';
import type { MlPredictions } from '../feature-summary';
import { addDays } from '../../domain/calendar/days';
import { gompertzWeight, timeToWeight } from '../kpis/growth-curve';
import { referenceFor } from '../kpis/species';
import { round, roundOrNull } from '../kpis/stats';

export const growthReferenceModelId = 'growth-reference/1';

export const predictRequestSchema = z.strictObject({
  model: z.literal(growthReferenceModelId).default(growthReferenceModelId),
  species: z.string().min(1).max(64),
  horizons_days: z.array(z.number().int().min(1).max(365)).min(1).max(8).default([7, 14, 21]),
  barns: z
    .array(
      z.strictObject({
        barn_id: z.string().min(1).max(128),
        age_days: z.number().int().min(0).max(3650),
        last_weighing_day: z.iso.date(),
        mean_weight_kg: z.number().positive(),
        animal_count: z.number().int().min(0).nullable(),
        fcr: z.number().positive().nullable(),
        target_weight_kg: z.number().positive(),
      }),
    )
    .max(64),
});

export type PredictRequest = z.input<typeof predictRequestSchema>;

export class UnknownSpecies extends Error {
  constructor(species: string) {
    super(`no reference growth curve for species ${JSON.stringify(species)}`);
    this.name = 'UnknownSpecies';
  }
}

export function predictGrowth(input: PredictRequest): MlPredictions {
  const req = predictRequestSchema.parse(input);
  const reference = referenceFor(req.species);
  if (!reference) throw new UnknownSpecies(req.species);
  const curve = reference.growth;
  return {
    model: growthReferenceModelId,
    barns: req.barns.map((b) => {
      const p = b.mean_weight_kg / gompertzWeight(curve, b.age_days);
      const scaled = (t: number) => p * gompertzWeight(curve, t);
      let daysToTarget: number | null = 0;
      if (b.mean_weight_kg < b.target_weight_kg) {
        const t = timeToWeight(curve, b.target_weight_kg / p);
        daysToTarget = t === null ? null : Math.max(0, t - b.age_days);
      }
      const feedNeeded = b.fcr !== null && b.animal_count ? Math.max(0, b.target_weight_kg - b.mean_weight_kg) * b.fcr * b.animal_count : null;
      return {
        barn_id: b.barn_id,
        performance_index: round(p, 3),
        horizons: req.horizons_days.map((h) => ({ days: h, date: addDays(b.last_weighing_day, h), weight_kg: round(scaled(b.age_days + h), 3) })),
        days_to_target: roundOrNull(daysToTarget, 1),
        feed_needed_kg: roundOrNull(feedNeeded, 1),
      };
    }),
  };
}
