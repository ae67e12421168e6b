/**
 * Payloads of the flock (placement) events: a flock placed in a barn, one day's deaths and culls,
 * the flock leaving the barn (docs/flocks.md). The flock id is what WeighVision sessions carry as
 * `batch_id` (spec §3).
 */
import { z } from 'zod';
import { topicSegment } from './envelope';
import { eventTime, int32, positiveQuantity, text } from './storable';

/** The species names insights/kpis/species.ts already uses. */
export const flockSpecies = ['broiler', 'swine'] as const;
export type FlockSpecies = (typeof flockSpecies)[number];

export const flockSexes = ['mixed', 'male', 'female'] as const;
export type FlockSex = (typeof flockSexes)[number];

/** Who counted the day's losses: a counter in the barn (MQTT) or a person (the operator API). */
export const mortalitySources = ['device', 'operator'] as const;
export type MortalitySource = (typeof mortalitySources)[number];

/** A calendar day, `YYYY-MM-DD`, between 2000 and 2099 (the event-time bounds of storable.ts). */
export const farmDay = z.iso.date().refine((d) => d >= '2000-01-01' && d < '2100-01-01', 'must be a day from 2000-01-01 to 2099-12-31');

/** Bigger than any barn holds (a broiler house is 20-60 thousand birds); keeps sums far inside int32. */
const maxHead = 1_000_000;

/**
 * The mean body weight a flock of the species can plausibly have at placement, kg. A day-old
 * broiler chick weighs about 0.035–0.050 kg and no broiler reaches 6 kg; a newborn piglet about
 * 1.4 kg, a weaner 6–8 kg, a pig placed for finishing about 30 kg, none 400 kg. Outside these a
 * figure is a slip of units (grams typed as kg) or of a digit, and would skew every FCR after it.
 */
export const placementWeightBoundsKg: Record<FlockSpecies, { min: number; max: number }> = {
  broiler: { min: 0.02, max: 6 },
  swine: { min: 0.5, max: 400 },
};

/** flock.placed's fields before the cross-field check (the operator API extends them). */
export const flockPlacedFields = z.object({
  flock_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  placed_at: eventTime,
  species: z.enum(flockSpecies),
  /** Breed or line, e.g. `ross-308`, `cobb-500`; free text within the identifier pattern. */
  breed: topicSegment,
  /** Left out when not known. */
  sex: z.enum(flockSexes).optional(),
  head_count: int32.min(1).max(maxHead),
  age_at_placement_days: int32.min(0).max(3650),
  /**
   * Mean body weight of the animals at placement, kg, when they were weighed (a sample of the
   * chick boxes, the pigs on arrival). Optional: events without it (every edge before it existed)
   * stay valid, and the KPIs fall back to the breed standard's weight at that age.
   */
  placement_weight_kg: positiveQuantity(400).optional(),
});

/** A placement weight outside the species' plausible range, reported on its own field. */
export function checkPlacementWeight(p: { species: FlockSpecies; placement_weight_kg?: number }, ctx: z.RefinementCtx): void {
  const w = p.placement_weight_kg;
  const bounds = placementWeightBoundsKg[p.species];
  if (w !== undefined && bounds && (w < bounds.min || w > bounds.max)) {
    ctx.addIssue({
      code: 'custom',
      path: ['placement_weight_kg'],
      message: `a ${p.species} flock's mean weight at placement must be ${bounds.min}–${bounds.max} kg`,
    });
  }
}

export const flockPlaced = flockPlacedFields.superRefine(checkPlacementWeight);

export const flockMortalityRecorded = z.object({
  flock_id: z.uuid(),
  /** The farm day the counts are for (not the time they were sent). */
  day: farmDay,
  dead: int32.min(0).max(maxHead),
  culled: int32.min(0).max(maxHead),
  reason: text(1, 200).optional(),
  /** Set by the edge from the channel (MQTT: device, HTTP: operator); what a device claims is overwritten. */
  source: z.enum(mortalitySources).optional(),
});

export const flockDepopulated = z.object({
  flock_id: z.uuid(),
  farm_id: topicSegment,
  barn_id: topicSegment,
  depopulated_at: eventTime,
});

export type FlockPlacedPayload = z.infer<typeof flockPlaced>;
export type FlockMortalityPayload = z.infer<typeof flockMortalityRecorded>;
export type FlockDepopulatedPayload = z.infer<typeof flockDepopulated>;
