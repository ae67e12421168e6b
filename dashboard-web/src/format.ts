/** How numbers and times read on the dashboard. */

export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 90) return 'just now';
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export const metricLabel: Record<string, string> = {
  temperature: 'Temperature',
  humidity: 'Humidity',
  co2: 'CO₂',
  nh3: 'NH₃',
};

export const label = (metric: string): string => metricLabel[metric] ?? metric;

/** A unit as it reads: the API's "C" is degrees Celsius. */
export const unit = (u: string | null | undefined): string => (u === 'C' ? '°C' : (u ?? ''));

/** A machine word (too_few_weighing_days) as words. */
export const words = (code: string): string => code.replace(/_/g, ' ');

/** The calendar day of an instant in a time zone (en-CA writes YYYY-MM-DD). */
function dayIn(d: Date, timeZone: string | undefined): string {
  return d.toLocaleDateString('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
}

/**
 * A time as the farm says it: on the farm's clock (its time zone, not the browser's), "today 14:05",
 * "yesterday 23:10" or "3 Dec 14:05". An unknown time zone falls back to the browser's.
 */
export function farmTime(iso: string | null | undefined, timeZone?: string, now = Date.now()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  let tz = timeZone;
  try {
    if (tz) new Intl.DateTimeFormat(undefined, { timeZone: tz });
  } catch {
    tz = undefined;
  }
  const clock = d.toLocaleTimeString(undefined, { timeZone: tz, hour: '2-digit', minute: '2-digit' });
  const day = dayIn(d, tz);
  if (day === dayIn(new Date(now), tz)) return `today ${clock}`;
  if (day === dayIn(new Date(now - 86_400_000), tz)) return `yesterday ${clock}`;
  return `${d.toLocaleDateString(undefined, { timeZone: tz, month: 'short', day: 'numeric' })} ${clock}`;
}
