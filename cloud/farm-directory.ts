/**
 * The cloud's farm directory as an operator (or the demo setup) changes it: the only writer of the
 * `farms` and `barns` tables (migration cloud/0001). Insight requests (insights/insight-directory.ts)
 * and the KPI aggregation (insights/aggregation.ts) read them: an insight for a barn the directory
 * lacks is refused. Every statement runs inside `withTenant`, so it works on the owner pool and on
 * farmiq_app alike, whose row-level security (migration 0006) admits only that tenant's rows.
 *
 * A barn's current animals are its flock now (flocks, from the edge); the older directory figures
 * `barns.animal_count` / `placed_at` are left as they are and not set here.
 */
import { isTimeZone } from '../domain/calendar/local-clock';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { withTenant } from '../auth/tenant-db';
import { sqlState } from '../db/errors';
import { topicSegment } from '../domain/contracts/envelope';
import { flockSpecies } from '../domain/contracts/flock-payloads';

/** Why a directory change was refused (a script tells them apart by the code). */
export class DirectoryRefusal extends Error {
  constructor(
    readonly code: 'unknown_tenant' | 'unknown_farm' | 'farm_exists' | 'barn_exists',
    message: string,
  ) {
    super(message);
  }
}

const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Amsterdam');

const comfortC = z.number().min(-50).max(99.9);

export const newFarmSchema = z
  .object({
    tenantId: z.uuid(),
    farmId: topicSegment,
    name: z.string().trim().min(1).max(200),
    /** Selects the reference growth curve and comfort bands (insights/kpis/species.ts). */
    species: z.enum(flockSpecies),
    /** Where the farm's day starts for its daily KPIs. */
    timezone: timeZone.default('UTC'),
    comfortTempMinC: comfortC.optional(),
    comfortTempMaxC: comfortC.optional(),
  })
  .refine((f) => f.comfortTempMinC === undefined || f.comfortTempMaxC === undefined || f.comfortTempMinC < f.comfortTempMaxC, {
    message: 'the comfort band minimum must be below its maximum',
    path: ['comfortTempMinC'],
  })
  .refine((f) => (f.comfortTempMinC === undefined) === (f.comfortTempMaxC === undefined), {
    message: 'give both ends of the comfort band, or neither',
    path: ['comfortTempMaxC'],
  });
export type NewFarm = z.input<typeof newFarmSchema>;

export const newBarnSchema = z.object({
  tenantId: z.uuid(),
  farmId: topicSegment,
  barnId: topicSegment,
  name: z.string().trim().min(1).max(200),
});
export type NewBarn = z.input<typeof newBarnSchema>;

export interface Farm {
  tenantId: string;
  farmId: string;
  name: string;
  species: string;
  timezone: string;
  comfortTempMinC: number | null;
  comfortTempMaxC: number | null;
  createdAt: Date;
}

export interface Barn {
  tenantId: string;
  farmId: string;
  barnId: string;
  name: string;
  createdAt: Date;
}

const farmColumns = `tenant_id::text, farm_id, name, species, timezone, comfort_temp_min_c::float8, comfort_temp_max_c::float8, created_at`;
const barnColumns = `tenant_id::text, farm_id, barn_id, name, created_at`;

interface FarmRow {
  tenant_id: string;
  farm_id: string;
  name: string;
  species: string;
  timezone: string;
  comfort_temp_min_c: number | null;
  comfort_temp_max_c: number | null;
  created_at: Date;
}

interface BarnRow {
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  name: string;
  created_at: Date;
}

const toFarm = (r: FarmRow): Farm => ({
  tenantId: r.tenant_id,
  farmId: r.farm_id,
  name: r.name,
  species: r.species,
  timezone: r.timezone,
  comfortTempMinC: r.comfort_temp_min_c,
  comfortTempMaxC: r.comfort_temp_max_c,
  createdAt: r.created_at,
});

const toBarn = (r: BarnRow): Barn => ({ tenantId: r.tenant_id, farmId: r.farm_id, barnId: r.barn_id, name: r.name, createdAt: r.created_at });

