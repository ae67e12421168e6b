/** A flock as the edge holds it (table flocks), and one day's recorded losses (flock_daily_counts). */
import type { FlockSex, FlockSpecies, MortalitySource } from '../domain/contracts/flock-payloads';

export interface Flock {
  tenantId: string;
  flockId: string;
  farmId: string;
  barnId: string;
  species: FlockSpecies;
  breed: string;
  sex: FlockSex | null;
  headCountPlaced: number;
  ageAtPlacementDays: number;
  /** ISO time. */
  placedAt: string;
  status: 'placed' | 'depopulated';
  depopulatedAt: string | null;
}

export interface DailyCount {
  day: string;
  source: MortalitySource;
  dead: number;
  culled: number;
  reason: string | null;
  recordedAt: string;
}

/** A flock in the shape the pure head-count functions take. */
export function flockSpan(f: Flock) {
  return { placed_at: f.placedAt, head_count: f.headCountPlaced, depopulated_at: f.depopulatedAt };
}
