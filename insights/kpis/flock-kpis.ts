/**
 * Every flock KPI of one barn for an insight period, as of the period's last day: mortality and
 * livability, feed per animal-day, ADG with its error, cumulative and mortality-adjusted FCR,
 * EPEF, uniformity, weight against the breed standard and the evidence-checked forecast. Each
 * formula is in its own file; this one only feeds them the same flock.
 */
import { adgFromWeighings, type Adg } from './adg';
import { animalDaysByDay, farmDayOf } from '../../flocks/head-count';
import { standardFor, standardWeight, versusStandard, type VersusStandard } from './breed-standard';
import { addDays, daysBetween } from '../../domain/calendar/days';
import { epef } from './epef';
import { flockFcr, type Fcr } from './fcr';
import { feedPerAnimalDay, type FeedPerAnimalDay } from './feed-per-animal-day';
import type { DailyFeedKg, DailyLosses, Flock, Weighing } from './flock';
import { flockUniformity, type UniformityResult } from './flock-uniformity';
import { growthForecast, type GrowthForecast } from './growth-forecast';
import { mortality, type Mortality } from './mortality';
import { round } from './stats';
import { weightOnDay } from './weight-on-day';

export interface FlockKpiInputs {
  flock: Flock;
  /** Losses per day since placement. */
  losses: readonly DailyLosses[];
  /** Feed per day since placement (cumulative FCR needs all of it, not only the period's). */
  feed: readonly DailyFeedKg[];
  /** Daily mean weights of the period. */
  dailyWeights: readonly { day: string; sessions: number; meanKg: number }[];
  /** Individual weighings of the period (uniformity on the last weighing day). */
  weighings: readonly Weighing[];
  timeZone: string;
  /** Farm-local first and last day of the period. */
  period: { from: string; to: string };
  forecastDate: string;
  targetWeightKg: number;
  /** The species' mature weight A of the growth curve. */
  asymptoteKg: number;
}

export interface FlockKpis {
  flockId: string;
  breed: string | null;
  placedDay: string;
  headPlaced: number;
  /** Head count at the end of the period's last day, 0 from the depopulation day on. */
  headCount: number;
  ageDaysAtEnd: number;
  /** Deaths and culls from placement to the period's last day. */
  mortality: Mortality;
  periodLosses: { deaths: number; culls: number; worstDay: { day: string; depletionPct: number } | null };
  feed: FeedPerAnimalDay;
  adg: Adg | null;
  /** FCR as of the last weighing day D: feed of placement ≤ d < D. */
  fcr: (Fcr & { asOfDay: string; feedKg: number; placementWeightSource: 'recorded' | 'breed_standard' }) | null;
  fcrMissingReason: 'no_weighing' | 'no_placement_weight' | null;
  epef: number | null;
  uniformity: UniformityResult | null;
  versusStandard: VersusStandard | null;
  forecast: GrowthForecast | null;
}

