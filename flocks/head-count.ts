/**
 * Head count and animal-days of a flock from its placement and daily losses: pure functions, so
 * the KPIs (insights/) and the edge API compute them the same way.
 *
 * Conventions (docs/flocks.md):
 * - Days are calendar days `YYYY-MM-DD`; the time of day of placement and depopulation is read in
 *   UTC (`placed_at` / `depopulated_at` carry an offset; pass them in the farm's own day if needed).
 * - A day's deaths and culls leave at the end of that day's count: headCountOn(day) is the head
 *   count at the END of the day = placed − Σ(dead + culled) over days ≤ day; 0 before the placement
 *   day and from the depopulation day on. Never below 0.
 * - Animal-days of a day = fraction of the day the flock was in the barn × the mean of the
 *   opening and closing head count (an animal lost that day lived half of it, the usual
 *   average-inventory convention). The placement day counts from `placed_at` to midnight, the
 *   depopulation day from midnight to `depopulated_at` (its closing count is what was left
 *   before the animals were loaded out).
 */

export interface FlockSpan {
  /** ISO time with offset. */
  placed_at: string;
  head_count: number;
  /** ISO time with offset, or null while the flock is in the barn. */
  depopulated_at?: string | null;
}

export interface DailyLoss {
  day: string;
  dead: number;
  culled: number;
}

const dayMs = 86_400_000;

/** The UTC calendar day of an ISO time. */
export function dayOf(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().slice(0, 10);
}

function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function addDays(day: string, n: number): string {
  return new Date(dayStartMs(day) + n * dayMs).toISOString().slice(0, 10);
}

function lossesBy(counts: readonly DailyLoss[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of counts) m.set(c.day, (m.get(c.day) ?? 0) + c.dead + c.culled);
  return m;
}

function lostThrough(losses: Map<string, number>, day: string, inclusive: boolean): number {
  let sum = 0;
  for (const [d, n] of losses) if (inclusive ? d <= day : d < day) sum += n;
  return sum;
}

/** Head count at the end of `day` (see the conventions above). */
export function headCountOn(flock: FlockSpan, counts: readonly DailyLoss[], day: string): number {
  if (day < dayOf(flock.placed_at)) return 0;
  if (flock.depopulated_at && day >= dayOf(flock.depopulated_at)) return 0;
  return Math.max(0, flock.head_count - lostThrough(lossesBy(counts), day, true));
}

/** The share of `day` the flock was in the barn: 1 for a whole day, less on its first and last. */
export function presenceOn(flock: FlockSpan, day: string): number {
  const start = dayStartMs(day);
  const end = start + dayMs;
  const from = Math.max(start, Date.parse(flock.placed_at));
  const to = Math.min(end, flock.depopulated_at ? Date.parse(flock.depopulated_at) : end);
  return to > from ? (to - from) / dayMs : 0;
}

/** Animal-days over the days `from` to `to`, both included (see the conventions above). */
export function animalDays(flock: FlockSpan, counts: readonly DailyLoss[], from: string, to: string): number {
  const losses = lossesBy(counts);
  let total = 0;
  for (let day = from; day <= to; day = addDays(day, 1)) {
    const presence = presenceOn(flock, day);
    if (presence === 0) continue;
    const opening = Math.max(0, flock.head_count - lostThrough(losses, day, false));
    const closing = Math.max(0, opening - (losses.get(day) ?? 0));
    total += (presence * (opening + closing)) / 2;
  }
  return total;
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
