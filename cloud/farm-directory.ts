/**
 * The cloud's farm directory as an operator (or the demo setup) changes it: the only writer of the
 * `farms` and `barns` tables (migration cloud/0001). Insight requests (insights/insight-directory.ts)
 * and the KPI aggregation (insights/aggregation.ts) read them: an insight for a barn the directory
 * lacks is refused. Every statement runs inside `withTenant`, so it works on the owner pool and on
 * farmiq_app alike, whose row-level security (migration 0006) admits only that tenant's rows.
 *
 * A barn's current animals are its flock now (flocks, from the edge); the older directory figures
 * `barns.animal_count` / `placed_at` are left as they are and not set here. The dashboard's views
 * of farms and barns (their barn and device counts, the barn's flock with its age and head count)
 * are read here too; flocks themselves are written only by cloud/consumers/flock-service.ts.
 */
import { isTimeZone } from '../domain/calendar/local-clock';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { withTenant } from '../auth/tenant-db';
import { sqlState } from '../db/errors';
import { daysBetween } from '../domain/calendar/days';
import { topicSegment } from '../domain/contracts/envelope';
import { flockSpecies } from '../domain/contracts/flock-payloads';
import { effectiveDailyLosses, farmDayOf, headCountOn } from '../flocks/head-count';

