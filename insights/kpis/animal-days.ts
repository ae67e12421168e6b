/**
 * Head count per day and animal-days of a flock — what feed per animal-day is divided by. The
 * convention is the one of flocks/head-count.ts (headCountOn / animalDays, the data side); the two
 * should become one module once that one is importable here. Differences: days here are the
 * farm's local days (the KPIs' days), there UTC days.
 *
 * - opening count of day D = head placed − deaths and culls of the days before D;
 *   closing count = opening − the losses of D (the head count "on" D is the closing count);
 * - animal-days of D = share of D the flock was in the barn × (opening + closing) / 2 — an animal
 *   lost during a day lived half of it (the usual average-inventory convention);
 * - the placement day counts the share of the day after `placedAt`, the depopulation day the share
 *   before `depopulatedAt`; days outside the stay count 0 and have head count 0 (from the
 *   depopulation day on, as headCountOn).
 */
import { addDays, daysBetween } from './calendar';
import type { DailyLosses, Flock } from './flock';
import { localClock } from './local-time';

export interface AnimalDay {
  day: string;
  /** Animals at the start of the day (at placement on the placement day). */
  openingHead: number;
  /** Animals at the end of the day; 0 from the depopulation day on. */
  headCount: number;
  /** Share of the day the flock was in the barn: 1, or less on the placement and depopulation days. */
  presentShare: number;
  animalDays: number;
}

/** One row per day from `from` to `to` inclusive. */
export function animalDaysByDay(flock: Flock, losses: readonly DailyLosses[], timeZone: string, from: string, to: string): AnimalDay[] {
  const placed = localClock(flock.placedAt, timeZone);
  const depop = flock.depopulatedAt === null ? null : localClock(flock.depopulatedAt, timeZone);
  const lossesOn = new Map<string, number>();
  for (const l of losses) if (l.day >= placed.day) lossesOn.set(l.day, (lossesOn.get(l.day) ?? 0) + l.deaths + l.culls);
  const lostBefore = (day: string) => [...lossesOn].reduce((n, [d, lost]) => (d < day ? n + lost : n), 0);
  const rows: AnimalDay[] = [];
  for (let i = 0, n = daysBetween(from, to); i <= n; i++) {
    const day = addDays(from, i);
    const outside = day < placed.day || (depop !== null && day > depop.day);
    const start = day === placed.day ? placed.elapsedShare : 0;
    const end = outside ? 0 : depop && day === depop.day ? depop.elapsedShare : 1;
    const presentShare = Math.max(0, end - start);
    const opening = outside ? 0 : Math.max(0, flock.headPlaced - lostBefore(day));
    const closing = Math.max(0, opening - (lossesOn.get(day) ?? 0));
    rows.push({
      day,
      openingHead: opening,
      headCount: depop && day >= depop.day ? 0 : closing,
      presentShare,
      animalDays: (presentShare * (opening + closing)) / 2,
    });
  }
  return rows;
}
