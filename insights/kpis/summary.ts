/**
 * Assembles the feature summary from aggregates the database has already reduced (hourly barn
 * climate, daily feed, daily weights, the last day's individual weights, scale/vision pairs per
 * station). Pure: the same inputs always give the same summary, which is what the fixtures test.
 */
import type { Anomaly, BarnFeatures, FeatureSummary } from '../feature-summary';
import { featureSummarySchemaVersion } from '../feature-summary';
import { barnClimateFindings, climateFindingAnomaly, expectedFeedDays, growthFlattening, reportedFindings, scaleVisionCheck } from './anomalies';
import { addDays, ageOnDay } from '../../domain/calendar/days';
import { comfortHours, metricStats, type BarnHour } from './climate';
import type { DailyFeedKg, DailyLosses, Flock, Weighing } from './flock';
import { flockFeatures } from './flock-features';
import { flockKpis, type FlockKpis } from './flock-kpis';
import { feedKpis, growthKpis, uniformity, type DailyFeed, type DailyWeight, type Placement } from './growth';
import { localClock } from '../../domain/calendar/local-clock';
import { referenceFor, type ComfortBand } from './species';
import { round } from './stats';

export interface BarnAggregates {
  barnId: string;
  name: string;
  animalCount: number | null;
  placedAt: string | null;
  ageAtPlacementDays: number;
  /**
   * The barn's hourly climate, sensors combined, in the canonical units (°C, % RH, ppm). Hours
   * before the window, when read, are the climate judgement's baseline (the barn's own previous 7
   * days, domain/climate/profile.ts); the KPIs and data quality count only the window's hours.
   */
  temperatureHours: BarnHour[];
  humidityHours: BarnHour[];
  /** CO2 and NH3, when read: judged against their limits (2007/43/EC Annex II 3(a) for broilers). */
  co2Hours?: BarnHour[];
  nh3Hours?: BarnHour[];
  /** Outside temperature in the shade, when a sensor reports it (2007/43/EC Annex II 3(b), 3(c)). */
  outsideTemperatureHours?: BarnHour[];
  dailyFeed: DailyFeed[];
  /**
   * Feed per farm-local day before the window, for the trailing median of a feed drop. With a
   * flock, its feed since placement serves instead.
   */
  feedBeforeWindow?: DailyFeed[];
  /** A comfort band set for the barn or its flock (domain/climate/bands.ts resolveBand); none is stored yet. */
  comfortBands?: { barn?: ComfortBand | null; flock?: ComfortBand | null };
  feedEvents: number;
  dailyWeights: DailyWeight[];
  /** Individual session weights of the barn's last weighing day in the window. */
  lastDayWeightsKg: number[];
  stations: { stationId: string; pairs: { scaleKg: number; visionKg: number }[] }[];
  /**
   * The barn's flock in the window and its records, when flocks are recorded. Absent (every barn
   * before flocks existed): the KPIs stand on barns.animal_count and placed_at exactly as before.
   */
  flock?: FlockAggregates;
}

export interface FlockAggregates {
  flock: Flock;
  /** Deaths and culls per farm-local day since placement. */
  losses: DailyLosses[];
  /** Feed per farm-local day since placement (cumulative FCR needs the feed before the window too). */
  feedSincePlacement: DailyFeedKg[];
  /** Individual weighings of the window's last weighing day (or the whole window). */
  weighings: Weighing[];
}

export interface SummaryInputs {
  farm: {
    farmId: string;
    name: string;
    species: string;
    timezone: string;
    comfortMinC: number | null;
    comfortMaxC: number | null;
  };
  barnId: string | null;
  window: { from: string; to: string };
  /** Farm-local days of the window's first and last instant. */
  localDays: { from: string; to: string };
  forecastDate: string;
  targetWeightKg: number | null;
  barns: BarnAggregates[];
}

/** Hourly buckets whose start lies in [floor_hour(from), to). */
export function windowHours(window: { from: string; to: string }): number {
  const from = Math.floor(Date.parse(window.from) / 3_600_000) * 3_600_000;
  return Math.max(0, Math.ceil((Date.parse(window.to) - from) / 3_600_000));
}

function band(b: ComfortBand | null) {
  return b ? { min_c: b.minC, max_c: b.maxC } : null;
}