/** Why a directory change was refused (a script tells them apart by the code). */
export class DirectoryRefusal extends Error {
  constructor(
    readonly code:
      'unknown_tenant' | 'unknown_farm' | 'unknown_barn' | 'unknown_device' | 'farm_exists' | 'barn_exists' | 'device_exists' | 'invalid_comfort_band',
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

export async function assertFarm(client: PoolClient, tenantId: string, farmId: string): Promise<void> {
  const r = await client.query('SELECT 1 FROM farms WHERE tenant_id = $1 AND farm_id = $2', [tenantId, farmId]);
  if (r.rowCount === 0) throw new DirectoryRefusal('unknown_farm', `no farm ${farmId} in tenant ${tenantId}`);
}

/** The farm first (an unknown farm is refused as such), then its barn. */
export async function assertBarn(client: PoolClient, tenantId: string, farmId: string, barnId: string): Promise<void> {
  await assertFarm(client, tenantId, farmId);
  const r = await client.query('SELECT 1 FROM barns WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3', [tenantId, farmId, barnId]);
  if (r.rowCount === 0) throw new DirectoryRefusal('unknown_barn', `no barn ${barnId} on farm ${farmId}`);
}

/** Runs `work` scoped to an existing tenant (a malformed or unknown id is refused first). */
export async function inTenant<T>(pool: Pool, tenantId: string, work: (client: PoolClient, tenantId: string) => Promise<T>): Promise<T> {
  const id = z.uuid().parse(tenantId).toLowerCase();
  return withTenant(pool, id, async (client) => {
    await assertTenant(client, id);
    return work(client, id);
  });
}

/** A unique violation is the row already there: refused with `refusal`; anything else as it is. */
export function duplicate(err: unknown, refusal: DirectoryRefusal): unknown {
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

// ── The dashboard's directory (gateways/http/directory/): changes and views ────────────────────

const comfortBandMessage = 'give both ends of the comfort band (minimum below maximum), or neither';

/** What an admin may change on a farm; a comfort band end set to null clears the band. */
export const farmChangeSchema = z.object({
  name: newFarmSchema.shape.name.optional(),
  species: newFarmSchema.shape.species.optional(),
  timezone: timeZone.optional(),
  comfortTempMinC: comfortC.nullable().optional(),
  comfortTempMaxC: comfortC.nullable().optional(),
});
export type FarmChange = z.input<typeof farmChangeSchema>;

export const barnChangeSchema = z.object({ name: newBarnSchema.shape.name });
export type BarnChange = z.input<typeof barnChangeSchema>;

export interface FarmSummary extends Farm {
  barnCount: number;
}

/** A placed flock as the dashboard shows it: its age and head count on the farm's day. */
export interface FlockView {
  flockId: string;
  farmId: string;
  barnId: string;
  species: string;
  breed: string;
  sex: string | null;
  headCountPlaced: number;
  placedAt: Date;
  depopulatedAt: Date | null;
  /** Age on the farm's today, or on its depopulation day once it has left. */
  ageDays: number;
  /** Closing head count of the farm's today (flocks/head-count.ts); 0 once depopulated. */
  headCount: number;
}

export interface BarnSummary extends Barn {
  /** The current flock's species, else the farm's. */
  species: string;
  currentFlock: FlockView | null;
  deviceCount: number;
}

const summaryColumns = `${farmColumns}, (SELECT count(*) FROM barns b WHERE b.tenant_id = farms.tenant_id AND b.farm_id = farms.farm_id)::int AS barn_count`;

const toSummary = (r: FarmRow & { barn_count: number }): FarmSummary => ({ ...toFarm(r), barnCount: r.barn_count });

async function farmRow(client: PoolClient, tenantId: string, farmId: string): Promise<FarmSummary> {
  const r = await client.query<FarmRow & { barn_count: number }>(`SELECT ${summaryColumns} FROM farms WHERE tenant_id = $1 AND farm_id = $2`, [
    tenantId,
    farmId,
  ]);
  if (r.rowCount === 0) throw new DirectoryRefusal('unknown_farm', `no farm ${farmId} in tenant ${tenantId}`);
  return toSummary(r.rows[0]);
}

/** The tenant's farms with their barn counts. */
export async function farmSummaries(pool: Pool, tenantId: string): Promise<FarmSummary[]> {
  return inTenant(pool, tenantId, async (client, id) => {
    const r = await client.query<FarmRow & { barn_count: number }>(`SELECT ${summaryColumns} FROM farms WHERE tenant_id = $1 ORDER BY farm_id`, [id]);
    return r.rows.map(toSummary);
  });
}

export async function getFarm(pool: Pool, tenantId: string, farmId: string): Promise<FarmSummary> {
  return inTenant(pool, tenantId, (client, id) => farmRow(client, id, farmId));
}

/** Changes the given fields; the comfort band must still be whole (both ends, min below max) or absent. */
export async function updateFarm(pool: Pool, tenantId: string, farmId: string, change: FarmChange): Promise<FarmSummary> {
  const c = farmChangeSchema.parse(change);
  return inTenant(pool, tenantId, async (client, id) => {
    const held = await client.query<FarmRow>(`SELECT ${farmColumns} FROM farms WHERE tenant_id = $1 AND farm_id = $2 FOR UPDATE`, [id, farmId]);
    if (held.rowCount === 0) throw new DirectoryRefusal('unknown_farm', `no farm ${farmId} in tenant ${id}`);
    const was = toFarm(held.rows[0]);
    const min = c.comfortTempMinC === undefined ? was.comfortTempMinC : c.comfortTempMinC;
    const max = c.comfortTempMaxC === undefined ? was.comfortTempMaxC : c.comfortTempMaxC;
    if ((min === null) !== (max === null) || (min !== null && max !== null && min >= max)) {
      throw new DirectoryRefusal('invalid_comfort_band', `${comfortBandMessage}; it would be ${min ?? 'none'} to ${max ?? 'none'} °C`);
    }
    await client.query(
      `UPDATE farms SET name = $3, species = $4, timezone = $5, comfort_temp_min_c = $6, comfort_temp_max_c = $7 WHERE tenant_id = $1 AND farm_id = $2`,
      [id, farmId, c.name ?? was.name, c.species ?? was.species, c.timezone ?? was.timezone, min, max],
    );
    return farmRow(client, id, farmId);
  });
}

export async function updateBarn(pool: Pool, tenantId: string, farmId: string, barnId: string, change: BarnChange, now = new Date()): Promise<BarnSummary> {
  const c = barnChangeSchema.parse(change);
  return inTenant(pool, tenantId, async (client, id) => {
    await assertBarn(client, id, farmId, barnId);
    await client.query('UPDATE barns SET name = $4 WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3', [id, farmId, barnId, c.name]);
    return (await barnViews(client, id, farmId, barnId, now))[0];
  });
}

interface FlockRow {
  flock_id: string;
  farm_id: string;
  barn_id: string;
  species: string;
  breed: string;
  sex: string | null;
  head_count_placed: number;
  age_at_placement_days: number;
  placed_at: Date;
  depopulated_at: Date | null;
}

// Only placed flocks: a row made by a depopulation that arrived before its placement has no
// placement yet (cloud/consumers/flock-service.ts) and is no flock to show.
const flocksSql = `
SELECT flock_id::text, farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days, placed_at, depopulated_at
FROM flocks
WHERE tenant_id = $1 AND farm_id = $2 AND ($3::text IS NULL OR barn_id = $3) AND placed_at IS NOT NULL
  AND (NOT $4::boolean OR depopulated_at IS NULL)
ORDER BY barn_id, placed_at DESC, flock_id`;

const lossesSql = `
SELECT flock_id::text, to_char(day, 'YYYY-MM-DD') AS day, source, dead, culled
FROM flock_daily_counts WHERE tenant_id = $1 AND flock_id = ANY($2::uuid[])`;

async function flockViews(
  client: PoolClient,
  tenantId: string,
  farm: { farmId: string; timezone: string },
  opts: { barnId?: string; currentOnly: boolean; now: Date },
): Promise<FlockView[]> {
  const flocks = await client.query<FlockRow>(flocksSql, [tenantId, farm.farmId, opts.barnId ?? null, opts.currentOnly]);
  if (flocks.rowCount === 0) return [];
  const losses = await client.query<{ flock_id: string; day: string; source: 'device' | 'operator'; dead: number; culled: number }>(lossesSql, [
    tenantId,
    flocks.rows.map((f) => f.flock_id),
  ]);
  const tz = farm.timezone;
  const today = farmDayOf(opts.now.toISOString(), tz);
  return flocks.rows.map((f) => {
    const stay = { placedAt: f.placed_at.toISOString(), headPlaced: f.head_count_placed, depopulatedAt: f.depopulated_at?.toISOString() ?? null };
    const placedDay = farmDayOf(stay.placedAt, tz);
    const leftDay = stay.depopulatedAt === null ? null : farmDayOf(stay.depopulatedAt, tz);
    const lastDay = leftDay !== null && leftDay < today ? leftDay : today;
    const ageDay = lastDay < placedDay ? placedDay : lastDay; // a clock ahead of the farm's: no negative age
    return {
      flockId: f.flock_id,
      farmId: f.farm_id,
      barnId: f.barn_id,
      species: f.species,
      breed: f.breed,
      sex: f.sex,
      headCountPlaced: f.head_count_placed,
      placedAt: f.placed_at,
      depopulatedAt: f.depopulated_at,
      ageDays: f.age_at_placement_days + daysBetween(placedDay, ageDay),
      headCount: headCountOn(stay, effectiveDailyLosses(losses.rows.filter((l) => l.flock_id === f.flock_id)), tz, today),
    };
  });
}

async function barnViews(client: PoolClient, tenantId: string, farmId: string, barnId: string | undefined, now: Date): Promise<BarnSummary[]> {
  const farm = await farmRow(client, tenantId, farmId);
  if (barnId !== undefined) await assertBarn(client, tenantId, farmId, barnId);
  const barns = await client.query<BarnRow & { device_count: number }>(
    `SELECT ${barnColumns},
            (SELECT count(*) FROM devices d WHERE d.tenant_id = barns.tenant_id AND d.farm_id = barns.farm_id AND d.barn_id = barns.barn_id)::int AS device_count
     FROM barns WHERE tenant_id = $1 AND farm_id = $2 AND ($3::text IS NULL OR barn_id = $3) ORDER BY barn_id`,
    [tenantId, farmId, barnId ?? null],
  );
  const current = new Map<string, FlockView>();
  // Newest placement first per barn: should two be open at once, the newer is the barn's flock.
  for (const f of await flockViews(client, tenantId, farm, { barnId, currentOnly: true, now })) if (!current.has(f.barnId)) current.set(f.barnId, f);
  return barns.rows.map((b) => {
    const flock = current.get(b.barn_id) ?? null;
    return { ...toBarn(b), species: flock?.species ?? farm.species, currentFlock: flock, deviceCount: b.device_count };
  });
}

/** One farm with its barns as the dashboard shows them. */
export async function farmWithBarns(pool: Pool, tenantId: string, farmId: string, now = new Date()): Promise<{ farm: FarmSummary; barns: BarnSummary[] }> {
  return inTenant(pool, tenantId, async (client, id) => ({
    farm: await farmRow(client, id, farmId),
    barns: await barnViews(client, id, farmId, undefined, now),
  }));
}

/** The farm's barns (an unknown farm is refused), or its one barn `barnId`. */
export async function barnSummaries(pool: Pool, tenantId: string, farmId: string, barnId?: string, now = new Date()): Promise<BarnSummary[]> {
  return inTenant(pool, tenantId, (client, id) => barnViews(client, id, farmId, barnId, now));
}

/** Every flock placed in the barn, newest first (an unknown farm or barn is refused). */
export async function barnFlocks(pool: Pool, tenantId: string, farmId: string, barnId: string, now = new Date()): Promise<FlockView[]> {
  return inTenant(pool, tenantId, async (client, id) => {
    const farm = await farmRow(client, id, farmId);
    await assertBarn(client, id, farmId, barnId);
    return flockViews(client, id, farm, { barnId, currentOnly: false, now });
  });
}
