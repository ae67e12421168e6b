/**
 * Head count and animal-days of a flock from its placement and daily losses, in the farm's own
 * days: the one convention the edge operator API and the cloud KPIs (insights/kpis) both compute
 * with. Pure functions.
 *
 * Conventions (docs/flocks.md, docs/insights.md "Feed per animal-day"):
 * - Days are the farm's calendar days `YYYY-MM-DD` in its IANA time zone: the day a loss is
 *   recorded for (flock.mortality.recorded's `day`), and the local day and clock time of
 *   `placedAt` / `depopulatedAt`. A placement at 23:30 UTC is the next day's in Bangkok.
 * - A day's deaths and culls leave at the end of that day's count: the head count on a day is the
 *   closing count = placed − Σ(dead + culled) over the days from placement up to that day; 0
 *   before the placement day and from the depopulation day on. Never below 0. Losses recorded for
 *   a day before the placement day are not the flock's.
 * - Animal-days of a day = share of the day the flock was in the barn × the mean of the opening
 *   and closing head count (an animal lost that day lived half of it, the usual average-inventory
 *   convention). The placement day counts from `placedAt` to local midnight, the depopulation day
 *   from local midnight to `depopulatedAt` (its closing count is what was left before the animals
 *   were loaded out). The share is local clock time / 24 h (domain/calendar/local-clock.ts).
 */
import { addDays, daysBetween } from '../domain/calendar/days';
import { localClock } from '../domain/calendar/local-clock';

/** A flock's stay in its barn: when it came, how many, and when it left. */
export interface FlockStay {
  /** ISO time with offset. */
  placedAt: string;
  headPlaced: number;
  /** ISO time with offset, or null while the flock is in the barn. */
  depopulatedAt: string | null;
}

/** One farm day's losses. */
export interface DailyLoss {
  day: string;
  dead: number;
  culled: number;
}

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

/** The farm-local calendar day of an instant. */
export function farmDayOf(instant: string, timeZone: string): string {
  return localClock(instant, timeZone).day;
}

/** One row per farm day from `from` to `to` inclusive (see the conventions above). */
export function animalDaysByDay(flock: FlockStay, losses: readonly DailyLoss[], timeZone: string, from: string, to: string): AnimalDay[] {
  const placed = localClock(flock.placedAt, timeZone);
  const depop = flock.depopulatedAt === null ? null : localClock(flock.depopulatedAt, timeZone);
  const lossesOn = new Map<string, number>();
  for (const l of losses) if (l.day >= placed.day) lossesOn.set(l.day, (lossesOn.get(l.day) ?? 0) + l.dead + l.culled);
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

/** Head count at the end of the farm day `day`. */
export function headCountOn(flock: FlockStay, losses: readonly DailyLoss[], timeZone: string, day: string): number {
  return animalDaysByDay(flock, losses, timeZone, day, day)[0].headCount;
}

/** Animal-days over the farm days `from` to `to`, both included. */
export function animalDays(flock: FlockStay, losses: readonly DailyLoss[], timeZone: string, from: string, to: string): number {
  return animalDaysByDay(flock, losses, timeZone, from, to).reduce((n, d) => n + d.animalDays, 0);
}

/**
 * One figure per day from the records of both sources: the operator's count of a day stands over
 * a device's (a person corrected the counter); otherwise the device's.
 */
export function effectiveDailyLosses(records: readonly (DailyLoss & { source: 'device' | 'operator' })[]): DailyLoss[] {
  const byDay = new Map<string, DailyLoss & { source: 'device' | 'operator' }>();
  for (const r of records) {
    const held = byDay.get(r.day);
    if (!held || (held.source === 'device' && r.source === 'operator')) byDay.set(r.day, r);
  }
  return [...byDay.values()].map(({ day, dead, culled }) => ({ day, dead, culled })).sort((a, b) => (a.day < b.day ? -1 : 1));
}
