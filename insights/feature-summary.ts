/**
 * The feature summary: everything an insight is written from, and the ONLY thing the LLM (or the
 * template writer) ever receives (spec §5.3 "feature summaries only", DESIGN §4 LLM guardrail).
 *
 * It holds aggregates — KPIs, anomaly findings, fitted curve parameters, forecasts — never a raw
 * reading, rollup row, session or feed event. The schema is strict at every level: an object with
 * any extra key (say, `readings`) is refused at run time by `parseFeatureSummary`, and the TypeScript
 * type derived from it is what the LLM providers accept, so raw telemetry cannot be passed to them
 * at compile time either (test/insights/llm-input.types.ts).
 *
 * Free-text fields (farm and barn names, ids) come from users and devices: they are data, and the
 * prompt quotes them inside a delimited JSON block (insights/llm/prompt.ts).
 */
import { z } from 'zod';
import { findingCodes } from '../domain/climate/findings';

const num = z.number();
const count = z.number().int().min(0);
const day = z.iso.date();
const id = z.string().min(1).max(128);
const name = z.string().max(200);

const band = z.strictObject({ min_c: num, max_c: num });

const metricStats = z.strictObject({
  mean: num,
  min: num,
  max: num,
  hours: count,
  readings: count,
});

const comfort = z.strictObject({
  band_source: z.enum(['farm', 'species_age_table']),
  hours_evaluated: count,
  hours_below: count,
  hours_above: count,
  hours_outside: count,
  share_outside_pct: num.nullable(),
  band_at_start: band.nullable(),
  band_at_end: band.nullable(),
});

const uniformity = z.strictObject({
  day: day,
  weighed: count,
  mean_kg: num,
  cv_pct: num,
  within_band_pct: num,
  band_pct: num,
});

const forecast = z.strictObject({
  method: z.literal('gompertz_fixed_asymptote'),
  time_axis: z.enum(['age', 'days_since_first_weighing']),
  asymptote_kg: num,
  b: num,
  k: num,
  fitted_points: count,
  rmse_kg: num,
  forecast_date: day,
  weight_at_forecast_kg: num,
  feed_needed_kg: num.nullable(),
});

/**
 * The flock KPIs (insights/kpis/flock-kpis.ts), present only when the barn has a recorded flock
 * (placement, head count, losses). Optional, so summaries stored before flocks existed still parse.
 */
const flockKpis = z.strictObject({
  flock_id: id,
  breed: name.nullable(),
  placed_day: day,
  head_placed: count,
  head_count: count,
  age_days_at_end: z.number().int(),
  mortality: z.strictObject({
    deaths: count,
    culls: count,
    mortality_pct: num,
    culls_pct: num,
    depletion_pct: num,
    livability_pct: num,
  }),
  period_losses: z.strictObject({ deaths: count, culls: count, worst_day: z.strictObject({ day: day, depletion_pct: num }).nullable() }),
  feed: z.strictObject({
    feed_kg: num,
    animal_days: num,
    per_animal_day_kg: num.nullable(),
    days_in_barn: count,
    zero_feed_days: z.array(day).max(366),
  }),
  adg: z
    .strictObject({
      g_per_day: num,
      standard_error_g_per_day: num.nullable(),
      ci95_g_per_day: z.tuple([num, num]).nullable(),
      weighing_days: count,
    })
    .nullable(),
  fcr: z
    .strictObject({
      as_of_day: day,
      feed_kg: num,
      flock_gain_kg: num,
      lost_weight_kg: num,
      cumulative: num.nullable(),
      mortality_adjusted: num.nullable(),
      placement_weight_source: z.enum(['recorded', 'breed_standard']),
    })
    .nullable(),
  fcr_missing_reason: z.enum(['no_weighing', 'no_placement_weight']).nullable(),
  epef: num.nullable(),
  uniformity: z
    .discriminatedUnion('status', [
      z.strictObject({
        status: z.literal('ok'),
        day: day,
        sample_unit: z.enum(['animal', 'session']),
        n: count,
        weighings: count,
        mean_kg: num,
        cv_pct: num,
        cv_ci95_pct: z.tuple([num, num]),
        within_band_pct: num,
        within_band_ci95_pct: z.tuple([num, num]),
        band_pct: num,
      }),
      z.strictObject({
        status: z.literal('insufficient_sample'),
        day: day,
        sample_unit: z.enum(['animal', 'session']),
        n: count,
        weighings: count,
        minimum: count,
      }),
    ])
    .nullable(),
  versus_standard: z
    .strictObject({
      standard_key: z.string().max(64),
      selected_by: z.enum(['breed', 'species_default']),
      age_days: num,
      weight_kg: num,
      standard_kg: num,
      deviation_pct: num,
      tolerance_pct: num,
      verdict: z.enum(['below', 'within', 'above']),
    })
    .nullable(),
  forecast: z
    .discriminatedUnion('status', [
      z.strictObject({
        status: z.literal('insufficient_evidence'),
        reason: z.enum(['too_few_weighing_days', 'age_span_too_short', 'no_growth']),
        weighing_days: count,
        span_days: num,
        minimum_days: count,
        minimum_span_days: num,
      }),
      z.strictObject({
        status: z.literal('ok'),
        weighing_days: count,
        span_days: num,
        b: num,
        k: num,
        residual_sd: num,
        days_to_target: num.nullable(),
        days_to_target_ci95: z.tuple([num, num.nullable()]).nullable(),
        weight_at_forecast_kg: num,
        weight_at_forecast_ci95_kg: z.tuple([num, num]),
      }),
    ])
    .nullable(),
});