/** The hours whose start lies in [floor_hour(from), to): the window's own, not the baseline before it. */
function inWindow(window: { from: string; to: string }, hours: readonly BarnHour[]): BarnHour[] {
  const from = Math.floor(Date.parse(window.from) / 3_600_000) * 3_600_000;
  const to = Date.parse(window.to);
  // toISOString spellings compare as strings; any other spelling is parsed.
  const fromIso = new Date(from).toISOString();
  const toIso = new Date(to).toISOString();
  const within = (h: BarnHour) => {
    if (h.hour.length === 24 && h.hour.endsWith('Z')) return h.hour >= fromIso && h.hour < toIso;
    const ms = Date.parse(h.hour);
    return ms >= from && ms < to;
  };
  return hours.every(within) ? (hours as BarnHour[]) : hours.filter(within);
}

interface BarnClimate {
  species: string;
  /** The animals' placement: the flock's when one is recorded (its farm-local day), else the barn's. */
  placement: Placement;
  feed: { dailyFeed: DailyFeed[]; expectedFeedDays: string[]; feedHistoryDays: string[] };
}

/**
 * What the climate judgement of a barn stands on: the species and age of the animals in it (one
 * band per flock age), and the feed days to judge. Feed is judged only in a barn that reports feed
 * at all (one without a connected feeder has no outage to find): on the complete days after the
 * placement day (without a placement, from the first day with feed) and before depopulation, a day
 * without any feed record counting as a zero-feed day. The fed days before the window (after the
 * partial placement day) are the history a feed drop is measured against.
 */
function climateOfBarn(input: SummaryInputs, barn: BarnAggregates): BarnClimate {
  const tz = input.farm.timezone;
  const flock = barn.flock?.flock;
  const placement: Placement = flock
    ? { placedAt: localClock(flock.placedAt, tz).day, ageAtPlacementDays: flock.ageAtPlacementDays }
    : { placedAt: barn.placedAt, ageAtPlacementDays: barn.ageAtPlacementDays };
  const before = (barn.flock ? barn.flock.feedSincePlacement : (barn.feedBeforeWindow ?? [])).filter(
    (d) => d.day < input.localDays.from && (placement.placedAt === null || d.day > placement.placedAt),
  );
  const fed = [...before, ...barn.dailyFeed].filter((d) => d.kg > 0).sort((a, b) => a.day.localeCompare(b.day));
  const species = flock?.species ?? input.farm.species;
  if (fed.length === 0) return { species, placement, feed: { dailyFeed: [], expectedFeedDays: [], feedHistoryDays: [] } };
  const expected = expectedFeedDays({
    window: input.window,
    timeZone: tz,
    localDays: input.localDays,
    occupiedFrom: placement.placedAt ?? addDays(fed[0].day, -1),
    occupiedUntil: flock?.depopulatedAt ? localClock(flock.depopulatedAt, tz).day : null,
  });
  const history = before.filter((d) => d.kg > 0 && (expected.length === 0 || d.day < expected[0])).map((d) => d.day);
  return { species, placement, feed: { dailyFeed: [...before, ...barn.dailyFeed], expectedFeedDays: expected, feedHistoryDays: history } };
}

