/**
 * The species of the flock a barn holds now (table flocks, written by flocks/flock-store.ts; read
 * here only). WeighVision asks it whether its model serves a station's animals: a pig model at a
 * broiler barn is not used. All in, all out: a barn has at most one placed flock.
 */
import type { Queryable } from '../db/transaction';
import type { FlockSpecies } from '../domain/contracts/flock-payloads';

/** The current (placed, not depopulated) flock's species; undefined when the barn holds no flock. */
export async function barnSpecies(db: Queryable, tenantId: string, farmId: string, barnId: string): Promise<FlockSpecies | undefined> {
  const r = await db.query<{ species: FlockSpecies }>(
    `SELECT species FROM flocks WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND status = 'placed'`,
    [tenantId, farmId, barnId],
  );
  return r.rows[0]?.species;
}
