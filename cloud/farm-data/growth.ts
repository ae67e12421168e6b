/**
 * A flock's growth as the dashboard draws it: the daily mean weight of every weighing day with the
 * breed standard at that age (insights/kpis/breed-standard.ts), the forecast of the days after the
 * last weighing with its 95 % band (insights/kpis/growth-forecast.ts, refused on thin evidence), and
 * the last weighing day's uniformity (insights/kpis/flock-uniformity.ts) with a histogram of its
 * weights. A barn without any flock shows its weighing days of the last 60 days, without ages.
 */
import type { PoolClient } from 'pg';
import { addDays, daysBetween } from '../../domain/calendar/days';
import { standardFor, standardWeight } from '../../insights/kpis/breed-standard';
import { flockUniformity, sampleUnits } from '../../insights/kpis/flock-uniformity';
import { growthForecast } from '../../insights/kpis/growth-forecast';
import { referenceFor } from '../../insights/kpis/species';
import { round } from '../../insights/kpis/stats';
import { dailyMeanWeights, finalizedSessionsSql, readFlockRecords, readWeighings, type FlockRecords } from './flock-records';
import { weightBins, type WeightBin } from './weight-histogram';
import type { FarmContext } from './read-scope';

export const forecastDays = 7;
const daysWithoutFlock = 60;

export interface GrowthDay {
  day: string;
  ageDays: number | null;
  meanKg: number;
  sessionCount: number;
  standardKg: number | null;
}

export interface ForecastDay {
  day: string;
  ageDays: number;
  kg: number;
  lowKg: number;
  highKg: number;
}

export interface Uniformity {
  day: string;
  status: 'ok' | 'insufficient_sample';
  n: number;
  cvPct: number | null;
  within10PctPct: number | null;
  bins: WeightBin[];
}

export interface Growth {
  flockId: string | null;
  standardKey: string | null;
  days: GrowthDay[];
  forecast: ForecastDay[];
  forecastStatus: 'ok' | 'insufficient_evidence' | 'no_flock';
  forecastReason: string | null;
  uniformity: Uniformity | null;
}

function uniformityOf(records: Pick<FlockRecords, 'weighings'>, day: string | undefined): Uniformity | null {
  if (day === undefined) return null;
  const result = flockUniformity(day, records.weighings);
  if (!result) return null;
  const { weightsKg } = sampleUnits(records.weighings.filter((w) => w.day === day && w.weightKg > 0));
  return {
    day,
    status: result.status,
    n: result.n,
    cvPct: result.status === 'ok' ? result.cvPct : null,
    within10PctPct: result.status === 'ok' ? result.withinBandPct : null,
    bins: weightBins(weightsKg),
  };
}

function flockGrowth(farm: FarmContext, records: FlockRecords): Growth {
  const { flock } = records;
  const age = (day: string) => flock.ageAtPlacementDays + daysBetween(records.placedDay, day);
  const standard = standardFor(flock.species, flock.breed);
  const daily = dailyMeanWeights(records.weighings).filter((d) => d.day >= records.placedDay && d.day <= records.lastDay);
  const days = daily.map((d) => {
    const s = standard ? standardWeight(standard.curve, age(d.day)) : null;
    return { day: d.day, ageDays: age(d.day), meanKg: round(d.meanKg, 3), sessionCount: d.sessions, standardKg: s === null ? null : round(s, 3) };
  });
  const last = daily[daily.length - 1];
  const reference = referenceFor(flock.species) ?? referenceFor(farm.species);
  const forecast: ForecastDay[] = [];
  let status: Growth['forecastStatus'] = 'insufficient_evidence';
  let reason: string | null = 'too_few_weighing_days';
  if (last && reference) {
    const points = daily.map((d) => ({ t: age(d.day), weightKg: d.meanKg }));
    for (let i = 1; i <= forecastDays; i++) {
      const day = addDays(last.day, i);
      const f = growthForecast({
        points,
        asymptoteKg: reference.growth.asymptoteKg,
        targetWeightKg: reference.targetWeightKg,
        tLast: age(last.day),
        tForecast: age(day),
      });
      if (f.status !== 'ok') {
        reason = f.reason;
        break;
      }
      status = 'ok';
      reason = null;
      forecast.push({ day, ageDays: age(day), kg: f.weightAtForecastKg, lowKg: f.weightAtForecastCi95Kg[0], highKg: f.weightAtForecastCi95Kg[1] });
    }
  }
  return {
    flockId: flock.flockId,
    standardKey: standard?.curve.key ?? null,
    days,
    forecast,
    forecastStatus: status,
    forecastReason: reason,
    uniformity: uniformityOf(records, last?.day),
  };
}

// A barn without a flock: its finalized sessions of the last days, whichever flock they name.
const barnWeighingsSql = finalizedSessionsSql('');

export async function readGrowth(client: PoolClient, farm: FarmContext, barnId: string, flockId: string | undefined, now: Date): Promise<Growth> {
  const records = await readFlockRecords(client, farm, barnId, flockId, now);
  if (records) return flockGrowth(farm, records);
  const since = new Date(now.getTime() - daysWithoutFlock * 86_400_000);
  const weighings = await readWeighings(client, barnWeighingsSql, [farm.tenantId, farm.farmId, barnId, farm.timezone, since, now]);
  const daily = dailyMeanWeights(weighings);
  return {
    flockId: null,
    standardKey: null,
    days: daily.map((d) => ({ day: d.day, ageDays: null, meanKg: round(d.meanKg, 3), sessionCount: d.sessions, standardKg: null })),
    forecast: [],
    forecastStatus: 'no_flock',
    forecastReason: null,
    uniformity: uniformityOf({ weighings }, daily[daily.length - 1]?.day),
  };
}