function barnFeatures(input: SummaryInputs, barn: BarnAggregates, anomalies: Anomaly[]): BarnFeatures {
  const reference = referenceFor(input.farm.species);
  const farmBand = input.farm.comfortMinC !== null && input.farm.comfortMaxC !== null ? { minC: input.farm.comfortMinC, maxC: input.farm.comfortMaxC } : null;
  const placement = { placedAt: barn.placedAt, ageAtPlacementDays: barn.ageAtPlacementDays };
  const climate = climateOfBarn(input, barn);
  const temperatureHours = inWindow(input.window, barn.temperatureHours);
  const comfort = comfortHours(temperatureHours, {
    farmBand,
    speciesBands: referenceFor(climate.species)?.comfortBands ?? null,
    placement: climate.placement,
  });
  const targetWeightKg = input.targetWeightKg ?? reference?.targetWeightKg ?? 0;

  const sortedWeights = [...barn.dailyWeights].sort((a, b) => a.day.localeCompare(b.day));
  const lastWeighingDay = sortedWeights.length ? sortedWeights[sortedWeights.length - 1].day : null;
  const { growth, forecast } = reference
    ? growthKpis({
        dailyWeights: sortedWeights,
        dailyFeed: barn.dailyFeed,
        animalCount: barn.animalCount,
        placement,
        asymptoteKg: reference.growth.asymptoteKg,
        targetWeightKg,
        forecastDate: input.forecastDate,
      })
    : { growth: null, forecast: null };
  const unif = uniformity(barn.lastDayWeightsKg);
  const feed = feedKpis(barn.dailyFeed, barn.animalCount);
  const flock =
    barn.flock && reference
      ? flockKpis({
          flock: barn.flock.flock,
          losses: barn.flock.losses,
          feed: barn.flock.feedSincePlacement,
          dailyWeights: sortedWeights,
          weighings: barn.flock.weighings,
          timeZone: input.farm.timezone,
          period: input.localDays,
          forecastDate: input.forecastDate,
          targetWeightKg,
          asymptoteKg: reference.growth.asymptoteKg,
        })
      : null;

  const judged = reportedFindings(
    barnClimateFindings({
      species: climate.species,
      window: input.window,
      placement: climate.placement,
      farmBand,
      flockBand: barn.comfortBands?.flock ?? null,
      barnBand: barn.comfortBands?.barn ?? null,
      hours: {
        temperature: barn.temperatureHours,
        humidity: barn.humidityHours,
        ...(barn.co2Hours ? { co2: barn.co2Hours } : {}),
        ...(barn.nh3Hours ? { nh3: barn.nh3Hours } : {}),
      },
      outsideTemperatureHours: barn.outsideTemperatureHours,
      ...climate.feed,
    }).findings,
  );
  for (const f of judged.findings) anomalies.push(climateFindingAnomaly(barn.barnId, f, climate.species));
  if (reference) {
    const flat = growthFlattening(sortedWeights, placement, reference.growth.asymptoteKg);
    if (flat?.flattening) {
      anomalies.push({
        kind: 'growth_flattening',
        barn_id: barn.barnId,
        recent_days: flat.recentDays,
        from_day: flat.fromDay,
        to_day: flat.toDay,
        observed_gain_kg: flat.observedGainKg,
        expected_gain_kg: flat.expectedGainKg,
        ratio_pct: flat.ratioPct,
        threshold_pct: flat.thresholdPct,
      });
    }
  }
  for (const station of [...barn.stations].sort((a, b) => a.stationId.localeCompare(b.stationId))) {
    const check = scaleVisionCheck(station.pairs);
    if (check?.disagree) {
      anomalies.push({
        kind: 'scale_vision_disagreement',
        barn_id: barn.barnId,
        station_id: station.stationId,
        sessions: check.sessions,
        median_difference_pct: check.medianDifferencePct,
        share_over_threshold_pct: check.shareOverThresholdPct,
        threshold_pct: check.thresholdPct,
      });
    }
  }

  const features: BarnFeatures = {
    barn_id: barn.barnId,
    barn_name: barn.name,
    animal_count: barn.animalCount,
    age_days: {
      at_window_start: ageOnDay(input.localDays.from, placement),
      at_window_end: ageOnDay(input.localDays.to, placement),
    },
    climate: {
      temperature_c: metricStats(temperatureHours),
      humidity_pct: metricStats(inWindow(input.window, barn.humidityHours)),
      ...(barn.co2Hours ? { co2_ppm: metricStats(inWindow(input.window, barn.co2Hours)) } : {}),
      ...(barn.nh3Hours ? { nh3_ppm: metricStats(inWindow(input.window, barn.nh3Hours)) } : {}),
      comfort: comfort && {
        band_source: comfort.bandSource,
        hours_evaluated: comfort.hoursEvaluated,
        hours_below: comfort.hoursBelow,
        hours_above: comfort.hoursAbove,
        hours_outside: comfort.hoursOutside,
        share_outside_pct: comfort.shareOutsidePct,
        band_at_start: band(comfort.bandAtStart),
        band_at_end: band(comfort.bandAtEnd),
      },
      ...(judged.omitted > 0 ? { findings_omitted: judged.omitted } : {}),
    },
    feed: { total_kg: feed.totalKg, feed_days: feed.feedDays, per_animal_per_day_kg: feed.perAnimalPerDayKg },
    growth: {
      weighing_days: growth?.weighingDays ?? sortedWeights.length,
      first_day: growth?.firstDay ?? null,
      last_day: growth?.lastDay ?? null,
      first_mean_weight_kg: growth?.firstMeanWeightKg ?? null,
      mean_weight_kg: growth?.meanWeightKg ?? null,
      adg_g_per_day: growth?.adgGPerDay ?? null,
      fcr: growth?.fcr ?? null,
      uniformity:
        unif && lastWeighingDay
          ? {
              day: lastWeighingDay,
              weighed: unif.weighed,
              mean_kg: unif.meanKg,
              cv_pct: unif.cvPct,
              within_band_pct: unif.withinBandPct,
              band_pct: unif.bandPct,
            }
          : null,
      target_weight_kg: targetWeightKg,
      days_to_target: growth?.daysToTarget ?? null,
      target_reached_on: growth?.targetReachedOn ?? null,
    },
    forecast: forecast && {
      method: forecast.method,
      time_axis: forecast.timeAxis,
      asymptote_kg: forecast.asymptoteKg,
      b: forecast.b,
      k: forecast.k,
      fitted_points: forecast.fittedPoints,
      rmse_kg: forecast.rmseKg,
      forecast_date: forecast.forecastDate,
      weight_at_forecast_kg: forecast.weightAtForecastKg,
      feed_needed_kg: forecast.feedNeededKg,
    },
  };
  return flock ? withFlock(features, flock) : features;
}

