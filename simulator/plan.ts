/**
 * What every simulated device does in a window of time, worked out without touching the network:
 * a list of actions in time order. Each action's time sits on its device's cadence (multiples of
 * the interval since the epoch) and its values come from draws keyed by farm, barn, device and
 * time, so a window played twice — or two overlapping windows — yield the same actions with the
 * same event ids, and the farm server dedupes them.
 */
import { localClock } from '../domain/calendar/local-clock';
import { uuidV5 } from '../domain/ids';
import type { PhotoCase } from './images';
import type { Cadence, FarmDescription } from './farm-description';
import type { FarmState } from './farm-state';
import { breeds } from './models/breeds';
import { climateAt, type ClimateState } from './models/climate';
import { sensorsSilent, withExcursions, type Excursion } from './models/excursion';
import { atAge } from './models/curve';
import { ageAt, dailyFeedKg, headOn, type FlockFacts } from './models/flock-life';
import { Draws } from './random';

export const climateMetrics = [
  { metric: 'temperature', unit: 'C', of: (c: ClimateState) => c.temperatureC, sd: 0.3, digits: 1 },
  { metric: 'humidity', unit: '%', of: (c: ClimateState) => c.humidityPct, sd: 1.5, digits: 1 },
  { metric: 'co2', unit: 'ppm', of: (c: ClimateState) => c.co2Ppm, sd: 40, digits: 0 },
  { metric: 'nh3', unit: 'ppm', of: (c: ClimateState) => c.nh3Ppm, sd: 0.5, digits: 1 },
] as const;

/** The three ways a sensor breaks a reading, and the reason the farm server must record for each. */
export const brokenKinds = {
  out_of_range: 'schema_violation:payload.value',
  wrong_unit: 'unit_not_accepted',
  malformed: 'invalid_json',
} as const;
export type BrokenKind = keyof typeof brokenKinds;

interface Base {
  barnId: string;
  deviceId: string;
  at: Date;
  eventId: string;
}

export type Action =
  | (Base & { kind: 'reading'; metric: string; value: number; unit: string })
  | (Base & { kind: 'broken'; metric: string; broken: BrokenKind; body: string })
  | (Base & { kind: 'dropout'; metric: string })
  | (Base & { kind: 'feed'; quantityKg: number; feedType: string; animalCount: number })
  | (Base & { kind: 'mortality'; flockId: string; day: string; dead: number; culled: number })
  | (Base & { kind: 'session'; sessionId: string; flockId: string; species: 'broiler' | 'swine'; weighing: Weighing });

export interface Weighing {
  photoCase: PhotoCase;
  /** The animal on the scale (the first, when two are). */
  weightKg: number;
  otherWeightKg?: number;
  readings: { kg: number; stable: boolean }[];
  images: number;
}

export type ActionKind = Action['kind'];

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Times on the cadence `intervalS` in [from, to). */
function slots(from: Date, to: Date, intervalS: number): Date[] {
  const step = intervalS * 1000;
  const out: Date[] = [];
  for (let t = Math.ceil(from.getTime() / step) * step; t < to.getTime(); t += step) out.push(new Date(t));
  return out;
}

export function flockFacts(state: FarmState, barnId: string): FlockFacts {
  const b = state.farm.barns.find((x) => x.barn_id === barnId)!;
  const f = state.flocks[barnId];
  return {
    flockId: f.flock_id,
    breed: breeds[b.flock.breed],
    headPlaced: b.flock.head_count,
    ageAtPlacementDays: b.flock.age_at_placement_days,
    placedDay: f.placed_day,
  };
}

function eventId(farm: FarmDescription, barnId: string, deviceId: string, what: string, at: Date): string {
  return uuidV5(`simulator/${farm.tenant_id}/${farm.farm_id}/${barnId}/${deviceId}/${what}/${at.toISOString()}`);
}

/** One animal (or two, or one half on) stepping on the scale, and what the scale shows. */
export function weighing(facts: FlockFacts, farm: FarmDescription, at: Date, d: Draws): Weighing {
  const age = ageAt(facts, at);
  const mean = atAge(facts.breed.weightKg, age);
  const animal = () => Math.max(mean * 0.3, d.normal(mean, mean * facts.breed.weightCv));
  const weightKg = round(animal(), 3);
  const w = farm.weighing;
  const pick = d.uniform();
  const photoCase: PhotoCase = pick < w.two_animals ? 'two_animals' : pick < w.two_animals + w.half_on ? 'half_on' : 'normal';
  const otherWeightKg = photoCase === 'two_animals' ? round(animal(), 3) : undefined;
  const onScale = photoCase === 'two_animals' ? weightKg + otherWeightKg! : photoCase === 'half_on' ? weightKg * d.between(0.4, 0.7) : weightKg;
  const count = d.int(w.readings_min, w.readings_max);
  // The animal steps on: the first reading or two swing; then the scale settles within ±0.3 %.
  const swinging = Math.min(count - 1, d.int(1, 2));
  const readings = Array.from({ length: count }, (_, i) => {
    const stable = i >= swinging && photoCase !== 'half_on';
    const kg = onScale * (stable ? 1 + d.normal(0, 0.003) : 1 + d.normal(0, 0.12));
    return { kg: round(Math.max(0.01, kg), 3), stable };
  });
  return { photoCase, weightKg, ...(otherWeightKg !== undefined ? { otherWeightKg } : {}), readings, images: w.images };
}

