/**
 * The flock each barn of a farm holds now and its age, for the `age_band` rules (table flocks,
 * written by flocks/flock-store.ts; read here only, like flocks/barn-species.ts). All in, all
 * out: a barn holds at most one placed flock.
 */
import type { Queryable } from '../db/transaction';
import type { BarnFlock } from './rules';

export async function barnFlocks(db: Queryable, tenantId: string, farmId: string, now: Date = new Date()): Promise<Map<string, BarnFlock>> {
  const r = await db.query<{ barn_id: string; species: string; placed_at: Date; age_at_placement_days: number }>(
    `SELECT barn_id, species, placed_at, age_at_placement_days FROM flocks WHERE tenant_id = $1 AND farm_id = $2 AND status = 'placed'`,
    [tenantId, farmId],
  );
  const out = new Map<string, BarnFlock>();
  for (const f of r.rows) {
    const ageDays = f.age_at_placement_days + (now.getTime() - f.placed_at.getTime()) / 86_400_000;
    out.set(f.barn_id, { barnId: f.barn_id, species: f.species, ageDays });
  }
  return out;
}