/**
 * With a recorded flock the headline KPIs stand on it: head count instead of barns.animal_count,
 * feed over real animal-days, ADG from the fit over every weighing day, cumulative FCR of the flock,
 * uniformity only from a sample of at least 30, and days to target / forecast only with enough
 * weighing days (insights/kpis/flock-kpis.ts). The details are in `flock`.
 */
function withFlock(f: BarnFeatures, k: FlockKpis): BarnFeatures {
  const u = k.uniformity?.status === 'ok' ? k.uniformity : null;
  const forecast = k.forecast?.status === 'ok' ? k.forecast : null;
  const reached = f.growth.mean_weight_kg !== null && f.growth.mean_weight_kg >= f.growth.target_weight_kg;
  const daysToTarget = reached ? 0 : (forecast?.daysToTarget ?? null);
  const fcr = k.fcr?.cumulative ?? null;
  return {
    ...f,
    animal_count: k.headCount,
    feed: { ...f.feed, per_animal_per_day_kg: k.feed.perAnimalDayKg },
    growth: {
      ...f.growth,
      adg_g_per_day: k.adg?.gPerDay ?? null,
      fcr,
      uniformity: u && { day: u.day, weighed: u.n, mean_kg: u.meanKg, cv_pct: u.cvPct, within_band_pct: u.withinBandPct, band_pct: u.bandPct },
      days_to_target: daysToTarget,
      target_reached_on: reached ? f.growth.last_day : daysToTarget !== null && f.growth.last_day ? addDays(f.growth.last_day, Math.ceil(daysToTarget)) : null,
    },
    forecast:
      forecast && f.forecast
        ? {
            ...f.forecast,
            weight_at_forecast_kg: forecast.weightAtForecastKg,
            feed_needed_kg:
              fcr !== null && f.growth.mean_weight_kg !== null
                ? round(Math.max(0, forecast.weightAtForecastKg - f.growth.mean_weight_kg) * fcr * k.headCount, 1)
                : null,
          }
        : null,
    flock: flockFeatures(k),
  };
}

export function buildFeatureSummary(input: SummaryInputs): FeatureSummary {
  const barns = [...input.barns].sort((a, b) => a.barnId.localeCompare(b.barnId));
  const anomalies: Anomaly[] = [];
  const features = barns.map((b) => barnFeatures(input, b, anomalies));
  const hours = windowHours(input.window);
  const expected = hours * barns.length;
  const temperatureHours = barns.reduce((n, b) => n + inWindow(input.window, b.temperatureHours).length, 0);
  const humidityHours = barns.reduce((n, b) => n + inWindow(input.window, b.humidityHours).length, 0);
  return {
    schema_version: featureSummarySchemaVersion,
    scope: {
      farm_id: input.farm.farmId,
      farm_name: input.farm.name,
      species: input.farm.species,
      timezone: input.farm.timezone,
      barn_id: input.barnId,
      window: {
        from: input.window.from,
        to: input.window.to,
        days: round((Date.parse(input.window.to) - Date.parse(input.window.from)) / 86_400_000, 2),
        first_day: input.localDays.from,
        last_day: input.localDays.to,
      },
      forecast_date: input.forecastDate,
    },
    farm: {
      barns: barns.length,
      animals: features.reduce((n, f) => n + (f.animal_count ?? 0), 0),
      feed_total_kg: round(
        features.reduce((n, f) => n + f.feed.total_kg, 0),
        3,
      ),
      hours_outside_comfort: features.reduce((n, f) => n + (f.climate.comfort?.hours_outside ?? 0), 0),
      anomalies: anomalies.length,
    },
    barns: features,
    anomalies,
    data_quality: {
      expected_barn_hours: expected,
      temperature_barn_hours: temperatureHours,
      humidity_barn_hours: humidityHours,
      climate_coverage_pct: expected > 0 ? round((temperatureHours / expected) * 100, 1) : null,
      weighing_sessions: barns.reduce((n, b) => n + b.dailyWeights.reduce((s, d) => s + d.sessions, 0), 0),
      feed_events: barns.reduce((n, b) => n + b.feedEvents, 0),
    },
  };
}
