/**
 * The flock's mean weight on any day, by straight lines between the placement weight and the daily
 * mean weights; after the last weighing day the last weight holds. Used to estimate what the dead
 * weighed when nobody weighed them (mortality-adjusted FCR).
 */
import { daysBetween } from '../../domain/calendar/days';

export interface WeightAt {
  day: string;
  kg: number;
}

export function weightOnDay(points: readonly WeightAt[], day: string): number | null {
  const sorted = [...points].sort((a, b) => a.day.localeCompare(b.day));
  if (sorted.length === 0) return null;
  if (day <= sorted[0].day) return sorted[0].kg;
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (day <= b.day) return a.kg + ((b.kg - a.kg) * daysBetween(a.day, day)) / daysBetween(a.day, b.day);
  }
  return sorted[sorted.length - 1].kg;
}
