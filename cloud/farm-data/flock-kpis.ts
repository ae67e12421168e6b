/**
 * The flock KPIs of one barn's flock as of its last day (today, or its depopulation day): mortality
 * and livability, feed per animal-day, ADG, cumulative and mortality-adjusted FCR, EPEF, uniformity,
 * weight against the breed standard and the growth forecast — insights/kpis/flock-kpis.ts over the
 * whole stay, fed from flock-records.ts. Nothing is recomputed here.
 */
import { addDays } from '../../domain/calendar/days';
import { flockKpis, type FlockKpis } from '../../insights/kpis/flock-kpis';
import { defaultForecastDays } from '../../insights/aggregation';
import { referenceFor } from '../../insights/kpis/species';
import { dailyMeanWeights, type FlockRecords } from './flock-records';
import type { FarmContext } from './read-scope';

/** The KPIs of the flock over its whole stay; the forecast is for `forecastDays` after its last day. */
export function kpisOfFlock(farm: FarmContext, records: FlockRecords, forecastDays = defaultForecastDays): FlockKpis {
  const reference = referenceFor(records.flock.species) ?? referenceFor(farm.species);
  return flockKpis({
    flock: records.flock,
    losses: records.losses,
    feed: records.feed,
    dailyWeights: dailyMeanWeights(records.weighings),
    weighings: records.weighings,
    timeZone: farm.timezone,
    period: { from: records.placedDay, to: records.lastDay },
    forecastDate: addDays(records.lastDay, forecastDays),
    // Without a reference (a species FarmIQ has no curve for) the forecast refuses: no target, no asymptote.
    targetWeightKg: reference?.targetWeightKg ?? 0,
    asymptoteKg: reference?.growth.asymptoteKg ?? 0,
  });
}
