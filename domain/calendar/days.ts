/**
 * Calendar days as `YYYY-MM-DD` strings (a farm's local day, computed by the database in the
 * farm's time zone). Day arithmetic is done in UTC on those labels, so it has no time-zone or
 * daylight-saving surprises.
 */

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

function dayNumber(day: string): number {
  if (!dayPattern.test(day)) throw new RangeError(`not a YYYY-MM-DD day: ${JSON.stringify(day)}`);
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

export function addDays(day: string, days: number): string {
  return new Date((dayNumber(day) + days) * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Animal age in days on `day` for a placement: age at placement + days since placement
 * (migration 0001, barns). Null when the barn has no placement date.
 */
export function ageOnDay(day: string, placement: { placedAt: string | null; ageAtPlacementDays: number }): number | null {
  if (placement.placedAt === null) return null;
  return placement.ageAtPlacementDays + daysBetween(placement.placedAt, day);
}
