/**
 * Livability and mortality of a flock up to a day (docs/insights.md, "Mortality and livability").
 *
 *   mortality %        = deaths / head placed · 100
 *   culls %            = culls / head placed · 100
 *   total depletion %  = (deaths + culls) / head placed · 100   (the poultry convention for
 *                        "mortality incl. culls": every bird that left the flock before slaughter)
 *   livability %       = 100 − total depletion %
 *
 * Daily figures use the same denominator (head placed), so the daily percentages add up to the
 * cumulative ones; "per cent of the birds alive that morning" would not.
 */
import type { DailyLosses } from './flock';
import { round } from './stats';

export interface DayMortality {
  day: string;
  deaths: number;
  culls: number;
  mortalityPct: number;
  depletionPct: number;
}

export interface Mortality {
  headPlaced: number;
  deaths: number;
  culls: number;
  /** Head placed minus all losses up to and including the last day. */
  headAlive: number;
  mortalityPct: number;
  cullsPct: number;
  depletionPct: number;
  livabilityPct: number;
  daily: DayMortality[];
}

/** Losses of the days from `fromDay` (the placement day) to `toDay` inclusive; null without a head count. */
export function mortality(headPlaced: number, losses: readonly DailyLosses[], fromDay: string, toDay: string): Mortality | null {
  if (!(headPlaced > 0)) return null;
  const days = losses.filter((l) => l.day >= fromDay && l.day <= toDay).sort((a, b) => a.day.localeCompare(b.day));
  const pct = (n: number) => (n / headPlaced) * 100;
  const deaths = days.reduce((n, l) => n + l.deaths, 0);
  const culls = days.reduce((n, l) => n + l.culls, 0);
  return {
    headPlaced,
    deaths,
    culls,
    headAlive: Math.max(0, headPlaced - deaths - culls),
    mortalityPct: round(pct(deaths), 3),
    cullsPct: round(pct(culls), 3),
    depletionPct: round(pct(deaths + culls), 3),
    livabilityPct: round(100 - pct(deaths + culls), 3),
    daily: days.map((l) => ({
      day: l.day,
      deaths: l.deaths,
      culls: l.culls,
      mortalityPct: round(pct(l.deaths), 3),
      depletionPct: round(pct(l.deaths + l.culls), 3),
    })),
  };
}