export function flockKpis(input: FlockKpiInputs): FlockKpis {
  const { flock } = input;
  const placedDay = farmDayOf(flock.placedAt, input.timeZone);
  const age = (day: string) => flock.ageAtPlacementDays + daysBetween(placedDay, day);
  const periodFrom = input.period.from < placedDay ? placedDay : input.period.from;
  const dayLosses = input.losses.map((l) => ({ day: l.day, dead: l.deaths, culled: l.culls }));
  const days = periodFrom <= input.period.to ? animalDaysByDay(flock, dayLosses, input.timeZone, periodFrom, input.period.to) : [];
  const toDate = mortality(flock.headPlaced, input.losses, placedDay, input.period.to) as Mortality;
  const inPeriod = toDate.daily.filter((d) => d.day >= input.period.from);
  const worst = inPeriod.reduce<(typeof inPeriod)[number] | null>((w, d) => (w === null || d.depletionPct > w.depletionPct ? d : w), null);

  // Only this flock's weighings: none before its placement or after its depopulation day.
  const depopDay = flock.depopulatedAt === null ? null : farmDayOf(flock.depopulatedAt, input.timeZone);
  const weighed = input.dailyWeights
    .filter((d) => d.sessions > 0 && d.meanKg > 0 && d.day >= placedDay && (depopDay === null || d.day <= depopDay))
    .sort((a, b) => a.day.localeCompare(b.day));
  const last = weighed[weighed.length - 1];
  const adg = adgFromWeighings(weighed.map((d) => ({ day: d.day, meanKg: d.meanKg, weighings: d.sessions })));

  // FCR as of the last weighing day.
  const standard = standardFor(flock.species, flock.breed);
  const standardW0 = standard ? standardWeight(standard.curve, flock.ageAtPlacementDays) : null;
  const w0 = flock.placementWeightKg ?? standardW0;
  let fcr: FlockKpis['fcr'] = null;
  let fcrMissingReason: FlockKpis['fcrMissingReason'] = null;
  if (!last) fcrMissingReason = 'no_weighing';
  else if (w0 === null || w0 === undefined) fcrMissingReason = 'no_placement_weight';
  else {
    const curve = [{ day: placedDay, kg: w0 }, ...weighed.map((d) => ({ day: d.day, kg: d.meanKg }))];
    const lostBefore = input.losses.filter((l) => l.day >= placedDay && l.day < last.day);
    const lostWeightsKg = lostBefore.map((l) => l.weightKg ?? (l.deaths + l.culls) * (weightOnDay(curve, l.day) as number));
    const feedKg = input.feed.filter((f) => f.day >= placedDay && f.day < last.day).reduce((n, f) => n + f.kg, 0);
    const headAlive = flock.headPlaced - lostBefore.reduce((n, l) => n + l.deaths + l.culls, 0);
    fcr = {
      ...flockFcr({ feedKg, headPlaced: flock.headPlaced, placementWeightKg: w0, headAlive, meanWeightKg: last.meanKg, lostWeightsKg }),
      asOfDay: last.day,
      feedKg: round(feedKg, 3),
      placementWeightSource: flock.placementWeightKg != null ? 'recorded' : 'breed_standard',
    };
  }
  const livabilityAtLast = last ? (mortality(flock.headPlaced, input.losses, placedDay, addDays(last.day, -1)) as Mortality).livabilityPct : null;

  const points = weighed.map((d) => ({ t: age(d.day), weightKg: d.meanKg }));
  return {
    flockId: flock.flockId,
    breed: flock.breed,
    placedDay,
    headPlaced: flock.headPlaced,
    headCount: days.length ? days[days.length - 1].headCount : toDate.headAlive,
    ageDaysAtEnd: age(input.period.to),
    mortality: toDate,
    periodLosses: {
      deaths: inPeriod.reduce((n, d) => n + d.deaths, 0),
      culls: inPeriod.reduce((n, d) => n + d.culls, 0),
      worstDay: worst && worst.depletionPct > 0 ? { day: worst.day, depletionPct: worst.depletionPct } : null,
    },
    feed: feedPerAnimalDay(days, input.feed),
    adg,
    fcr,
    fcrMissingReason,
    epef:
      last && fcr && livabilityAtLast !== null
        ? epef({ species: flock.species, livabilityPct: livabilityAtLast, meanWeightKg: last.meanKg, ageDays: age(last.day), fcr: fcr.cumulative })
        : null,
    uniformity: last ? flockUniformity(last.day, input.weighings) : null,
    versusStandard: last ? versusStandard(flock.species, flock.breed, age(last.day), last.meanKg) : null,
    forecast: last
      ? growthForecast({
          points,
          asymptoteKg: input.asymptoteKg,
          targetWeightKg: input.targetWeightKg,
          tLast: age(last.day),
          tForecast: age(input.forecastDate),
        })
      : null,
  };
}
