/** A flock as the edge holds it (table flocks), and one day's recorded losses (flock_daily_counts). */
import type { FlockSex, FlockSpecies, MortalitySource } from '../domain/contracts/flock-payloads';
import type { FlockStay } from './head-count';

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
  /** Mean body weight at placement, kg, when the operator recorded it. */
  placementWeightKg: number | null;
  /** ISO time. */
  placedAt: string;
  status: 'placed' | 'depopulated';
  depopulatedAt: string | null;
}

/** A flock as the operator API and `farmiq flocks` answer it (snake_case, the wire's words). */
export function flockJson(f: Flock) {
  return {
    tenant_id: f.tenantId,
    flock_id: f.flockId,
    farm_id: f.farmId,
    barn_id: f.barnId,
    species: f.species,
    breed: f.breed,
    sex: f.sex,
    head_count_placed: f.headCountPlaced,
    age_at_placement_days: f.ageAtPlacementDays,
    placement_weight_kg: f.placementWeightKg,
    placed_at: f.placedAt,
    status: f.status,
    depopulated_at: f.depopulatedAt,
  };
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
export function flockStay(f: Flock): FlockStay {
  return { placedAt: f.placedAt, headPlaced: f.headCountPlaced, depopulatedAt: f.depopulatedAt };
}
