/**
 * A flock's life day by day: its age, the day's deaths (drawn from the breed's daily rate, the
 * same for a day whatever window is played), the head count left, and the feed it eats.
 */
import { Draws } from '../random';
import type { Breed } from './breeds';
import { atAge } from './curve';

export interface FlockFacts {
  flockId: string;
  breed: Breed;
  headPlaced: number;
  ageAtPlacementDays: number;
  /** Midnight UTC of the placement day. */
  placedDay: string;
}

const dayMs = 86_400_000;

export function dayIndex(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / dayMs);
}

export function dayOfIndex(index: number): string {
  return new Date(index * dayMs).toISOString().slice(0, 10);
}

/** Age in days (fractional) at a moment; the placement day's midnight is the placement age. */
export function ageAt(f: FlockFacts, at: Date): number {
  return f.ageAtPlacementDays + (at.getTime() - Date.parse(`${f.placedDay}T00:00:00Z`)) / dayMs;
}

/** The deaths on farm day `day`, given the head alive at its start: rate × head, ±30 %, rounded. */
export function deathsOn(f: FlockFacts, day: string, headAtStart: number, seed: number): number {
  const age = f.ageAtPlacementDays + (dayIndex(day) - dayIndex(f.placedDay));
  const expected = atAge(f.breed.dailyMortality, age) * headAtStart;
  const d = new Draws(seed, `${f.flockId}/deaths/${day}`);
  return Math.max(0, Math.round(expected * d.between(0.7, 1.3)));
}

/** Head alive at the start of `day` and that day's deaths (days before placement: the placed head, none). */
export function headOn(f: FlockFacts, day: string, seed: number): { headAtStart: number; deaths: number } {
  let head = f.headPlaced;
  const first = dayIndex(f.placedDay);
  const target = dayIndex(day);
  for (let i = first; i < target; i++) head -= deathsOn(f, dayOfIndex(i), head, seed);
  return { headAtStart: head, deaths: target < first ? 0 : deathsOn(f, day, head, seed) };
}

/** The flock's feed for one day, kg: intake per head at the day's age × head alive. */
export function dailyFeedKg(f: FlockFacts, day: string, seed: number): number {
  const age = f.ageAtPlacementDays + (dayIndex(day) - dayIndex(f.placedDay));
  return atAge(f.breed.feedKgPerHeadDay, age) * headOn(f, day, seed).headAtStart;
}
