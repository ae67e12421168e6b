/**
 * How every farm-data read model reaches the database: inside withTenant on the tenant pool (row-level
 * security), read-only, with a statement timeout, and after checking that the farm (and barn) is the
 * tenant's. Another tenant's farm is not there: FarmDataNotFound, which the API answers 404.
 */
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../../auth/tenant-db';

/** What the read models need of a farm: its species and time zone decide bands and days. */
export interface FarmContext {
  tenantId: string;
  farmId: string;
  name: string;
  species: string;
  timezone: string;
  comfortBand: { minC: number; maxC: number } | null;
}

export class FarmDataNotFound extends Error {
  constructor(what: string) {
    super(`${what} does not exist for this tenant`);
    this.name = 'FarmDataNotFound';
  }
}

/** Runs `fn` under the tenant's row-level security, read-only, each statement at most 10 s. */
export async function readForTenant<T>(pool: Pool, tenantId: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withTenant(pool, tenantId, async (client) => {
    // READ ONLY may be set after the tenant setting's query; read-write could not.
    await client.query(`SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '10s'; SET LOCAL jit = off`);
    return fn(client);
  });
}

interface FarmRow {
  farm_id: string;
  name: string;
  species: string;
  timezone: string;
  comfort_min: number | null;
  comfort_max: number | null;
  barn_found: boolean;
}

/** The farm, refused as not found unless it is the tenant's (and `barnId`, when given, one of its barns). */
export async function farmContext(client: PoolClient, tenantId: string, farmId: string, barnId?: string): Promise<FarmContext> {
  const r = await client.query<FarmRow>(
    `SELECT farm_id, name, species, timezone, comfort_temp_min_c::float8 AS comfort_min, comfort_temp_max_c::float8 AS comfort_max,
            ($3::text IS NULL OR EXISTS (SELECT 1 FROM barns b WHERE b.tenant_id = f.tenant_id AND b.farm_id = f.farm_id AND b.barn_id = $3)) AS barn_found
     FROM farms f WHERE f.tenant_id = $1 AND f.farm_id = $2`,
    [tenantId, farmId, barnId ?? null],
  );
  const f = r.rows[0];
  if (!f) throw new FarmDataNotFound(`farm ${farmId}`);
  if (!f.barn_found) throw new FarmDataNotFound(`barn ${barnId} of farm ${farmId}`);
  return {
    tenantId,
    farmId: f.farm_id,
    name: f.name,
    species: f.species,
    timezone: f.timezone,
    comfortBand: f.comfort_min !== null && f.comfort_max !== null ? { minC: f.comfort_min, maxC: f.comfort_max } : null,
  };
}

/** A farm-local day (YYYY-MM-DD) of an instant, as the database computes it in the farm's zone. */
export const localDaySql = (column: string, zoneParam: string) => `to_char((${column} AT TIME ZONE ${zoneParam})::date, 'YYYY-MM-DD')`;
