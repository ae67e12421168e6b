/**
 * The flock KPIs of insights/kpis/flock-kpis.ts as the API writes them (snake_case of the same
 * fields), for GET …/kpis. Each part says what it was computed from (its basis) beside the figure.
 */
import { z } from 'zod';
import { day } from './farm-data-http';

const num = z.number();
const pair = z.tuple([num, num]);

const mortalitySchema = z.object({
  head_placed: z.number().int(),
  deaths: z.number().int(),
  culls: z.number().int(),
  head_alive: z.number().int(),
  mortality_pct: num,
  culls_pct: num,
  depletion_pct: num,
  livability_pct: num,
});

const feedSchema = z.object({
  feed_kg: num,
  animal_days: num,
  per_animal_day_kg: num.nullable(),
  days_in_barn: z.number().int(),
  zero_feed_days: z.array(day),
});

const adgSchema = z.object({
  g_per_day: num,
  standard_error_g_per_day: num.nullable(),
  ci95_g_per_day: pair.nullable(),
  weighing_days: z.number().int(),
  first_day: day,
  last_day: day,
});

const fcrSchema = z.object({
  flock_gain_kg: num,
  lost_weight_kg: num,
  cumulative: num.nullable(),
  mortality_adjusted: num.nullable(),
  as_of_day: day,
  feed_kg: num,
  placement_weight_source: z.enum(['recorded', 'breed_standard']),
});

const sample = { day, sample_unit: z.enum(['animal', 'session']), n: z.number().int(), weighings: z.number().int() };
const uniformitySchema = z.union([
  z.object({
    status: z.literal('ok'),
    ...sample,
    mean_kg: num,
    cv_pct: num,
    cv_ci95_pct: pair,
    within_band_pct: num,
    within_band_ci95_pct: pair,
    band_pct: num,
  }),
  z.object({ status: z.literal('insufficient_sample'), ...sample, minimum: z.number().int() }),
]);

const versusStandardSchema = z.object({
  standard_key: z.string(),
  selected_by: z.enum(['breed', 'species_default']),
  source: z.string(),
  age_days: num,
  weight_kg: num,
  standard_kg: num,
  deviation_pct: num,
  tolerance_pct: num,
  verdict: z.enum(['below', 'within', 'above']),
});

const forecastSchema = z.union([
  z.object({
    status: z.literal('insufficient_evidence'),
    reason: z.enum(['too_few_weighing_days', 'age_span_too_short', 'no_growth']),
    weighing_days: z.number().int(),
    span_days: num,
    minimum_days: z.number().int(),
    minimum_span_days: z.number().int(),
  }),
  z.object({
    status: z.literal('ok'),
    weighing_days: z.number().int(),
    span_days: num,
    b: num,
    k: num,
    residual_sd: num,
    days_to_target: num.nullable(),
    days_to_target_ci95: z.tuple([num, num.nullable()]).nullable(),
    weight_at_forecast_kg: num,
    weight_at_forecast_ci95_kg: pair,
  }),
]);

export const flockKpisSchema = z
  .object({
    flock_id: z.uuid(),
    breed: z.string().nullable(),
    placed_day: day,
    head_placed: z.number().int(),
    head_count: z.number().int(),
    age_days_at_end: z.number().int(),
    mortality: mortalitySchema,
    feed: feedSchema.meta({ description: 'feed per animal-day over the stay' }),
    adg: adgSchema.nullable(),
    fcr: fcrSchema.nullable().meta({ description: 'as of the last weighing day: feed of the days before it' }),
    fcr_missing_reason: z.enum(['no_weighing', 'no_placement_weight']).nullable(),
    epef: num.nullable(),
    uniformity: uniformitySchema.nullable(),
    versus_standard: versusStandardSchema.nullable(),
    forecast: forecastSchema.nullable(),
  })
  .meta({ id: 'FlockKpis' });