/** The tenants row is visible only to its owner role here (RLS on tenants shows a tenant itself). */
async function assertTenant(client: PoolClient, tenantId: string): Promise<void> {
  const r = await client.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  if (r.rowCount === 0) throw new DirectoryRefusal('unknown_tenant', `no tenant ${tenantId}`);
}

async function assertFarm(client: PoolClient, tenantId: string, farmId: string): Promise<void> {
  const r = await client.query('SELECT 1 FROM farms WHERE tenant_id = $1 AND farm_id = $2', [tenantId, farmId]);
  if (r.rowCount === 0) throw new DirectoryRefusal('unknown_farm', `no farm ${farmId} in tenant ${tenantId}`);
}

/** Runs `work` scoped to an existing tenant (a malformed or unknown id is refused first). */
async function inTenant<T>(pool: Pool, tenantId: string, work: (client: PoolClient, tenantId: string) => Promise<T>): Promise<T> {
  const id = z.uuid().parse(tenantId).toLowerCase();
  return withTenant(pool, id, async (client) => {
    await assertTenant(client, id);
    return work(client, id);
  });
}

/** A unique violation is the row already there: refused with `refusal`; anything else as it is. */
function duplicate(err: unknown, refusal: DirectoryRefusal): unknown {
  return sqlState(err) === '23505' ? refusal : err;
}

export async function createFarm(pool: Pool, input: NewFarm): Promise<Farm> {
  const f = newFarmSchema.parse({ ...input, tenantId: input.tenantId.toLowerCase() });
  return inTenant(pool, f.tenantId, async (client) => {
    const r = await client
      .query<FarmRow>(
        `INSERT INTO farms (tenant_id, farm_id, name, species, timezone, comfort_temp_min_c, comfort_temp_max_c)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${farmColumns}`,
        [f.tenantId, f.farmId, f.name, f.species, f.timezone, f.comfortTempMinC ?? null, f.comfortTempMaxC ?? null],
      )
      .catch((err: unknown) => {
        throw duplicate(err, new DirectoryRefusal('farm_exists', `tenant ${f.tenantId} already has a farm ${f.farmId}`));
      });
    return toFarm(r.rows[0]);
  });
}

export async function listFarms(pool: Pool, tenantId: string): Promise<Farm[]> {
  return inTenant(pool, tenantId, async (client, id) => {
    const r = await client.query<FarmRow>(`SELECT ${farmColumns} FROM farms WHERE tenant_id = $1 ORDER BY farm_id`, [id]);
    return r.rows.map(toFarm);
  });
}

export async function createBarn(pool: Pool, input: NewBarn): Promise<Barn> {
  const b = newBarnSchema.parse({ ...input, tenantId: input.tenantId.toLowerCase() });
  return inTenant(pool, b.tenantId, async (client) => {
    await assertFarm(client, b.tenantId, b.farmId);
    const r = await client
      .query<BarnRow>(`INSERT INTO barns (tenant_id, farm_id, barn_id, name) VALUES ($1, $2, $3, $4) RETURNING ${barnColumns}`, [
        b.tenantId,
        b.farmId,
        b.barnId,
        b.name,
      ])
      .catch((err: unknown) => {
        throw duplicate(err, new DirectoryRefusal('barn_exists', `farm ${b.farmId} already has a barn ${b.barnId}`));
      });
    return toBarn(r.rows[0]);
  });
}

/** The tenant's barns, of one farm when `farmId` is given (which must then exist). */
export async function listBarns(pool: Pool, tenantId: string, farmId?: string): Promise<Barn[]> {
  return inTenant(pool, tenantId, async (client, id) => {
    if (farmId !== undefined) await assertFarm(client, id, farmId);
    const r = await client.query<BarnRow>(
      `SELECT ${barnColumns} FROM barns WHERE tenant_id = $1 AND ($2::text IS NULL OR farm_id = $2) ORDER BY farm_id, barn_id`,
      [id, farmId ?? null],
    );
    return r.rows.map(toBarn);
  });
}