export const barnFeaturesSchema = z.strictObject({
  barn_id: id,
  barn_name: name,
  animal_count: count.nullable(),
  age_days: z.strictObject({ at_window_start: z.number().int().nullable(), at_window_end: z.number().int().nullable() }),
  climate: z.strictObject({
    temperature_c: metricStats.nullable(),
    humidity_pct: metricStats.nullable(),
    /** Present when the barn's CO2 / NH3 hours were read (ppm). */
    co2_ppm: metricStats.nullable().optional(),
    nh3_ppm: metricStats.nullable().optional(),
    comfort: comfort.nullable(),
    /** Climate findings beyond the reported ones (anomalies.ts reportedFindings); absent when none. */
    findings_omitted: count.optional(),
  }),
  feed: z.strictObject({
    total_kg: num,
    feed_days: count,
    per_animal_per_day_kg: num.nullable(),
  }),
  growth: z.strictObject({
    weighing_days: count,
    first_day: day.nullable(),
    last_day: day.nullable(),
    first_mean_weight_kg: num.nullable(),
    mean_weight_kg: num.nullable(),
    adg_g_per_day: num.nullable(),
    fcr: num.nullable(),
    uniformity: uniformity.nullable(),
    target_weight_kg: num,
    days_to_target: num.nullable(),
    target_reached_on: day.nullable(),
  }),
  forecast: forecast.nullable(),
  flock: flockKpis.optional(),
});

/**
 * A finding of the climate judgement (domain/climate, shared with the alarms): the rule (`code`,
 * `source`, law or guidance), the run it held over ([from, to): ISO instants, or farm-local days
 * for feed days), its worst value and what that was compared with (docs/insights.md, "Climate
 * judgement"). Replaces the window-relative z-scores (`climate_outlier`, `feed_intake_outlier`).
 */
const climateFinding = z.strictObject({
  kind: z.literal('climate_finding'),
  barn_id: id,
  code: z.enum(findingCodes),
  metric: z.enum(['temperature', 'humidity', 'co2', 'nh3', 'feed']),
  from: z.union([z.iso.datetime({ offset: true }), day]),
  to: z.union([z.iso.datetime({ offset: true }), day]),
  duration: num,
  value: num,
  threshold: num,
  unit: z.string().max(32),
  baseline: num.nullable(),
  source: z.string().max(64),
  status: z.enum(['law', 'guidance']),
});

export const anomalySchema = z.discriminatedUnion('kind', [
  climateFinding,
  z.strictObject({
    kind: z.literal('growth_flattening'),
    barn_id: id,
    recent_days: count,
    from_day: day,
    to_day: day,
    observed_gain_kg: num,
    expected_gain_kg: num,
    ratio_pct: num,
    threshold_pct: num,
  }),
  z.strictObject({
    kind: z.literal('scale_vision_disagreement'),
    barn_id: id,
    station_id: id,
    sessions: count,
    median_difference_pct: num,
    share_over_threshold_pct: num,
    threshold_pct: num,
  }),
]);

/** What the ML model service adds (insights/ml): derived predictions, never raw data. */
export const predictionsSchema = z.strictObject({
  model: z.string().min(1).max(64),
  barns: z
    .array(
      z.strictObject({
        barn_id: id,
        performance_index: num,
        horizons: z.array(z.strictObject({ days: count, date: day, weight_kg: num })).max(8),
        days_to_target: num.nullable(),
        feed_needed_kg: num.nullable(),
      }),
    )
    .max(64),
});

export const featureSummarySchemaVersion = 'farmiq.feature-summary/1';

export const featureSummarySchema = z.strictObject({
  schema_version: z.literal(featureSummarySchemaVersion),
  scope: z.strictObject({
    farm_id: id,
    farm_name: name,
    species: z.string().max(64),
    timezone: z.string().max(64),
    barn_id: id.nullable(),
    /** first_day / last_day: the farm-local days of the window's first and last instant. */
    window: z.strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), days: num, first_day: day, last_day: day }),
    forecast_date: day,
  }),
  farm: z.strictObject({
    barns: count,
    animals: count,
    feed_total_kg: num,
    hours_outside_comfort: count,
    anomalies: count,
  }),
  barns: z.array(barnFeaturesSchema).max(64),
  // 64 barns × 8 climate findings (insights/kpis/anomalies.ts maxFindingsPerBarn) and the rest.
  anomalies: z.array(anomalySchema).max(1024),
  data_quality: z.strictObject({
    expected_barn_hours: count,
    temperature_barn_hours: count,
    humidity_barn_hours: count,
    climate_coverage_pct: num.nullable(),
    weighing_sessions: count,
    feed_events: count,
  }),
  predictions: predictionsSchema.optional(),
});

export type FeatureSummary = z.infer<typeof featureSummarySchema>;
export type BarnFeatures = z.infer<typeof barnFeaturesSchema>;
export type Anomaly = z.infer<typeof anomalySchema>;
export type FlockFeatures = z.infer<typeof flockKpis>;
export type MlPredictions = z.infer<typeof predictionsSchema>;

export class FeatureSummaryRejected extends Error {
  constructor(readonly issues: string[]) {
    super(`not a feature summary: ${issues.slice(0, 5).join('; ')}`);
    this.name = 'FeatureSummaryRejected';
  }
}

/** The summary, checked strictly; FeatureSummaryRejected for anything else (extra keys included). */
export function parseFeatureSummary(value: unknown): FeatureSummary {
  const parsed = featureSummarySchema.safeParse(value);
  if (!parsed.success) throw new FeatureSummaryRejected(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return parsed.data;
}
