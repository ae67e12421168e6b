/**
 * A barn's climate at a moment: the age-dependent set-point plus the day's swing (warmest mid
 * afternoon, coolest before dawn, local time), with humidity falling as the house warms, CO2
 * highest at night when the fans run slow, and ammonia building with the litter or slurry.
 */
import { localClock } from '../../domain/calendar/local-clock';
import type { Breed } from './breeds';
import { atAge } from './curve';

export interface ClimateState {
  temperatureC: number;
  humidityPct: number;
  co2Ppm: number;
  nh3Ppm: number;
}

/** −1 at 03:00 local, +1 at 15:00. */
export function dailyPhase(at: Date, timeZone: string): number {
  const hour = localClock(at.toISOString(), timeZone).elapsedShare * 24;
  return Math.sin(((hour - 9) / 24) * 2 * Math.PI);
}

/** The house's true climate, before sensor noise. */
export function climateAt(breed: Breed, ageDays: number, at: Date, timeZone: string, swingC = 1.5): ClimateState {
  const phase = dailyPhase(at, timeZone);
  const setPoint = atAge(breed.setPointC, ageDays);
  const ageShare = Math.min(1, ageDays / (breed.species === 'broiler' ? 42 : 180));
  return {
    temperatureC: setPoint + swingC * phase,
    humidityPct: 62 - 6 * phase,
    co2Ppm: (breed.species === 'broiler' ? 1500 : 1800) - 400 * phase,
    nh3Ppm: (breed.species === 'broiler' ? 4 : 8) + 10 * ageShare - 2 * phase,
  };
}
