/**
 * Feed per animal-day over real animal-days (docs/insights.md, "Feed per animal-day"):
 *
 *   feed per animal-day = Σ feed kg / Σ animal-days
 *
 * over every day the flock was in the barn within the period — days without any dispense included
 * (they add animal-days and no feed, and are listed, so a feeder outage shows), the placement and
 * depopulation days by the share of the farm-local day the flock was there (flocks/head-count.ts,
 * the one head-count convention of the edge and the cloud).
 * Feed dispensed on a day the flock was not in the barn (before placement, after depopulation) is
 * not the flock's and is left out.
 */
import type { AnimalDay } from '../../flocks/head-count';
import type { DailyFeedKg } from './flock';
import { round } from './stats';

export interface FeedPerAnimalDay {
  feedKg: number;
  animalDays: number;
  /** null when the period holds no animal-days. */
  perAnimalDayKg: number | null;
  /** Days in the barn (present share > 0). */
  daysInBarn: number;
  /** Days in the barn with no feed recorded at all. */
  zeroFeedDays: string[];
}

export function feedPerAnimalDay(days: readonly AnimalDay[], feed: readonly DailyFeedKg[]): FeedPerAnimalDay {
  const kgByDay = new Map<string, number>();
  for (const f of feed) kgByDay.set(f.day, (kgByDay.get(f.day) ?? 0) + f.kg);
  const present = days.filter((d) => d.presentShare > 0 && d.openingHead > 0);
  let feedKg = 0;
  let animalDays = 0;
  const zeroFeedDays: string[] = [];
  for (const d of present) {
    const kg = kgByDay.get(d.day) ?? 0;
    if (kg <= 0) zeroFeedDays.push(d.day);
    feedKg += kg;
    animalDays += d.animalDays;
  }
  return {
    feedKg: round(feedKg, 3),
    animalDays: round(animalDays, 3),
    perAnimalDayKg: animalDays > 0 ? round(feedKg / animalDays, 4) : null,
    daysInBarn: present.length,
    zeroFeedDays,
  };
}
