/**
 * Growth and feed-efficiency KPIs of one barn from daily aggregates: the mean WeighVision session
 * weight per farm-local day, the feed dispensed per day and the individual weights of the last
 * weighing day (docs/insights.md, "Growth", "Feed", "Forecast").
 */
import { addDays, ageOnDay, daysBetween } from '../../domain/calendar/days';
import { fitGompertz, gompertzWeight, timeToWeight, type GompertzFit, type WeightPoint } from './growth-curve';
import { mean, round, roundOrNull, sampleStdDev, sum } from './stats';

export interface DailyWeight {
  day: string;
  /** Finalized sessions with a weight that day. */
  sessions: number;
  meanKg: number;
}

export interface DailyFeed {
  day: string;
  kg: number;
}

export interface Placement {
  placedAt: string | null;
  ageAtPlacementDays: number;
}

/** ±10 % of the mean: the usual flock uniformity band. */
export const uniformityBandPct = 10;

export interface Uniformity {
  weighed: number;
  meanKg: number;
  /** Coefficient of variation: sample standard deviation / mean · 100. */
  cvPct: number;
  /** Share of the weights within ±10 % of their mean, in %. */
  withinBandPct: number;
  bandPct: number;
}

export function uniformity(weightsKg: readonly number[]): Uniformity | null {
  const m = mean(weightsKg);
  const sd = sampleStdDev(weightsKg);
  if (m === null || sd === null || m <= 0) return null;
  const within = weightsKg.filter((w) => Math.abs(w - m) <= (uniformityBandPct / 100) * m).length;
  return {
    weighed: weightsKg.length,
    meanKg: round(m, 3),
    cvPct: round((sd / m) * 100, 2),
    withinBandPct: round((within / weightsKg.length) * 100, 1),
    bandPct: uniformityBandPct,
  };
}

export interface FeedKpis {
  totalKg: number;
  /** Days with at least one dispense. */
  feedDays: number;
  /** totalKg / animals / feedDays. */
  perAnimalPerDayKg: number | null;
}

export function feedKpis(daily: readonly DailyFeed[], animalCount: number | null): FeedKpis {
  const days = daily.filter((d) => d.kg > 0);
  const totalKg = sum(days.map((d) => d.kg));
  return {
    totalKg: round(totalKg, 3),
    feedDays: days.length,
    perAnimalPerDayKg: animalCount && days.length > 0 ? round(totalKg / animalCount / days.length, 4) : null,
  };
}

export interface GrowthKpis {
  weighingDays: number;
  firstDay: string | null;
  lastDay: string | null;
  firstMeanWeightKg: number | null;
  /** The mean weight of the last weighing day: the flock's current weight. */
  meanWeightKg: number | null;
  /** (W_last − W_first) / days between them, in g per day. */
  adgGPerDay: number | null;
  /**
   * Feed conversion ratio: feed per animal dispensed on the days first ≤ d < last (the feed that
   * produced the gain measured on the last day) divided by the weight gained per animal.
   */
  fcr: number | null;
  targetWeightKg: number;
  /** Days from the last weighing until the fitted curve reaches the target weight (0 when reached). */
  daysToTarget: number | null;
  targetReachedOn: string | null;
}

export interface ForecastKpis {
  method: 'gompertz_fixed_asymptote';
  /** t is age in days ('age') or days since the first weighing ('days_since_first_weighing'). */
  timeAxis: 'age' | 'days_since_first_weighing';
  asymptoteKg: number;
  b: number;
  k: number;
  fittedPoints: number;
  rmseKg: number;
  forecastDate: string;
  weightAtForecastKg: number;
  /** (W(forecast) − W_last) · FCR · animals: feed still needed to grow to the forecast weight. */
  feedNeededKg: number | null;
}

export interface GrowthInputs {
  dailyWeights: readonly DailyWeight[];
  dailyFeed: readonly DailyFeed[];
  animalCount: number | null;
  placement: Placement;
  asymptoteKg: number;
  targetWeightKg: number;
  forecastDate: string;
}

/** t for a day on the chosen axis. */
function timeAxis(placement: Placement, firstDay: string) {
  const byAge = placement.placedAt !== null;
  return {
    kind: byAge ? ('age' as const) : ('days_since_first_weighing' as const),
    t: (day: string) => (byAge ? (ageOnDay(day, placement) as number) : daysBetween(firstDay, day)),
  };
}

export function growthKpis(input: GrowthInputs): { growth: GrowthKpis; forecast: ForecastKpis | null; fit: GompertzFit | null } {
  const days = [...input.dailyWeights].filter((d) => d.sessions > 0 && d.meanKg > 0).sort((a, b) => a.day.localeCompare(b.day));
  const first = days[0];
  const last = days[days.length - 1];
  const empty: GrowthKpis = {
    weighingDays: days.length,
    firstDay: first?.day ?? null,
    lastDay: last?.day ?? null,
    firstMeanWeightKg: first ? round(first.meanKg, 3) : null,
    meanWeightKg: last ? round(last.meanKg, 3) : null,
    adgGPerDay: null,
    fcr: null,
    targetWeightKg: input.targetWeightKg,
    daysToTarget: null,
    targetReachedOn: null,
  };
  if (!first || !last) return { growth: empty, forecast: null, fit: null };

  const span = daysBetween(first.day, last.day);
  const gainKg = last.meanKg - first.meanKg;
  const adg = span > 0 ? (gainKg / span) * 1000 : null;

  let fcr: number | null = null;
  if (span > 0 && gainKg > 0 && input.animalCount) {
    const feedKg = sum(input.dailyFeed.filter((f) => f.day >= first.day && f.day < last.day).map((f) => f.kg));
    if (feedKg > 0) fcr = feedKg / input.animalCount / gainKg;
  }

  const axis = timeAxis(input.placement, first.day);
  const points: WeightPoint[] = days.map((d) => ({ t: axis.t(d.day), weightKg: d.meanKg }));
  const fit = fitGompertz(points, input.asymptoteKg);

  let daysToTarget: number | null = null;
  let targetReachedOn: string | null = null;
  if (last.meanKg >= input.targetWeightKg) {
    daysToTarget = 0;
    targetReachedOn = last.day;
  } else if (fit) {
    const tTarget = timeToWeight(fit, input.targetWeightKg);
    if (tTarget !== null) {
      daysToTarget = Math.max(0, tTarget - axis.t(last.day));
      targetReachedOn = addDays(last.day, Math.ceil(daysToTarget));
    }
  }

  const growth: GrowthKpis = {
    ...empty,
    adgGPerDay: roundOrNull(adg, 1),
    fcr: roundOrNull(fcr, 3),
    daysToTarget: roundOrNull(daysToTarget, 1),
    targetReachedOn,
  };

  if (!fit) return { growth, forecast: null, fit: null };
  const weightAtForecast = gompertzWeight(fit, axis.t(input.forecastDate));
  const feedNeeded = fcr !== null && input.animalCount ? Math.max(0, weightAtForecast - last.meanKg) * fcr * input.animalCount : null;
  return {
    growth,
    fit,
    forecast: {
      method: 'gompertz_fixed_asymptote',
      timeAxis: axis.kind,
      asymptoteKg: fit.asymptoteKg,
      b: round(fit.b, 4),
      k: round(fit.k, 5),
      fittedPoints: fit.points,
      rmseKg: round(fit.rmseKg, 3),
      forecastDate: input.forecastDate,
      weightAtForecastKg: round(weightAtForecast, 3),
      feedNeededKg: roundOrNull(feedNeeded, 1),
    },
  };
}
