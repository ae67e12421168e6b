/** The flock KPIs as the feature summary spells them (snake case, no source texts). */
import type { FlockFeatures } from '../feature-summary';
import type { FlockKpis } from './flock-kpis';

export function flockFeatures(k: FlockKpis): FlockFeatures {
  const u = k.uniformity;
  const f = k.forecast;
  return {
    flock_id: k.flockId,
    breed: k.breed,
    placed_day: k.placedDay,
    head_placed: k.headPlaced,
    head_count: k.headCount,
    age_days_at_end: k.ageDaysAtEnd,
    mortality: {
      deaths: k.mortality.deaths,
      culls: k.mortality.culls,
      mortality_pct: k.mortality.mortalityPct,
      culls_pct: k.mortality.cullsPct,
      depletion_pct: k.mortality.depletionPct,
      livability_pct: k.mortality.livabilityPct,
    },
    period_losses: {
      deaths: k.periodLosses.deaths,
      culls: k.periodLosses.culls,
      worst_day: k.periodLosses.worstDay && { day: k.periodLosses.worstDay.day, depletion_pct: k.periodLosses.worstDay.depletionPct },
    },
    feed: {
      feed_kg: k.feed.feedKg,
      animal_days: k.feed.animalDays,
      per_animal_day_kg: k.feed.perAnimalDayKg,
      days_in_barn: k.feed.daysInBarn,
      zero_feed_days: k.feed.zeroFeedDays,
    },
    adg: k.adg && {
      g_per_day: k.adg.gPerDay,
      standard_error_g_per_day: k.adg.standardErrorGPerDay,
      ci95_g_per_day: k.adg.ci95GPerDay,
      weighing_days: k.adg.weighingDays,
    },
    fcr: k.fcr && {
      as_of_day: k.fcr.asOfDay,
      feed_kg: k.fcr.feedKg,
      flock_gain_kg: k.fcr.flockGainKg,
      lost_weight_kg: k.fcr.lostWeightKg,
      cumulative: k.fcr.cumulative,
      mortality_adjusted: k.fcr.mortalityAdjusted,
      placement_weight_source: k.fcr.placementWeightSource,
    },
    fcr_missing_reason: k.fcrMissingReason,
    epef: k.epef,
    uniformity:
      u === null
        ? null
        : u.status === 'ok'
          ? {
              status: 'ok',
              day: u.day,
              sample_unit: u.sampleUnit,
              n: u.n,
              weighings: u.weighings,
              mean_kg: u.meanKg,
              cv_pct: u.cvPct,
              cv_ci95_pct: u.cvCi95Pct,
              within_band_pct: u.withinBandPct,
              within_band_ci95_pct: u.withinBandCi95Pct,
              band_pct: u.bandPct,
            }
          : { status: 'insufficient_sample', day: u.day, sample_unit: u.sampleUnit, n: u.n, weighings: u.weighings, minimum: u.minimum },
    versus_standard: k.versusStandard && {
      standard_key: k.versusStandard.standardKey,
      selected_by: k.versusStandard.selectedBy,
      age_days: k.versusStandard.ageDays,
      weight_kg: k.versusStandard.weightKg,
      standard_kg: k.versusStandard.standardKg,
      deviation_pct: k.versusStandard.deviationPct,
      tolerance_pct: k.versusStandard.tolerancePct,
      verdict: k.versusStandard.verdict,
    },
    forecast:
      f === null
        ? null
        : f.status === 'insufficient_evidence'
          ? {
              status: f.status,
              reason: f.reason,
              weighing_days: f.weighingDays,
              span_days: f.spanDays,
              minimum_days: f.minimumDays,
              minimum_span_days: f.minimumSpanDays,
            }
          : {
              status: f.status,
              weighing_days: f.weighingDays,
              span_days: f.spanDays,
              b: f.b,
              k: f.k,
              residual_sd: f.residualSd,
              days_to_target: f.daysToTarget,
              days_to_target_ci95: f.daysToTargetCi95,
              weight_at_forecast_kg: f.weightAtForecastKg,
              weight_at_forecast_ci95_kg: f.weightAtForecastCi95Kg,
            },
  };
}
