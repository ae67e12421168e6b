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