function climateActions(state: FarmState, seed: number, barnId: string, deviceId: string, at: Date, excursions: readonly Excursion[]): Action[] {
  const farm = state.farm;
  if (sensorsSilent(barnId, at, excursions)) return [];
  const facts = flockFacts(state, barnId);
  const truth = withExcursions(climateAt(facts.breed, ageAt(facts, at), at, farm.time_zone), barnId, at, excursions);
  return climateMetrics.map((m): Action => {
    const base = { barnId, deviceId, at, eventId: eventId(farm, barnId, deviceId, m.metric, at), metric: m.metric };
    const d = new Draws(seed, `${farm.farm_id}/${barnId}/${deviceId}/${m.metric}/${at.toISOString()}`);
    const value = round(d.normal(m.of(truth), m.sd), m.digits);
    const fault = d.uniform();
    if (fault < farm.faults.dropout) return { ...base, kind: 'dropout' };
    if (fault < farm.faults.dropout + farm.faults.broken) {
      const kinds = Object.keys(brokenKinds) as BrokenKind[];
      const broken = kinds[d.int(0, kinds.length - 1)];
      return { ...base, kind: 'broken', broken, body: '' };
    }
    return { ...base, kind: 'reading', value, unit: m.unit };
  });
}

/**
 * Every action of the farm in [from, to), in time order (ties: barn, device, metric). Climate
 * excursions (a live run's; a backfill has none) change the climate readings or silence the sensors.
 */
export function planWindow(state: FarmState, seed: number, cadence: Cadence, from: Date, to: Date, excursions: readonly Excursion[] = []): Action[] {
  const farm = state.farm;
  const actions: Action[] = [];
  for (const b of farm.barns) {
    const facts = flockFacts(state, b.barn_id);
    const placedAt = Date.parse(`${facts.placedDay}T00:00:00Z`);
    // Nothing happens in a barn before its flock is placed.
    const start = new Date(Math.max(from.getTime(), placedAt));
    for (const deviceId of b.climate_sensors) {
      for (const at of slots(start, to, cadence.climate_interval_s)) actions.push(...climateActions(state, seed, b.barn_id, deviceId, at, excursions));
    }
    for (const deviceId of b.weighvision_stations) {
      for (const at of slots(start, to, cadence.session_interval_s)) {
        const stamp = at
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d+Z$/, 'Z');
        const sessionId = `sim-${b.barn_id}-${deviceId}-${stamp}`.slice(0, 64);
        const d = new Draws(seed, `${farm.farm_id}/${b.barn_id}/${deviceId}/session/${at.toISOString()}`);
        actions.push({
          kind: 'session',
          barnId: b.barn_id,
          deviceId,
          at,
          eventId: eventId(farm, b.barn_id, deviceId, 'session', at),
          sessionId,
          flockId: facts.flockId,
          species: facts.breed.species,
          weighing: weighing(facts, farm, at, d),
        });
      }
    }
    for (const deviceId of b.feed_dispensers) {
      for (const at of slots(start, to, cadence.feed_interval_s)) {
        const day = localClock(at.toISOString(), farm.time_zone).day;
        const d = new Draws(seed, `${farm.farm_id}/${b.barn_id}/${deviceId}/feed/${at.toISOString()}`);
        const share = Math.min(1, cadence.feed_interval_s / 86_400) / b.feed_dispensers.length;
        const quantityKg = round(dailyFeedKg(facts, day, seed) * share * d.between(0.97, 1.03), 3);
        if (quantityKg < 0.001) continue;
        const age = ageAt(facts, at);
        actions.push({
          kind: 'feed',
          barnId: b.barn_id,
          deviceId,
          at,
          eventId: eventId(farm, b.barn_id, deviceId, 'feed', at),
          quantityKg,
          feedType: facts.breed.feedType(age),
          animalCount: headOn(facts, day, seed).headAtStart,
        });
      }
    }
    for (const deviceId of b.mortality_counters) {
      for (const at of slots(start, to, cadence.mortality_interval_s)) {
        // The farm-local day, as the farm server files it (EDGE_FARM_TIME_ZONE).
        const clock = localClock(at.toISOString(), farm.time_zone);
        const day = clock.day;
        const { deaths } = headOn(facts, day, seed);
        // The running count of the day up to the end of this report's interval.
        const elapsed = Math.min(1, clock.elapsedShare + cadence.mortality_interval_s / 86_400);
        const total = Math.round(deaths * elapsed);
        const culled = Math.floor(total / 5);
        actions.push({
          kind: 'mortality',
          barnId: b.barn_id,
          deviceId,
          at,
          eventId: eventId(farm, b.barn_id, deviceId, 'mortality', at),
          flockId: facts.flockId,
          day,
          dead: total - culled,
          culled,
        });
      }
    }
  }
  return actions.sort(
    (x, y) => x.at.getTime() - y.at.getTime() || x.barnId.localeCompare(y.barnId) || x.deviceId.localeCompare(y.deviceId) || x.eventId.localeCompare(y.eventId),
  );
}
